//! The web app over HTTP: signing in and out, CSRF, throttling, committee
//! scope, and the entry form's writes (with the person in the history and no
//! silent overwrite of someone else's change).

use std::collections::HashMap;

use chitieu::domain::role::Role;
use regex::Regex;
use serde_json::json;

use crate::helpers::{Backend, TestApp};

const PASSWORD: &str = "mật-khẩu-đủ-dài";
const HANAM: &str = "hanam-business-bloc";
const HANOI: &str = "hanoi-business-bloc";
/// A period no seed figure uses.
const PERIOD: &str = "2030-Q1";

fn create_user(app: &TestApp, username: &str, role: Role, committees: &[&str]) {
    let mut conn = app.pool.get().expect("connection");
    let ids: Vec<i64> = committees
        .iter()
        .map(|code| {
            chitieu::db::committees::find_by_code(&mut conn, code)
                .unwrap()
                .expect("committee")
                .id
        })
        .collect();
    chitieu::web::accounts::create_user(
        &mut conn,
        username,
        "Nguyễn Thị Lan",
        PASSWORD,
        role,
        &ids,
        "test",
    )
    .expect("user");
}

/// A browser: keeps cookies, follows no redirects (the tests look at them).
struct Browser<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    cookies: HashMap<String, String>,
}

struct Page {
    status: u16,
    location: Option<String>,
    set_cookies: Vec<String>,
    body: String,
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookies: HashMap::new(),
        }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let cookie: Vec<String> = self
            .cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        let request = if cookie.is_empty() {
            request
        } else {
            request.header("cookie", cookie.join("; "))
        };
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        let set_cookies: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        for line in &set_cookies {
            let pair = line.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let body = response.text().await.expect("body");
        Page {
            status,
            location,
            set_cookies,
            body,
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let request = self.client.get(self.app.url(path));
        self.send(request).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let request = self.client.post(self.app.url(path)).form(form);
        self.send(request).await
    }

    /// Opens the sign-in page and posts the form; returns the answer.
    async fn sign_in(&mut self, username: &str, password: &str) -> Page {
        let form = self.get("/sign-in").await;
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = csrf_of(&form.body);
        self.post(
            "/sign-in",
            &[
                ("username", username),
                ("password", password),
                ("csrf", &csrf),
                ("next", "/"),
            ],
        )
        .await
    }
}

/// The CSRF token a page's forms carry.
fn csrf_of(body: &str) -> String {
    Regex::new(r#"name="csrf" value="([0-9a-f]{64})""#)
        .unwrap()
        .captures(body)
        .unwrap_or_else(|| panic!("no CSRF token in {body}"))[1]
        .to_owned()
}

/// The hidden fields of the entry form, as sent back when saving.
fn hidden_fields(body: &str) -> Vec<(String, String)> {
    Regex::new(r#"type="hidden" name="([^"]+)" value="([^"]*)""#)
        .unwrap()
        .captures_iter(body)
        .map(|c| (c[1].to_owned(), html_unescape(&c[2])))
        .collect()
}

fn html_unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

async fn sign_in_good_and_bad(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "lan", Role::Editor, &[HANAM]);
    let mut browser = Browser::new(&app);

    // Not signed in: every page sends to the sign-in page (never a 500).
    let home = browser.get("/").await;
    assert_eq!(home.status, 303);
    assert_eq!(home.location.as_deref(), Some("/sign-in?next=%2F"));

    let bad = browser.sign_in("lan", "not the password").await;
    assert_eq!(bad.status, 401, "{}", bad.body);
    assert!(bad.body.contains("không đúng"), "{}", bad.body);
    assert!(!browser.cookies.contains_key("chitieu_session"));
    let unknown = browser.sign_in("nobody", PASSWORD).await;
    assert_eq!(unknown.status, 401);

    let good = browser.sign_in("lan", PASSWORD).await;
    assert_eq!(good.status, 303, "{}", good.body);
    assert_eq!(good.location.as_deref(), Some("/"));
    let session = good
        .set_cookies
        .iter()
        .find(|c| c.starts_with("chitieu_session="))
        .expect("a session cookie");
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Lax"), "{session}");
    assert!(!session.contains("Secure"), "plain HTTP: {session}");

    let home = browser.get("/").await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.body.contains("Nguyễn Thị Lan"));
    assert!(home.body.contains(&format!("/entry/{HANAM}/")));

    // Behind a TLS-terminating proxy the cookie is Secure.
    let form = browser.get("/sign-in").await;
    let csrf = csrf_of(&form.body);
    let request = browser
        .client
        .post(app.url("/sign-in"))
        .header("x-forwarded-proto", "https")
        .form(&[("username", "lan"), ("password", PASSWORD), ("csrf", &csrf)]);
    let tls = browser.send(request).await;
    assert_eq!(tls.status, 303);
    assert!(
        tls.set_cookies
            .iter()
            .any(|c| c.starts_with("chitieu_session=") && c.contains("Secure")),
        "{:?}",
        tls.set_cookies
    );

    // A disabled account's sessions end at once.
    let mut conn = app.pool.get().unwrap();
    assert!(chitieu::db::users::disable(&mut conn, "lan").unwrap());
    assert_eq!(browser.get("/").await.status, 303);
    assert_eq!(browser.sign_in("lan", PASSWORD).await.status, 401);
}

async fn sign_in_is_throttled(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "lan", Role::Editor, &[HANAM]);
    let mut browser = Browser::new(&app);
    for _ in 0..5 {
        assert_eq!(browser.sign_in("lan", "wrong password").await.status, 401);
    }
    // Even the right password is refused now, with a time to wait.
    let request = browser.get("/sign-in").await;
    let csrf = csrf_of(&request.body);
    let request = browser.client.post(app.url("/sign-in")).form(&[
        ("username", "lan"),
        ("password", PASSWORD),
        ("csrf", csrf.as_str()),
    ]);
    let cookie: Vec<String> = browser
        .cookies
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect();
    let response = request
        .header("cookie", cookie.join("; "))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .unwrap()
            .to_str()
            .unwrap(),
        "900"
    );
    // Another username is not affected.
    create_user(&app, "minh", Role::Viewer, &[]);
    assert_eq!(browser.sign_in("minh", PASSWORD).await.status, 303);
}

async fn forms_need_their_csrf_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "lan", Role::Editor, &[HANAM]);
    let before = app.observation_count().await;

    // The sign-in form: without the cookie's token, or with another, refused.
    let mut stranger = Browser::new(&app);
    let posted = stranger
        .post(
            "/sign-in",
            &[("username", "lan"), ("password", PASSWORD), ("csrf", "00")],
        )
        .await;
    assert_eq!(posted.status, 403, "{}", posted.body);

    let mut browser = Browser::new(&app);
    assert_eq!(browser.sign_in("lan", PASSWORD).await.status, 303);
    let path = format!("/entry/{HANAM}/{PERIOD}");
    let form = browser.get(&path).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let good = csrf_of(&form.body);
    let wrong = "0".repeat(64);
    for csrf in [None, Some(wrong.as_str())] {
        let mut fields = vec![("value.revenue", "100")];
        if let Some(csrf) = csrf {
            fields.push(("csrf", csrf));
        }
        let refused = browser.post(&path, &fields).await;
        assert_eq!(refused.status, 403, "{csrf:?}: {}", refused.body);
    }
    // Signing out also needs it.
    let refused = browser.post("/sign-out", &[("csrf", &wrong)]).await;
    assert_eq!(refused.status, 403);
    assert_eq!(app.observation_count().await, before, "nothing was written");
    assert_eq!(browser.get("/").await.status, 200, "still signed in");

    let out = browser.post("/sign-out", &[("csrf", &good)]).await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location.as_deref(), Some("/sign-in"));
    assert!(!browser.cookies.contains_key("chitieu_session"));
    assert_eq!(browser.get("/").await.status, 303, "signed out");
}

async fn an_entry_form_is_only_for_the_persons_committees(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "lan", Role::Editor, &[HANAM]);
    create_user(&app, "minh", Role::Viewer, &[]);
    let mut editor = Browser::new(&app);
    editor.sign_in("lan", PASSWORD).await;
    assert_eq!(
        editor.get(&format!("/entry/{HANAM}/{PERIOD}")).await.status,
        200
    );
    let other = editor.get(&format!("/entry/{HANOI}/{PERIOD}")).await;
    assert_eq!(other.status, 403, "{}", other.body);
    let csrf = csrf_of(&editor.get("/").await.body);
    let posted = editor
        .post(
            &format!("/entry/{HANOI}/{PERIOD}"),
            &[("csrf", &csrf), ("value.revenue", "5")],
        )
        .await;
    assert_eq!(posted.status, 403);

    let mut viewer = Browser::new(&app);
    viewer.sign_in("minh", PASSWORD).await;
    assert_eq!(
        viewer.get(&format!("/entry/{HANAM}/{PERIOD}")).await.status,
        403
    );
    assert_eq!(viewer.get("/").await.status, 200);
}

/// The figure of revenue for HANAM in PERIOD, through the API.
async fn revenue(app: &TestApp) -> serde_json::Value {
    let (status, body) = app
        .get_json(&format!(
            "/api/v1/observations?committee={HANAM}&indicator=revenue&period={PERIOD}"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    body["items"][0].clone()
}

async fn the_entry_form_saves_with_the_person_and_never_overwrites_silently(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "lan", Role::Editor, &[HANAM]);
    let mut browser = Browser::new(&app);
    browser.sign_in("lan", PASSWORD).await;
    let path = format!("/entry/{HANAM}/{PERIOD}");
    let form = browser.get(&path).await;
    assert!(form.body.contains("tỷ đồng"), "units as people say them");

    // A Vietnamese number, with a field error next to a bad one: nothing written.
    let mut fields = hidden_fields(&form.body);
    fields.push(("value.revenue".into(), "27.701,5".into()));
    fields.push(("status.revenue".into(), "E".into()));
    fields.push(("qualifier.revenue".into(), "exact".into()));
    fields.push(("value.profit".into(), "12,3,4".into()));
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let invalid = browser.post(&path, &pairs).await;
    assert_eq!(invalid.status, 422, "{}", invalid.body);
    assert!(
        invalid.body.contains("Không đọc được số"),
        "{}",
        invalid.body
    );
    assert!(revenue(&app).await.is_null(), "nothing written");

    let pairs: Vec<(&str, &str)> = pairs
        .into_iter()
        .filter(|(name, _)| *name != "value.profit")
        .chain([("reason", "báo cáo quý")])
        .collect();
    let saved = browser.post(&path, &pairs).await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert!(saved.body.contains("Đã lưu 1 số liệu"), "{}", saved.body);
    assert!(saved.body.contains("27.701,5"), "shown the Vietnamese way");
    let figure = revenue(&app).await;
    assert_eq!(figure["value"], "27701.5");
    assert_eq!(figure["status"], "E");
    let id = figure["id"].as_i64().unwrap();
    let (_, history) = app
        .get_json(&format!("/api/v1/observations/{id}/revisions"))
        .await;
    let last = history.as_array().expect("revisions").last().unwrap();
    assert_eq!(last["changed_by"], "lan", "{history}");
    assert_eq!(last["reason"], "báo cáo quý", "{history}");

    // Someone changes the figure while the form is open; saving the form
    // then shows both values and keeps theirs.
    let open_form = browser.get(&path).await;
    let (status, body) = app
        .put_json(
            &format!("/api/v1/observations/{id}"),
            &json!({ "value": "28000", "status": "A" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let mut fields = hidden_fields(&open_form.body);
    fields.push(("value.revenue".into(), "29.000".into()));
    fields.push(("status.revenue".into(), "A".into()));
    fields.push(("qualifier.revenue".into(), "exact".into()));
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let conflict = browser.post(&path, &pairs).await;
    assert_eq!(conflict.status, 409, "{}", conflict.body);
    assert!(conflict.body.contains("28.000"), "{}", conflict.body);
    assert!(conflict.body.contains("29.000"), "{}", conflict.body);
    assert!(
        conflict.body.contains("test-admin"),
        "who changed it: {}",
        conflict.body
    );
    assert_eq!(revenue(&app).await["value"], "28000");
}

crate::both_backends!(
    sign_in_good_and_bad,
    sign_in_is_throttled,
    forms_need_their_csrf_token,
    an_entry_form_is_only_for_the_persons_committees,
    the_entry_form_saves_with_the_person_and_never_overwrites_silently,
);

async fn the_dashboard_page_shows_the_apis_numbers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "minh", Role::Viewer, &[]);
    // A committee and period of the seed figures.
    let (_, some) = app.get_json("/api/v1/observations?limit=1").await;
    let committee = some["items"][0]["committee"].as_str().unwrap().to_owned();
    let period = some["items"][0]["period"].as_str().unwrap().to_owned();
    let (status, api) = app
        .get_json(&format!(
            "/api/v1/committees/{committee}/dashboard?period={period}"
        ))
        .await;
    assert_eq!(status, 200, "{api}");
    let items = api["items"].as_array().unwrap();
    assert!(!items.is_empty());

    let mut browser = Browser::new(&app);
    browser.sign_in("minh", PASSWORD).await;
    let page = browser
        .get(&format!("/dashboard/{committee}?period={period}"))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let tile = Regex::new(r#"(?s)<section class="tile" data-indicator="([^"]+)">(.*?)</section>"#)
        .unwrap();
    let tiles: HashMap<String, String> = tile
        .captures_iter(&page.body)
        .map(|c| (c[1].to_owned(), c[2].to_owned()))
        .collect();
    assert_eq!(tiles.len(), items.len(), "a tile per item of the API");
    let vietnamese = |text: &str| {
        let value: rust_decimal::Decimal = text.parse().unwrap();
        chitieu::domain::locale::format_number(
            value.normalize(),
            chitieu::domain::locale::Locale::Vietnamese,
        )
    };
    let chart_src = Regex::new(r#"src="(/chart/[^"]+)""#).unwrap();
    for (index, item) in items.iter().enumerate() {
        let code = item["indicator"].as_str().unwrap();
        let tile = &tiles[code];
        if let Some(value) = item["figure"]["value"].as_str() {
            let shown = format!(r#"<strong class="figure">{}</strong>"#, vietnamese(value));
            assert!(tile.contains(&shown), "{code}: {shown} in {tile}");
        }
        if let Some(pct) = item["year_on_year"]["percent_change"].as_str() {
            let shown = vietnamese(pct.trim_start_matches('-'));
            assert!(
                tile.contains(&format!("{shown}%")),
                "{code}: {pct} in {tile}"
            );
        }
        if index > 0 {
            // One chart is enough to prove the image URL.
            continue;
        }
        // The chart of each tile is an image any page can embed.
        let chart = chart_src.captures(tile).unwrap()[1].replace("&amp;", "&");
        let svg = app.anonymous.get(app.url(&chart)).send().await.unwrap();
        assert_eq!(svg.status().as_u16(), 200, "{chart}");
        assert_eq!(svg.headers()["content-type"], "image/svg+xml");
        let svg = svg.text().await.unwrap();
        assert!(svg.starts_with("<svg") && svg.contains(&period), "{svg}");
        if let Some(value) = item["figure"]["value"].as_str() {
            assert!(
                svg.contains(&vietnamese(value)),
                "{code}: the chart shows {value}"
            );
        }
    }
}

async fn history_and_locked_periods(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "lan", Role::Editor, &[HANAM]);
    let (status, body) = app
        .post_json(
            "/api/v1/observations",
            &json!({"committee": HANAM, "indicator": "revenue", "period": PERIOD, "value": "10", "reason": "đầu kỳ"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().unwrap();
    app.put_json(
        &format!("/api/v1/observations/{id}"),
        &json!({"value": "12.5", "reason": "sửa theo báo cáo"}),
    )
    .await;
    let mut browser = Browser::new(&app);
    browser.sign_in("lan", PASSWORD).await;
    let history = browser.get(&format!("/figures/{id}/history")).await;
    assert_eq!(history.status, 200, "{}", history.body);
    for text in ["test-admin", "sửa theo báo cáo", "đầu kỳ", "12,5", ">10<"] {
        assert!(history.body.contains(text), "{text} in {}", history.body);
    }

    let (status, body) = app
        .post_json(
            "/api/v1/locks",
            &json!({"committee": HANAM, "period": PERIOD, "reason": "đã duyệt"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let path = format!("/entry/{HANAM}/{PERIOD}");
    let form = browser.get(&path).await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("đã khóa bởi"), "{}", form.body);
    assert!(form.body.contains("disabled"), "read-only inputs");
    let csrf = csrf_of(&form.body);
    let refused = browser
        .post(
            &path,
            &[
                ("csrf", csrf.as_str()),
                ("value.revenue", "99"),
                ("was.revenue", "x"),
            ],
        )
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert_eq!(revenue(&app).await["value"], "12.5");
}

crate::both_backends!(
    the_dashboard_page_shows_the_apis_numbers,
    history_and_locked_periods
);

async fn the_checks_page_lists_the_apis_disagreements(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "minh", Role::Viewer, &[]);
    // Two years of revenue and a reported change that the figures contradict.
    for (period, value, yoy) in [("2028", "100", None), ("2029", "110", Some("25"))] {
        let mut figure = json!({"committee": HANAM, "indicator": "revenue", "period": period,
            "value": value, "source_quote": format!("Doanh thu năm {period} đạt {value} tỷ đồng")});
        if let Some(yoy) = yoy {
            figure["reported_yoy_pct"] = json!(yoy);
        }
        let (status, body) = app.post_json("/api/v1/observations", &figure).await;
        assert_eq!(status, 201, "{body}");
    }
    let (_, api) = app
        .get_json(&format!("/api/v1/checks?period=2029&committee={HANAM}"))
        .await;
    assert_eq!(api["inconsistent"], 1, "{api}");
    let mut browser = Browser::new(&app);
    browser.sign_in("minh", PASSWORD).await;
    let page = browser
        .get(&format!("/checks?period=2029&committee={HANAM}"))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        page.body.matches(r#"<tr class="check">"#).count(),
        1,
        "{}",
        page.body
    );
    let item = &api["items"][0];
    for number in [&item["reported"], &item["computed"]] {
        let value: rust_decimal::Decimal = number.as_str().unwrap().parse().unwrap();
        let shown = chitieu::domain::locale::format_number(
            value,
            chitieu::domain::locale::Locale::Vietnamese,
        );
        assert!(
            page.body.contains(&format!(">{shown}<")),
            "{shown}: {}",
            page.body
        );
    }
    assert!(
        page.body.contains("Doanh thu năm 2029 đạt 110 tỷ đồng"),
        "the source quote"
    );
}

crate::both_backends!(the_checks_page_lists_the_apis_disagreements);

/// Every named input of a form with its value (checkboxes only when checked).
fn input_fields(body: &str) -> Vec<(String, String)> {
    Regex::new(r#"<input([^>]*)>"#)
        .unwrap()
        .captures_iter(body)
        .filter_map(|c| {
            let attributes = &c[1];
            let name = Regex::new(r#"\bname="([^"]+)""#)
                .unwrap()
                .captures(attributes)?[1]
                .to_owned();
            let value = Regex::new(r#"\bvalue="([^"]*)""#)
                .unwrap()
                .captures(attributes)
                .map(|v| html_unescape(&v[1]))
                .unwrap_or_default();
            let unchecked =
                attributes.contains(r#"type="checkbox""#) && !attributes.contains("checked");
            (!unchecked).then_some((name, value))
        })
        .chain(
            // A select sends its selected option, as a browser does.
            Regex::new(r#"(?s)<select[^>]*\bname="([^"]+)"[^>]*>(.*?)</select>"#)
                .unwrap()
                .captures_iter(body)
                .filter_map(|c| {
                    let selected = Regex::new(r#"<option value="([^"]*)" selected>"#)
                        .unwrap()
                        .captures(&c[2])?[1]
                        .to_owned();
                    Some((c[1].to_owned(), selected))
                }),
        )
        .collect()
}

async fn a_pasted_report_is_reviewed_and_accepted_through_the_batch_write(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "lan", Role::Editor, &[HANAM]);
    let mut browser = Browser::new(&app);
    browser.sign_in("lan", PASSWORD).await;
    let form = browser.get("/review").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = csrf_of(&form.body);
    let text = "Quý I/2030, tổng doanh thu của các doanh nghiệp ước đạt 27.701 tỷ đồng, tăng 7,7% so cùng kỳ.";
    let proposed = browser
        .post(
            "/review",
            &[
                ("csrf", csrf.as_str()),
                ("committee", HANAM),
                ("text", text),
                ("title", "Báo cáo quý I"),
            ],
        )
        .await;
    assert_eq!(proposed.status, 200, "{}", proposed.body);
    assert!(
        proposed.body.contains("<mark id=\"quote-1\">"),
        "highlighted: {}",
        proposed.body
    );
    assert!(
        proposed.body.contains(r#"value="revenue""#),
        "{}",
        proposed.body
    );
    assert!(
        proposed.body.contains(r#"value="2030-Q1""#),
        "{}",
        proposed.body
    );
    assert!(revenue(&app).await.is_null(), "proposing writes nothing");

    let fields = input_fields(&proposed.body);
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let accepted = browser.post("/review/accept", &pairs).await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    let figure = revenue(&app).await;
    assert_eq!(figure["value"], "27701", "{figure}");
    assert_eq!(figure["status"], "E", "ước đạt is an estimate: {figure}");
    assert_eq!(figure["reported_yoy_pct"], "7.7", "{figure}");
    assert!(
        figure["source_quote"]
            .as_str()
            .unwrap()
            .contains("27.701 tỷ đồng"),
        "{figure}"
    );

    // Accepting again overwrites nothing: the figure exists.
    let again = browser.post("/review/accept", &pairs).await;
    assert_eq!(again.status, 422, "{}", again.body);
    assert!(again.body.contains("đã có"), "{}", again.body);

    // Another committee's figures cannot be written from here.
    let other = browser
        .post(
            "/review",
            &[
                ("csrf", csrf.as_str()),
                ("committee", HANOI),
                ("text", text),
            ],
        )
        .await;
    assert_eq!(other.status, 403, "{}", other.body);
    let pairs: Vec<(&str, &str)> = pairs
        .into_iter()
        .map(|(n, v)| if n == "committee" { (n, HANOI) } else { (n, v) })
        .collect();
    assert_eq!(browser.post("/review/accept", &pairs).await.status, 403);
}

crate::both_backends!(a_pasted_report_is_reviewed_and_accepted_through_the_batch_write);

/// Every web route takes an access extractor: without one the server answers
/// 500 (`require_access_rule`). A stranger is sent to sign in, never served.
async fn every_page_has_an_access_rule(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut stranger = Browser::new(&app);
    let pages = [
        "/",
        "/checks",
        "/review",
        "/dashboard/hanam-business-bloc?period=2024",
        "/dashboard/group/northern-business-blocs?period=2024",
        "/figures/1/history",
        "/entry/hanam-business-bloc/2024-Q1",
    ];
    for path in pages {
        let page = stranger.get(path).await;
        assert_eq!(page.status, 303, "GET {path}: {}", page.body);
        assert!(
            page.location.unwrap().starts_with("/sign-in?next="),
            "{path}"
        );
    }
    for path in [
        "/sign-out",
        "/review",
        "/review/accept",
        "/entry/hanam-business-bloc/2024-Q1",
    ] {
        let page = stranger.post(path, &[("csrf", "x")]).await;
        assert_eq!(page.status, 303, "POST {path}: {}", page.body);
    }
    assert_eq!(stranger.get("/sign-in?next=%2Fchecks").await.status, 200);
    // The chart follows the API's rule for reads: public here.
    let chart = stranger
        .get("/chart/hanam-business-bloc/revenue.svg?period=2024")
        .await;
    assert_eq!(chart.status, 200, "{}", chart.body);
    let chart = stranger
        .get("/chart/group/northern-business-blocs/revenue.svg?period=2024")
        .await;
    assert_eq!(chart.status, 200, "{}", chart.body);
}

crate::both_backends!(every_page_has_an_access_rule);

async fn a_file_is_imported_through_a_preview(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "lan", Role::Editor, &[HANAM]);
    let mut browser = Browser::new(&app);
    browser.sign_in("lan", PASSWORD).await;
    let page = browser.get("/import").await;
    assert_eq!(page.status, 200);
    let csrf = Regex::new(r#"data-csrf="([0-9a-f]{64})""#)
        .unwrap()
        .captures(&page.body)
        .unwrap()[1]
        .to_owned();
    let good = format!("committee,indicator,period,value\n{HANAM},revenue,{PERIOD},\"27.701,5\"\n");
    let client = browser.client.clone();
    let send = |path: &str, csv: String, token: Option<&str>| {
        let mut request = client
            .post(app.url(&format!("{path}?format=csv&locale=vi")))
            .header("content-type", "text/csv")
            .body(csv);
        if let Some(token) = token {
            request = request.header("x-csrf-token", token);
        }
        request
    };
    let refused = browser
        .send(send("/import/preview", good.clone(), None))
        .await;
    assert_eq!(refused.status, 403, "no CSRF token: {}", refused.body);

    let preview = browser
        .send(send("/import/preview", good.clone(), Some(&csrf)))
        .await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(preview.body.contains(r#"id="confirm""#), "{}", preview.body);
    assert!(revenue(&app).await.is_null(), "a preview writes nothing");
    // The table of rows: the parsed figure in Vietnamese and what it does.
    let preview_row = |action: &str, value: &str, what: &str| {
        format!(
            r#"<tr data-action="{action}"><th class="num" scope="row">2</th><td>{HANAM}</td><td>revenue</td><td>{PERIOD}</td><td class="num">{value}</td><td>tỷ đồng</td><td>Chính thức</td><td>Đúng bằng</td><td>{what}</td>"#
        )
    };
    assert!(
        preview
            .body
            .contains("<caption>Các dòng sẽ được ghi hoặc bị từ chối</caption>"),
        "{}",
        preview.body
    );
    assert!(
        preview
            .body
            .contains(&preview_row("create", "27.701,5", "tạo mới")),
        "{}",
        preview.body
    );

    let bad = format!("{good}{HANAM},revenue,quý V/2030,5\n");
    let rejected = browser
        .send(send("/import/preview", bad, Some(&csrf)))
        .await;
    assert_eq!(rejected.status, 422, "{}", rejected.body);
    assert!(
        rejected
            .body
            .contains(r#"<tr data-action="rejected"><th class="num" scope="row">3</th>"#),
        "row 3 is listed: {}",
        rejected.body
    );
    assert!(
        rejected.body.contains("invalid_period") || rejected.body.contains("period: "),
        "{}",
        rejected.body
    );
    assert!(!rejected.body.contains(r#"id="confirm""#));
    let elsewhere = format!("{good}{HANOI},revenue,{PERIOD},5\n");
    let refused = browser
        .send(send("/import/preview", elsewhere, Some(&csrf)))
        .await;
    assert_eq!(refused.status, 403, "another committee: {}", refused.body);

    let written = browser
        .send(send("/import/confirm", good.clone(), Some(&csrf)))
        .await;
    assert_eq!(written.status, 200, "{}", written.body);
    let figure = revenue(&app).await;
    assert_eq!(figure["value"], "27701.5", "{figure}");
    let (_, history) = app
        .get_json(&format!("/api/v1/observations/{}/revisions", figure["id"]))
        .await;
    assert_eq!(history[0]["changed_by"], "lan", "{history}");

    // A new value for the written figure: an update, with the old value; the
    // unchanged rows are left out of the table.
    let changed = format!(
        "committee,indicator,period,value\n{HANAM},revenue,{PERIOD},\"28.000\"\n{HANAM},revenue,{PERIOD},\"1\"\n"
    );
    let update = browser
        .send(send("/import/preview", changed, Some(&csrf)))
        .await;
    assert_eq!(update.status, 422, "{}", update.body);
    assert!(
        update
            .body
            .contains(&preview_row("update", "28.000", "cập nhật (cũ: 27.701,5)")),
        "{}",
        update.body
    );
    let same = browser
        .send(send("/import/preview", good.clone(), Some(&csrf)))
        .await;
    assert_eq!(same.status, 200, "{}", same.body);
    assert!(!same.body.contains("<caption>"), "{}", same.body);
    assert!(
        same.body.contains("Không có dòng nào thay đổi"),
        "{}",
        same.body
    );
}

crate::both_backends!(a_file_is_imported_through_a_preview);

const GROUP: &str = "northern-business-blocs";

/// The text of a value cell, tags removed.
fn cell_text(cell: &str) -> String {
    let text = Regex::new(r"<[^>]+>").unwrap().replace_all(cell, "");
    html_unescape(text.trim())
}

fn vietnamese(text: &str) -> String {
    let value: rust_decimal::Decimal = text.parse().unwrap();
    chitieu::domain::locale::format_number(
        value.normalize(),
        chitieu::domain::locale::Locale::Vietnamese,
    )
}

/// The group view shows, per indicator, each member's value as
/// `GET /api/v1/series?committee=` gives it and the total as
/// `GET /api/v1/series?group=` gives it (or says it is not totalled where
/// that refuses), with an embeddable chart; Home shows the same totals.
async fn the_group_view_shows_the_apis_numbers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "minh", Role::Viewer, &[]);
    for (committee, indicator, value) in [
        (HANAM, "revenue", "1234.5"),
        (HANOI, "revenue", "20000"),
        (HANAM, "party_members", "300"),
        (HANOI, "party_members", "900"),
        // A ratio without numerator and denominator: never totalled.
        (HANAM, "npl_ratio", "1.25"),
        (HANOI, "npl_ratio", "2.5"),
    ] {
        let (status, body) = app
            .post_json(
                "/api/v1/observations",
                &json!({"committee": committee, "indicator": indicator, "period": PERIOD, "value": value}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let mut browser = Browser::new(&app);
    browser.sign_in("minh", PASSWORD).await;
    let page = browser
        .get(&format!("/dashboard/group/{GROUP}?period={PERIOD}"))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let section = Regex::new(
        r#"(?s)<section class="group-indicator" data-indicator="([^"]+)">(.*?)</section>"#,
    )
    .unwrap();
    let member_row =
        Regex::new(r#"(?s)<tr data-member="([^"]+)"><th scope="row">[^<]*</th><td class="num">(.*?)</td></tr>"#)
            .unwrap();
    let total_row =
        Regex::new(r#"(?s)<tr class="total"><th scope="row">[^<]*</th><td class="num">(.*?)</td>"#)
            .unwrap();
    let sections: HashMap<String, String> = section
        .captures_iter(&page.body)
        .map(|c| (c[1].to_owned(), c[2].to_owned()))
        .collect();
    let mut shown: Vec<&str> = sections.keys().map(String::as_str).collect();
    shown.sort_unstable();
    assert_eq!(shown, ["npl_ratio", "party_members", "revenue"]);
    let (_, members) = app.get_json(&format!("/api/v1/groups/{GROUP}")).await;
    let member_count = members["members"].as_array().map_or(7, Vec::len);
    for (indicator, body) in &sections {
        let rows: Vec<(String, String)> = member_row
            .captures_iter(body)
            .map(|c| (c[1].to_owned(), cell_text(&c[2])))
            .collect();
        assert_eq!(rows.len(), member_count, "{indicator}: a row per member");
        for (member, text) in &rows {
            let (status, series) = app
                .get_json(&format!(
                    "/api/v1/series?committee={member}&indicator={indicator}&from={PERIOD}&to={PERIOD}"
                ))
                .await;
            assert_eq!(status, 200, "{series}");
            match series["points"][0]["value"].as_str() {
                Some(value) => assert_eq!(text, &vietnamese(value), "{indicator} of {member}"),
                None => assert_eq!(text, "Chưa có", "{indicator} of {member}"),
            }
        }
        let total = cell_text(&total_row.captures(body).expect("a total row")[1]);
        let (status, series) = app
            .get_json(&format!(
                "/api/v1/series?group={GROUP}&indicator={indicator}&from={PERIOD}&to={PERIOD}"
            ))
            .await;
        if status == 422 {
            assert!(total.starts_with("Không cộng"), "{indicator}: {total}");
            continue;
        }
        assert_eq!(status, 200, "{series}");
        let value = series["points"][0]["value"].as_str().expect("a total");
        let reported = series["points"][0]["members_reported"].as_u64().unwrap();
        assert!(
            total.starts_with(&vietnamese(value)),
            "{indicator}: {value} in {total}"
        );
        assert!(
            total.contains(&format!("{reported}/{member_count}")),
            "{total}"
        );
    }
    assert!(sections["revenue"].contains("21.234,5"), "1234,5 + 20000");
    assert!(sections["npl_ratio"].contains("Không cộng"));

    // The chart is an image anyone allowed to read may embed.
    let chart = Regex::new(r#"src="(/chart/group/[^"]+)""#)
        .unwrap()
        .captures(&sections["revenue"])
        .unwrap()[1]
        .replace("&amp;", "&");
    let svg = app.anonymous.get(app.url(&chart)).send().await.unwrap();
    assert_eq!(svg.status().as_u16(), 200, "{chart}");
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    let svg = svg.text().await.unwrap();
    for text in ["<svg", "1.234,5", "20.000", "Hà Nam", "chưa có"] {
        assert!(svg.contains(text), "{text} in {svg}");
    }
    let unknown = app
        .anonymous
        .get(app.url(&format!("/chart/group/{GROUP}/no_such.svg?period={PERIOD}")))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 404);

    // Home: the group at a glance, the same totals.
    let home = browser.get(&format!("/?period={PERIOD}")).await;
    assert_eq!(home.status, 200, "{}", home.body);
    let glance = Regex::new(r#"(?s)<tr data-indicator="revenue"><th scope="row">[^<]*</th><td class="num">([^<]*)</td>"#)
        .unwrap()
        .captures(&home.body)
        .unwrap_or_else(|| panic!("revenue at a glance in {}", home.body))[1]
        .to_owned();
    assert_eq!(glance, "21.234,5");
    assert!(home
        .body
        .contains(&format!("/dashboard/group/{GROUP}?period={PERIOD}")));
    // A committee's dashboard links to its group.
    let board = browser
        .get(&format!("/dashboard/{HANAM}?period={PERIOD}"))
        .await;
    assert!(board
        .body
        .contains(&format!("/dashboard/group/{GROUP}?period={PERIOD}")));
    // An unknown group is a clear 404 page, an unreadable period a 400.
    assert_eq!(
        browser
            .get(&format!("/dashboard/group/no-such-group?period={PERIOD}"))
            .await
            .status,
        404
    );
    assert_eq!(
        browser
            .get(&format!("/dashboard/group/{GROUP}?period=soon"))
            .await
            .status,
        400
    );
}

/// `as_of` shows the dashboard (figures, comparisons, targets and charts) as
/// known at that moment, says so, and equals the API's dashboard `as_of`.
async fn the_dashboard_as_of_a_past_moment(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "minh", Role::Viewer, &[]);
    let (status, created) = app
        .post_json(
            "/api/v1/observations",
            &json!({"committee": HANAM, "indicator": "revenue", "period": PERIOD, "value": "10"}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    let (_, revisions) = app
        .get_json(&format!("/api/v1/observations/{id}/revisions"))
        .await;
    let then = revisions[0]["changed_at"].as_str().unwrap().to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    app.put_json(
        &format!("/api/v1/observations/{id}"),
        &json!({"value": "12.5", "reason": "sửa"}),
    )
    .await;
    let (status, body) = app
        .post_json(
            "/api/v1/targets",
            &json!({"committee": HANAM, "indicator": "revenue", "period": PERIOD, "value": "50"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    let (status, past) = app
        .get_json(&format!(
            "/api/v1/committees/{HANAM}/dashboard?period={PERIOD}&as_of={then}"
        ))
        .await;
    assert_eq!(status, 200, "{past}");
    assert_eq!(past["items"][0]["figure"]["value"], "10", "{past}");
    assert!(
        past["items"][0]["progress"].is_null(),
        "no target yet: {past}"
    );
    let (_, now) = app
        .get_json(&format!(
            "/api/v1/committees/{HANAM}/dashboard?period={PERIOD}"
        ))
        .await;
    assert_eq!(now["items"][0]["figure"]["value"], "12.5");
    assert!(!now["items"][0]["progress"].is_null());

    let mut browser = Browser::new(&app);
    browser.sign_in("minh", PASSWORD).await;
    let encoded: String = form_urlencoded::byte_serialize(then.as_bytes()).collect();
    let page = browser
        .get(&format!(
            "/dashboard/{HANAM}?period={PERIOD}&as_of={encoded}"
        ))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Số liệu lịch sử"), "{}", page.body);
    assert!(page.body.contains(r#"<strong class="figure">10</strong>"#));
    assert!(!page.body.contains("12,5"));
    assert!(!page.body.contains("<progress"), "no target was known then");
    assert!(page
        .body
        .contains(&format!(r#"name="as_of" value="{}""#, &then[..10])));
    // Its chart is drawn from the same moment.
    let chart = Regex::new(r#"src="(/chart/[^"]+)""#)
        .unwrap()
        .captures(&page.body)
        .unwrap()[1]
        .replace("&amp;", "&");
    assert!(chart.contains("as_of="), "{chart}");
    let svg = app
        .anonymous
        .get(app.url(&chart))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(svg.contains(">10<") && !svg.contains("12,5"), "{svg}");

    // The form's empty date is today's view, not a historical one.
    let current = browser
        .get(&format!("/dashboard/{HANAM}?period={PERIOD}&as_of="))
        .await;
    assert_eq!(current.status, 200);
    assert!(!current.body.contains("Số liệu lịch sử"));
    assert!(current
        .body
        .contains(r#"<strong class="figure">12,5</strong>"#));
    assert!(current.body.contains("<progress"));
    // A date before anything was entered: nothing; a date the form sends.
    let before = browser
        .get(&format!(
            "/dashboard/{HANAM}?period={PERIOD}&as_of=2000-01-01"
        ))
        .await;
    assert_eq!(before.status, 200);
    assert!(
        before.body.contains("hết ngày 01/01/2000"),
        "{}",
        before.body
    );
    assert!(before.body.contains("Chưa có số liệu cho kỳ này."));
    // The group view reads the same moment.
    let group = browser
        .get(&format!(
            "/dashboard/group/{GROUP}?period={PERIOD}&as_of={encoded}"
        ))
        .await;
    assert!(group.body.contains("Số liệu lịch sử"));
    assert!(
        group.body.contains(">10<") && !group.body.contains("12,5"),
        "{}",
        group.body
    );
    // An unreadable date changes nothing and says why.
    let bad = browser
        .get(&format!(
            "/dashboard/{HANAM}?period={PERIOD}&as_of=yesterday"
        ))
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
}

crate::both_backends!(
    the_group_view_shows_the_apis_numbers,
    the_dashboard_as_of_a_past_moment
);

/// Every page with the images, scripts and style sheets it references weighs
/// under 300 KB (issue 16), on a committee and period of the seed figures.
async fn every_page_with_its_assets_weighs_under_300_kb(backend: Backend) {
    const LIMIT: usize = 300 * 1024;
    let app = TestApp::spawn(backend).await;
    // A figure of the seed data: its committee, period and history.
    let (_, some) = app.get_json("/api/v1/observations?limit=1").await;
    let figure = &some["items"][0];
    let committee = figure["committee"].as_str().unwrap().to_owned();
    let period = figure["period"].as_str().unwrap().to_owned();
    let id = figure["id"].as_i64().unwrap();
    create_user(&app, "lan", Role::Editor, &[&committee]);
    // A period some member of the group has figures for.
    let (_, group) = app.get_json(&format!("/api/v1/groups/{GROUP}")).await;
    let mut group_period = None;
    for member in group["members"].as_array().unwrap() {
        let code = member["code"].as_str().unwrap();
        let (_, found) = app
            .get_json(&format!("/api/v1/observations?committee={code}&limit=1"))
            .await;
        if let Some(period) = found["items"][0]["period"].as_str() {
            group_period = Some(period.to_owned());
            break;
        }
    }
    let group_period = group_period.expect("the seed data has figures of a member");
    let mut browser = Browser::new(&app);
    let sign_in = browser.get("/sign-in").await;
    let mut pages = vec![("/sign-in".to_owned(), sign_in)];
    browser.sign_in("lan", PASSWORD).await;
    for path in [
        format!("/?period={period}"),
        format!("/entry/{committee}/{period}"),
        format!("/figures/{id}/history"),
        format!("/dashboard/{committee}?period={period}"),
        format!("/dashboard/{committee}?period={period}&as_of=2030-01-01"),
        format!("/dashboard/group/{GROUP}?period={group_period}"),
        "/checks".to_owned(),
        "/import".to_owned(),
        "/review".to_owned(),
    ] {
        let page = browser.get(&path).await;
        pages.push((path, page));
    }
    let asset =
        Regex::new(r#"(?:src|href)="(/[^"]*\.(?:svg|js|css|png|woff2?)[^"]*|/chart/[^"]+)""#)
            .unwrap();
    for (path, page) in &pages {
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        let mut weight = page.body.len();
        let mut assets = 0;
        for found in asset.captures_iter(&page.body) {
            let url = html_unescape(&found[1]);
            let fetched = browser.get(&url).await;
            assert_eq!(fetched.status, 200, "{path} references {url}");
            weight += fetched.body.len();
            assets += 1;
        }
        if path.starts_with("/dashboard/") && !path.contains("as_of") {
            assert!(assets > 0, "{path}: its charts are counted");
        }
        assert!(
            weight < LIMIT,
            "{path} weighs {weight} bytes with its {assets} assets"
        );
    }
}

crate::both_backends!(every_page_with_its_assets_weighs_under_300_kb);

/// The committees' lines on Home (`/`), in order.
fn home_committees(body: &str) -> Vec<String> {
    Regex::new(r#"href="/dashboard/([a-z0-9-]+)\?period="#)
        .unwrap()
        .captures_iter(body)
        .map(|c| c[1].to_owned())
        .collect()
}

/// Home shows a page of committees, never all of them (1,316 at national
/// scale); `Trang sau` walks the rest without repeating or skipping one, and
/// an editor's pages hold only their committees.
async fn home_pages_its_committees(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, seeded) = app.get_json("/api/v1/committees").await;
    assert_eq!(status, 200);
    let seeded = seeded.as_array().map_or(0, Vec::len);
    let page = chitieu::web::home::HOME_PAGE_COMMITTEES;
    let extra = page + 3 - seeded.min(page);
    for n in 0..extra {
        let (status, body) = app
            .post_json(
                "/api/v1/committees",
                &json!({"code": format!("page-test-{n:03}"), "name_vi": format!("Đảng bộ thử {n}"),
                        "name_en": format!("Test {n}"), "kind": "other"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let (_, all) = app.get_json("/api/v1/committees").await;
    let mut expected: Vec<String> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap().to_owned())
        .collect();
    expected.sort();
    assert!(expected.len() > page);

    create_user(&app, "an", Role::Admin, &[]);
    let mut admin = Browser::new(&app);
    admin.sign_in("an", PASSWORD).await;
    let mut seen = Vec::new();
    let next_link = Regex::new(r#"rel="next" href="([^"]+)""#).unwrap();
    let mut path = format!("/?period={PERIOD}");
    for _ in 0..expected.len() {
        let home = admin.get(&path).await;
        assert_eq!(home.status, 200, "{}", home.body);
        let lines = home_committees(&home.body);
        assert!(
            !lines.is_empty() && lines.len() <= page,
            "{} lines",
            lines.len()
        );
        seen.extend(lines);
        match next_link.captures(&home.body) {
            Some(next) => path = html_unescape(&next[1]),
            None => break,
        }
    }
    assert_eq!(seen, expected);

    // An editor's page: their committee only, and no next page.
    create_user(&app, "lan", Role::Editor, &[HANAM]);
    let mut editor = Browser::new(&app);
    editor.sign_in("lan", PASSWORD).await;
    let home = editor.get(&format!("/?period={PERIOD}")).await;
    assert_eq!(home_committees(&home.body), vec![HANAM.to_owned()]);
    assert!(!home.body.contains("rel=\"next\""));
}

crate::both_backends!(home_pages_its_committees);
