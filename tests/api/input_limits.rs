//! Bounded input: XLSX bombs and over-wide CSV headers get a 4xx, and the
//! server keeps answering.

use std::io::{Cursor, Write};

use crate::helpers::{assert_problem, Backend, TestApp};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A small valid workbook (header and one row, with shared strings), as
/// rust_xlsxwriter writes it.
fn base_workbook() -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (column, name) in ["committee", "indicator", "period", "value"]
        .into_iter()
        .enumerate()
    {
        sheet.write_string(0, column as u16, name).unwrap();
    }
    sheet.write_string(1, 0, "hanam-business-bloc").unwrap();
    sheet.write_string(1, 1, "revenue").unwrap();
    sheet.write_string(1, 2, "2022-Q1").unwrap();
    sheet.write_number(1, 3, 100.0).unwrap();
    workbook.save_to_buffer().unwrap()
}

/// The base workbook with some parts replaced (or added): each new part is
/// written by `fill`, in pieces, so a large one never sits in memory.
fn patched(replace: &[&str], fill: impl FnOnce(&mut zip::ZipWriter<Cursor<Vec<u8>>>)) -> Vec<u8> {
    let base = base_workbook();
    let mut archive = zip::ZipArchive::new(Cursor::new(base)).unwrap();
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for index in 0..archive.len() {
        let part = archive.by_index(index).unwrap();
        let name = part.name().unwrap().into_owned();
        if !replace.contains(&name.as_str()) {
            writer.raw_copy_file(part).unwrap();
        }
    }
    fill(&mut writer);
    writer.finish().unwrap().into_inner()
}

fn start(writer: &mut zip::ZipWriter<Cursor<Vec<u8>>>, name: &str) {
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(false);
    writer.start_file(name, options).unwrap();
}

/// Writes `head`, then `piece` `times` times, then `tail`.
fn repeated(
    writer: &mut zip::ZipWriter<Cursor<Vec<u8>>>,
    name: &str,
    head: &str,
    piece: &str,
    times: usize,
    tail: &str,
) {
    start(writer, name);
    writer.write_all(head.as_bytes()).unwrap();
    let block = piece.repeat((64 * 1024 / piece.len()).max(1));
    let per_block = block.len() / piece.len();
    let mut left = times;
    while left >= per_block {
        writer.write_all(block.as_bytes()).unwrap();
        left -= per_block;
    }
    writer.write_all(piece.repeat(left).as_bytes()).unwrap();
    writer.write_all(tail.as_bytes()).unwrap();
}

const SHEET_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>committee</t></is></c><c r="B1" t="inlineStr"><is><t>indicator</t></is></c><c r="C1" t="inlineStr"><is><t>period</t></is></c><c r="D1" t="inlineStr"><is><t>value</t></is></c></row>"#;
const SHEET_TAIL: &str = "</sheetData></worksheet>";
const SHEET: &str = "xl/worksheets/sheet1.xml";
const STRINGS: &str = "xl/sharedStrings.xml";

/// The workbook bombs of issue 11, each with the status it must get and a
/// word its message must say.
fn bombs() -> Vec<(&'static str, Vec<u8>, u16, &'static str)> {
    let mut bombs = Vec::new();
    bombs.push((
        "a shared-string table declaring 10^11 strings",
        patched(&[STRINGS], |writer| {
            start(writer, STRINGS);
            writer
                .write_all(br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="5" uniqueCount="100000000000"><si><t>committee</t></si><si><t>indicator</t></si><si><t>period</t></si><si><t>value</t></si><si><t>hanam-business-bloc</t></si></sst>"#)
                .unwrap();
        }),
        422,
        "uniqueCount",
    ));
    bombs.push((
        "one shared string of 64 MB",
        patched(&[STRINGS], |writer| {
            repeated(
                writer,
                STRINGS,
                r#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>"#,
                "a",
                64 * 1024 * 1024,
                "</t></si></sst>",
            )
        }),
        422,
        "32767",
    ));
    bombs.push((
        "a row of 10 million cells",
        patched(&[SHEET], |writer| {
            repeated(
                writer,
                SHEET,
                &format!("{SHEET_HEAD}<row r=\"2\">"),
                "<c/>",
                10_000_000,
                &format!("</row>{SHEET_TAIL}"),
            )
        }),
        422,
        "column 256",
    ));
    bombs.push((
        "a dimension of every cell of a sheet",
        patched(&[SHEET], |writer| {
            start(writer, SHEET);
            let sheet = SHEET_HEAD.replace(
                "<sheetData>",
                r#"<dimension ref="A1:XFD1048576"/><sheetData>"#,
            );
            writer
                .write_all(format!("{sheet}{SHEET_TAIL}").as_bytes())
                .unwrap();
        }),
        422,
        "column 256",
    ));
    bombs.push((
        "a cell at the last column and row",
        patched(&[SHEET], |writer| {
            start(writer, SHEET);
            writer
                .write_all(
                    format!(
                        "{SHEET_HEAD}<row r=\"1048576\"><c r=\"XFD1048576\"/></row>{SHEET_TAIL}"
                    )
                    .as_bytes(),
                )
                .unwrap();
        }),
        422,
        "column 256",
    ));
    bombs.push((
        "40 million empty cells in rows of 200",
        patched(&[SHEET], |writer| {
            let row = format!("<row>{}</row>", "<c/>".repeat(200));
            repeated(writer, SHEET, SHEET_HEAD, &row, 200_000, SHEET_TAIL)
        }),
        422,
        "cells",
    ));
    bombs.push((
        "300 parts",
        patched(&[], |writer| {
            for index in 0..300 {
                start(writer, &format!("xl/media/extra{index}.xml"));
                writer.write_all(b"<x/>").unwrap();
            }
        }),
        422,
        "parts",
    ));
    bombs.push((
        "a part whose header says it inflates to 3 GiB",
        declared_size(
            patched(&[SHEET], |writer| {
                start(writer, SHEET);
                writer
                    .write_all(format!("{SHEET_HEAD}{SHEET_TAIL}").as_bytes())
                    .unwrap();
            }),
            SHEET,
            3 * 1024 * 1024 * 1024,
        ),
        413,
        "inflates",
    ));
    bombs
}

/// `archive` with the central-directory size of `part` changed to `size`.
fn declared_size(mut archive: Vec<u8>, part: &str, size: u32) -> Vec<u8> {
    let signature = b"PK\x01\x02";
    let mut at = 0;
    while at + 46 <= archive.len() {
        if &archive[at..at + 4] == signature {
            let name_length = u16::from_le_bytes([archive[at + 28], archive[at + 29]]) as usize;
            if &archive[at + 46..at + 46 + name_length] == part.as_bytes() {
                archive[at + 24..at + 28].copy_from_slice(&size.to_le_bytes());
                return archive;
            }
        }
        at += 1;
    }
    panic!("no {part} in the archive");
}

async fn xlsx_bombs_are_refused_and_the_server_keeps_answering(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let before = app.observation_count().await;
    // The base workbook itself imports (dry run): the bombs differ from it
    // only in the part they replace.
    let response = app
        .post_raw("/api/v1/imports?dry_run=true", XLSX, base_workbook())
        .await;
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    assert_eq!(status, 200, "{body}");
    for (what, bytes, status, says) in bombs() {
        let response = app.post_raw("/api/v1/imports", XLSX, bytes).await;
        let problem = assert_problem(response, status).await;
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(says), "{what}: {problem}");
        let (health, _) = app.get_json("/healthz").await;
        assert_eq!(health, 200, "{what}: the server stopped answering");
    }
    assert_eq!(app.observation_count().await, before);
}

async fn a_csv_header_of_many_columns_is_refused_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let header: Vec<String> = (0..80_000).map(|index| format!("c{index}")).collect();
    let body = format!("{}\n{}\n", header.join(","), vec!["1"; 80_000].join(","));
    let started = std::time::Instant::now();
    let response = app.post_raw("/api/v1/imports", "text/csv", body).await;
    let problem = assert_problem(response, 422).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("at most 256"),
        "{problem}"
    );
    // The quadratic check took 30 s at 80,000 columns.
    assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());

    // Many repeated names: still linear, and the repetition is named.
    let repeated = format!("committee,indicator,period,value{}\n", ",value".repeat(200));
    let response = app.post_raw("/api/v1/imports", "text/csv", repeated).await;
    let problem = assert_problem(response, 400).await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("more than once"),
        "{problem}"
    );
}

crate::both_backends!(
    xlsx_bombs_are_refused_and_the_server_keeps_answering,
    a_csv_header_of_many_columns_is_refused_at_once,
);
