//! The README's API walk-through is the script CI runs: every command block of
//! the section (after the first, which makes the token and names the server)
//! is a `step` of `examples/walkthrough.sh`, in the same order, character for
//! character.

use std::path::Path;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The `sh` blocks of the README's "API walk-through" section.
fn readme_blocks() -> Vec<String> {
    let readme = read("README.md");
    let start = readme
        .find("\n## API walk-through\n")
        .expect("README has an API walk-through");
    let section = &readme[start + 1..];
    let end = section[3..].find("\n## ").map_or(section.len(), |i| i + 3);
    let mut blocks = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in section[..end].lines() {
        match (&mut current, line) {
            (None, "```sh") => current = Some(Vec::new()),
            (Some(lines), "```") => {
                blocks.push(lines.join("\n"));
                current = None;
            }
            (Some(lines), line) => lines.push(line),
            (None, _) => {}
        }
    }
    blocks
}

/// The bodies of the script's `step NAME <<'SH'` … `SH` blocks.
fn script_steps() -> Vec<String> {
    let script = read("examples/walkthrough.sh");
    let mut steps = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in script.lines() {
        match &mut current {
            None if line.starts_with("step ") && line.ends_with("<<'SH'") => {
                current = Some(Vec::new())
            }
            Some(lines) if line == "SH" => {
                steps.push(lines.join("\n"));
                current = None;
            }
            Some(lines) => lines.push(line),
            None => {}
        }
    }
    steps
}

#[test]
fn the_readme_walk_through_is_the_script_ci_runs() {
    let blocks = readme_blocks();
    let steps = script_steps();
    assert!(
        steps.len() > 10,
        "the script has its steps: {}",
        steps.len()
    );
    let (setup, shown) = blocks.split_first().expect("the README has command blocks");
    assert!(setup.contains("token create") && setup.contains("API=$HOST/api/v1"));
    for (index, (shown, step)) in shown.iter().zip(&steps).enumerate() {
        assert_eq!(
            shown,
            step,
            "README walk-through block {} differs from step {} of examples/walkthrough.sh",
            index + 2,
            index + 1
        );
    }
    assert_eq!(
        shown.len(),
        steps.len(),
        "as many README blocks as script steps"
    );
}
