//! What a person sees: `validate` output (snapshots), exit codes, help.

use crate::util::*;

/// `validate` in English (unless `extra` names a language): Danish is the default, tested in
/// `hostile.rs`; these snapshots and messages are the English ones.
fn validate(ws: &Workspace, extra: &[&str]) -> std::process::Output {
    let mut cmd = hcount();
    cmd.arg("validate").arg(ws.input()).args(extra);
    if !extra.contains(&"--lang") {
        cmd.args(["--lang", "en"]);
    }
    cmd.output().unwrap()
}

fn messy(ws: &Workspace) {
    ws.write(
        "shelter_a.csv",
        csv(&[
            row(&[("cpr", "010180-1235"), ("respondent_id", "shelter-a")]),
            row(&[("cpr", "310299-1234"), ("respondent_id", "shelter-a")]),
            row(&[("situation", "homless"), ("respondent_id", "shelter-a")]),
            row(&[
                ("municipality", "999"),
                ("sex", "x"),
                ("respondent_id", "shelter-a"),
            ]),
        ]),
    );
    ws.write(
        "outreach.csv",
        csv(&[row(&[
            ("cpr", "0101801235"),
            ("respondent_id", "outreach-1"),
        ])]),
    );
}

#[test]
fn validate_lists_problems_and_exits_1() {
    let ws = Workspace::new();
    messy(&ws);
    let out = validate(&ws, &[]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("validate_text", stdout(&out));
}

#[test]
fn validate_json() {
    let ws = Workspace::new();
    messy(&ws);
    let out = validate(&ws, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["total"]["rows_read"], 5);
    assert_eq!(v["total"]["rows_rejected"], 3);
    let problems = v["problems"].as_array().unwrap();
    let cpr = problems.iter().find(|p| p["code"] == "E008").unwrap();
    assert_eq!(cpr["value"], "310299-****");
    assert_eq!(cpr["line"], 3);
    assert_eq!(cpr["file"], "shelter_a.csv");
}

#[test]
fn validate_exits_0_on_a_clean_file_and_needs_no_key() {
    let ws = Workspace::new();
    ws.write("ok.csv", csv(&[row(&[("cpr", "010180-1235")])]));
    let out = validate(&ws, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("1 row read, 1 accepted, 0 rejected"));
}

#[test]
fn help_explains() {
    let out = hcount().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    for word in ["run", "validate", "synth", "Exit codes"] {
        assert!(text.contains(word), "{word} missing from --help");
    }
    let out = hcount().args(["run", "--help"]).output().unwrap();
    assert!(stdout(&out).contains("HCOUNT_KEY_FILE"));
}

#[test]
fn rules_are_listed_with_fixes() {
    let out = hcount().args(["rules", "--lang", "en"]).output().unwrap();
    let text = stdout(&out);
    for code in ["E001", "E014", "W001", "W010"] {
        assert!(text.contains(code));
    }
}

#[test]
fn every_rule_is_documented() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/RULES.md")).unwrap();
    let out = hcount().args(["rules", "--lang", "en"]).output().unwrap();
    for line in stdout(&out).lines().filter(|l| !l.starts_with(' ')) {
        let (code, rest) = line.split_once("  ").unwrap();
        let title = rest.rsplit_once(" (").unwrap().0;
        assert!(
            doc.contains(&format!("| `{code}` |")),
            "{code} not in docs/RULES.md"
        );
        assert!(
            doc.contains(title),
            "{code}: {title:?} not in docs/RULES.md"
        );
    }
}

/// The session shown in the README ("Checking a file before sending it"): the three mistakes
/// submitters make most, in `fixtures/mistakes/`. If this snapshot changes, update the README.
#[test]
fn the_readme_validate_session() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mistakes");
    let out = hcount()
        .arg("validate")
        .arg(&dir)
        .args(["--lang", "en"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("readme_validate_session", stdout(&out));
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    assert!(
        readme.contains(stdout(&out).trim_end()),
        "README's validate session is out of date"
    );
}
