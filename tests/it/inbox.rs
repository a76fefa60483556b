//! The inbox of a count round: units and tokens, uploads through `hcount inbox add`,
//! versions, held uploads, `status`, `run --inbox`, durability under SIGKILL, and no raw CPR
//! number anywhere under the inbox folder.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::util::{Workspace, csv, hcount, read_csv, row, stderr, stdout, tree};

/// A distinct valid CPR number for person `i`.
fn cpr(i: usize) -> String {
    format!(
        "{:02}{:02}{:02}-{:04}",
        1 + i % 28,
        1 + (i / 28) % 12,
        60 + (i / 336) % 30,
        1000 + i
    )
}

/// Rows of `unit` (a shelter in `municipality`) for persons `persons`, with CPR numbers.
fn rows(
    unit: &str,
    municipality: &str,
    persons: impl IntoIterator<Item = usize>,
) -> Vec<Vec<String>> {
    persons
        .into_iter()
        .map(|i| {
            let c = cpr(i);
            row(&[
                ("respondent_id", unit),
                ("municipality", municipality),
                ("cpr", &c),
            ])
        })
        .collect()
}

struct Round {
    ws: Workspace,
}

impl Round {
    fn new(units: &[(&str, &str, &str)]) -> Round {
        let ws = Workspace::new();
        let mut text = String::from("respondent_id,name,respondent_type,municipality\n");
        for (id, kind, municipality) in units {
            text.push_str(&format!("{id},Enhed {id},{kind},{municipality}\n"));
        }
        std::fs::write(ws.path().join("units.csv"), text).unwrap();
        let round = Round { ws };
        let out = round.units_import();
        assert!(out.status.success(), "{}", stderr(&out));
        round
    }

    fn inbox(&self) -> PathBuf {
        self.ws.path().join("inbox")
    }

    fn units_import(&self) -> Output {
        hcount()
            .args(["units", "import"])
            .arg(self.ws.path().join("units.csv"))
            .arg("--inbox")
            .arg(self.inbox())
            .output()
            .unwrap()
    }

    /// Writes `files` under `uploads/` and adds them as `unit`'s upload.
    fn add(&self, unit: &str, files: &[(&str, &str)], extra: &[&str]) -> Output {
        let dir = self.ws.path().join("uploads").join(unit);
        std::fs::create_dir_all(&dir).unwrap();
        let mut cmd = self.add_command(unit, extra);
        for (name, text) in files {
            let p = dir.join(name);
            std::fs::write(&p, text).unwrap();
            cmd.arg(p);
        }
        cmd.output().unwrap()
    }

    fn add_command(&self, unit: &str, extra: &[&str]) -> std::process::Command {
        let mut cmd = hcount();
        cmd.args(["inbox", "add", "--unit", unit, "--inbox"])
            .arg(self.inbox())
            .arg("--key-file")
            .arg(self.ws.key())
            .args(extra);
        cmd
    }

    fn inbox_cmd(&self, args: &[&str]) -> Output {
        hcount()
            .args(["inbox"])
            .args(args)
            .arg("--inbox")
            .arg(self.inbox())
            .output()
            .unwrap()
    }

    /// `hcount inbox history` as rows (header first).
    fn history(&self, unit: &str) -> Vec<Vec<String>> {
        let out = self.inbox_cmd(&["history", "--unit", unit]);
        assert!(out.status.success(), "{}", stderr(&out));
        ::csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(out.stdout.as_slice())
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect()
    }

    fn run_inbox(&self, out: &Path) -> Output {
        hcount()
            .arg("run")
            .arg("--inbox")
            .arg(self.inbox())
            .arg("--out")
            .arg(out)
            .arg("--key-file")
            .arg(self.ws.key())
            .args(["--threads", "2"])
            .output()
            .unwrap()
    }

    /// Persons counted by `run --inbox`.
    fn counted(&self) -> String {
        let out = self.ws.path().join("counted");
        let o = self.run_inbox(&out);
        assert!(o.status.success(), "{}", stderr(&o));
        read_csv(&out.join("tables/national_by_category.csv"))
            .into_iter()
            .find(|r| r[0] == "total")
            .map(|r| r[1].clone())
            .unwrap()
    }
}

#[test]
fn units_import_prints_each_new_unit_s_token_once() {
    let round = Round::new(&[]);
    std::fs::write(
        round.ws.path().join("units.csv"),
        "respondent_id,name,respondent_type,municipality\nA-1,Herberg A,shelter,101\nB-2,Sygehus B,hospital,751\n",
    )
    .unwrap();
    let out = round.units_import();
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<String> = stdout(&out).lines().map(String::from).collect();
    assert_eq!(lines[0], "respondent_id,token");
    assert_eq!(lines.len(), 3);
    let tokens: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert!(lines[1].starts_with("A-1,") && lines[2].starts_with("B-2,"));
    assert!(tokens.iter().all(|t| t.len() == 32), "{tokens:?}");
    assert_ne!(tokens[0], tokens[1]);
    // The tokens are stored only as hashes.
    for (_, bytes) in tree(&round.inbox()) {
        for t in &tokens {
            assert!(!bytes.windows(t.len()).any(|w| w == t.as_bytes()));
        }
    }
    // Importing again: no new units, no tokens shown.
    let again = round.units_import();
    assert!(again.status.success());
    assert_eq!(stdout(&again), "respondent_id,token\n");

    // A bad file changes nothing and says which lines are wrong.
    std::fs::write(
        round.ws.path().join("units.csv"),
        "respondent_id,name,respondent_type,municipality\nC-3,x,castle,101\nD/4,y,shelter,999\n",
    )
    .unwrap();
    let bad = round.units_import();
    assert_eq!(bad.status.code(), Some(2));
    let err = stderr(&bad);
    assert!(err.contains("line 2") && err.contains("castle"), "{err}");
    assert!(err.contains("line 3") && err.contains("\"D/4\""), "{err}");
    let status = hcount()
        .args(["status", "--format", "csv", "--inbox"])
        .arg(round.inbox())
        .output()
        .unwrap();
    assert_eq!(stdout(&status).lines().count(), 3, "{}", stdout(&status));
}

#[test]
fn inbox_add_refuses_other_units_rows_with_validate_s_exit_codes() {
    let round = Round::new(&[("A-1", "shelter", "101"), ("B-2", "hospital", "751")]);
    // Own rows only: 0.
    let ok = round.add("A-1", &[("a.csv", &csv(&rows("A-1", "101", 0..3)))], &[]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert!(stderr(&ok).contains("version 1"), "{}", stderr(&ok));

    // A row of another unit is refused, the unit's own rows are stored: 1.
    let mut mixed = rows("A-1", "101", 0..3);
    mixed.extend(rows("B-2", "751", 10..11));
    let out = round.add("A-1", &[("a.csv", &csv(&mixed))], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("E006") && text.contains("anden enhed"),
        "{text}"
    );
    assert!(
        !text.contains(&cpr(10)) && !text.contains(&cpr(10).replace('-', "")),
        "{text}"
    );
    let h = round.history("A-1");
    assert_eq!(h[1][0], "2");
    assert_eq!(
        (h[1][6].as_str(), h[1][7].as_str(), h[1][8].as_str()),
        ("4", "3", "1")
    );

    // Could not run: 2, and nothing stored.
    for (unit, file) in [
        ("A-1", ("a.pdf", "x")),
        ("C-9", ("a.csv", "x")),
        ("A-1", ("u.csv", "\u{0}\u{0}bin")),
    ] {
        let out = round.add(unit, &[file], &[]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{unit} {file:?}: {}",
            stderr(&out)
        );
    }
    assert_eq!(round.history("A-1").len(), 3);
    // A key other than the inbox's is refused: its pseudonyms would not meet the others.
    std::fs::write(
        round.ws.path().join("other.key"),
        "another key, 32 bytes or so long\n",
    )
    .unwrap();
    let mut cmd = hcount();
    let p = round.ws.path().join("uploads/A-1/a.csv");
    let out = cmd
        .args(["inbox", "add", "--unit", "A-1", "--inbox"])
        .arg(round.inbox())
        .arg("--key-file")
        .arg(round.ws.path().join("other.key"))
        .arg(p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not the key"), "{}", stderr(&out));
}

#[test]
fn a_new_upload_replaces_the_slice_and_the_coordinator_can_restore_an_earlier_one() {
    let round = Round::new(&[("A-1", "shelter", "101")]);
    assert_eq!(
        round
            .add("A-1", &[("a.csv", &csv(&rows("A-1", "101", 0..4)))], &[])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(round.counted(), "4");
    assert_eq!(
        round
            .add("A-1", &[("a2.csv", &csv(&rows("A-1", "101", 0..6)))], &[])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(round.counted(), "6");
    let h = round.history("A-1");
    assert_eq!(h.len(), 3);
    assert_eq!(
        (h[1][0].as_str(), h[1][3].as_str(), h[1][4].as_str()),
        ("2", "counts", "a2.csv")
    );
    assert_eq!((h[2][0].as_str(), h[2][3].as_str()), ("1", "earlier"));
    assert_eq!(h[2][5].len(), 64, "file SHA-256");

    let out = round.inbox_cmd(&["restore", "--unit", "A-1", "--version", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(round.counted(), "4");
    let h = round.history("A-1");
    assert_eq!((h[1][3].as_str(), h[2][3].as_str()), ("earlier", "counts"));
    let out = round.inbox_cmd(&["restore", "--unit", "A-1", "--version", "7"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_upload_dropping_most_earlier_persons_is_held_until_confirmed() {
    let round = Round::new(&[("A-1", "shelter", "101")]);
    assert_eq!(
        round
            .add("A-1", &[("a.csv", &csv(&rows("A-1", "101", 0..12)))], &[])
            .status
            .code(),
        Some(0)
    );
    // Keeps 2 of 12: held (exit 3), the 12 still count.
    let out = round.add("A-1", &[("a.csv", &csv(&rows("A-1", "101", 0..2)))], &[]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("keeps 2 of the 12"),
        "{}",
        stderr(&out)
    );
    assert_eq!(round.counted(), "12");
    let h = round.history("A-1");
    assert_eq!((h[1][3].as_str(), h[2][3].as_str()), ("held", "counts"));
    let status = hcount()
        .args(["status", "--lang", "en", "--inbox"])
        .arg(round.inbox())
        .output()
        .unwrap();
    assert!(
        stdout(&status).contains("Held uploads waiting for confirmation (1)"),
        "{}",
        stdout(&status)
    );

    let out = round.inbox_cmd(&["confirm", "--unit", "A-1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(round.counted(), "2");
    // Nothing left to confirm.
    assert_eq!(
        round.inbox_cmd(&["confirm", "--unit", "A-1"]).status.code(),
        Some(2)
    );
    // Dropping 1 of 2 is not unusual (fewer than 10), and --confirm skips the check.
    assert_eq!(
        round
            .add("A-1", &[("a.csv", &csv(&rows("A-1", "101", 0..1)))], &[])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        round
            .add("A-1", &[("a.csv", &csv(&rows("A-1", "101", 0..12)))], &[])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        round
            .add("A-1", &[("a.csv", &csv(&[]))], &["--confirm"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(round.counted(), "0");
}

/// Several units, shared persons, unidentified and rejected rows, a replaced upload and a
/// header-only answer: `run --inbox` gives the tables `run` gives on the same files, laid out
/// one folder per unit. Then no raw CPR number is anywhere under the inbox or in any output.
#[test]
fn run_inbox_gives_the_same_tables_as_run_on_the_files_and_no_raw_cpr_is_kept() {
    let units = [
        ("A-1", "shelter", "101"),
        ("B-2", "hospital", "751"),
        ("C-3", "municipality", "461"),
        ("D-4", "drop_in", "101"),
        ("E-5", "prison_probation", "851"),
    ];
    let round = Round::new(&units);
    let mut a = rows("A-1", "101", 0..40);
    a.push(row(&[
        ("respondent_id", "A-1"),
        ("initials", "JPH"),
        ("birth_date", "1980-01-01"),
        ("sex", "m"),
    ]));
    a.push(row(&[("respondent_id", "A-1")])); // unidentified
    a.push(row(&[("respondent_id", "A-1"), ("cpr", "3213801234")])); // rejected: no such date
    a.push(row(&[
        ("respondent_id", "A-1"),
        ("cpr", &cpr(500)),
        ("municipality", "999"),
    ])); // rejected
    let b = rows("B-2", "751", 20..60); // 20 persons also reported by A-1
    let mut c = rows("C-3", "461", 100..130);
    c.push(row(&[
        ("respondent_id", "C-3"),
        ("situation", "hospital"),
        ("cpr", &cpr(0)),
    ]));
    let d_wrong = rows("D-4", "101", 200..205);
    let d = rows("D-4", "101", 200..203);
    let files: Vec<(&str, &str, String)> = vec![
        ("A-1", "optaelling.csv", csv(&a)),
        ("B-2", "data.csv", csv(&b)),
        ("C-3", "data.csv", csv(&c).replace(',', ";")),
        ("D-4", "liste.csv", csv(&d)),
        ("E-5", "ingen.csv", csv(&[])),
    ];
    let mut logs = String::new();
    let first = round.add("D-4", &[("forkert.csv", &csv(&d_wrong))], &[]);
    logs += &(stdout(&first) + &stderr(&first));
    for (unit, name, text) in &files {
        let out = round.add(unit, &[(name, text)], &[]);
        logs += &(stdout(&out) + &stderr(&out));
        assert!(out.status.code().unwrap() <= 1, "{unit}: {}", stderr(&out));
        round.ws.write(&format!("{unit}/{name}"), text);
    }
    let from_inbox = round.ws.path().join("from-inbox");
    let o = round.run_inbox(&from_inbox);
    assert!(o.status.success(), "{}", stderr(&o));
    logs += &(stdout(&o) + &stderr(&o));
    let o = round.ws.run(&[]);
    assert!(o.status.success(), "{}", stderr(&o));

    let inbox_tree = tree(&from_inbox);
    let files_tree = tree(&round.ws.out());
    let mut compared = 0;
    for (path, bytes) in &files_tree {
        if path.starts_with("tables/")
            || path == "rejected.csv"
            || path == "warnings.csv"
            || path.starts_with("feedback/")
        {
            assert!(
                inbox_tree.get(path) == Some(bytes),
                "{path} differs between run --inbox and run"
            );
            compared += 1;
        }
    }
    assert!(compared >= 12, "{compared}");
    assert_eq!(
        read_csv(&from_inbox.join("tables/national_by_category.csv")),
        read_csv(&round.ws.out().join("tables/national_by_category.csv"))
    );
    // Only the inbox knows who was asked: 5 asked, 5 answered, 1 with none.
    let response = read_csv(&from_inbox.join("response.csv"));
    assert_eq!(response[1], ["total", "total", "5", "5", "1", "100.0"]);
    assert!(!round.ws.out().join("response.csv").exists());
    let md = std::fs::read_to_string(from_inbox.join("report.md")).unwrap();
    assert!(md.contains("## Svarprocent"), "{md}");
    let md = std::fs::read_to_string(round.ws.out().join("report.md")).unwrap();
    assert!(!md.contains("Svarprocent"));

    // No raw CPR number, with or without its dash, in any byte under the inbox or in what
    // the commands printed.
    let mut raw: Vec<String> = (0..501).map(cpr).collect();
    raw.push("321380-1234".into());
    let raw: Vec<String> = raw
        .iter()
        .flat_map(|c| [c.clone(), c.replace('-', "")])
        .collect();
    let inbox = tree(&round.inbox());
    assert!(inbox.keys().any(|k| k.ends_with(".parquet")));
    for (path, bytes) in &inbox {
        for c in &raw {
            assert!(
                !bytes.windows(c.len()).any(|w| w == c.as_bytes()),
                "raw CPR {c} in inbox/{path}"
            );
        }
    }
    for c in &raw {
        assert!(
            !logs.contains(c.as_str()),
            "raw CPR {c} in the output of a command"
        );
    }
}

#[test]
fn status_text_and_csv() {
    let round = Round::new(&[
        ("A-1", "shelter", "101"),
        ("B-2", "hospital", "751"),
        ("C-3", "shelter", "461"),
        ("D-4", "municipality", "101"),
    ]);
    let mut a = rows("A-1", "101", 0..3);
    a.push(row(&[("respondent_id", "A-1"), ("municipality", "999")]));
    assert_eq!(
        round.add("A-1", &[("a.csv", &csv(&a))], &[]).status.code(),
        Some(1)
    );
    assert_eq!(
        round.add("B-2", &[("b.csv", &csv(&[]))], &[]).status.code(),
        Some(0)
    );
    let time = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z";
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(time, "[time]");
    settings.bind(|| {
        for (format, name) in [("text", "inbox_status_text"), ("csv", "inbox_status_csv")] {
            let out = hcount()
                .args(["status", "--format", format, "--lang", "en", "--inbox"])
                .arg(round.inbox())
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", stderr(&out));
            insta::assert_snapshot!(name, stdout(&out));
        }
    });
    let da = hcount()
        .args(["status", "--lang", "da", "--inbox"])
        .arg(round.inbox())
        .output()
        .unwrap();
    assert!(
        stdout(&da).contains("2 af 4 enheder har svaret"),
        "{}",
        stdout(&da)
    );
    // A folder that is not an inbox is refused, not created.
    let out = hcount()
        .args(["status", "--inbox"])
        .arg(round.ws.path().join("nope"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!round.ws.path().join("nope").exists());
}

/// SIGKILL `hcount inbox add` at many points while it uploads: every completed upload is
/// there, no version points at a half-written slice, and the earlier slice still counts.
#[test]
fn killed_uploads_lose_nothing_and_leave_no_half_slice() {
    let round = Round::new(&[("A-1", "shelter", "101")]);
    assert_eq!(
        round
            .add("A-1", &[("a.csv", &csv(&rows("A-1", "101", 0..3000)))], &[])
            .status
            .code(),
        Some(0)
    );
    // Same persons plus one: never held, so every completed attempt becomes the slice.
    let next = csv(&rows("A-1", "101", 0..3001));
    let path = round.ws.path().join("next.csv");
    std::fs::write(&path, &next).unwrap();
    let mut completed = 0;
    // Kill points spread from "at once" to "probably done": bounded, 16 attempts.
    for attempt in 0..16u64 {
        let mut child = round
            .add_command("A-1", &[])
            .arg(&path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(attempt * attempt * 8));
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        if status.success() {
            completed += 1;
        }
    }
    // Every completed upload is a version; every version's slice is whole (its footer,
    // where the reports are, is read).
    let h = round.history("A-1");
    let versions = h.len() - 1;
    assert!(
        versions > completed,
        "{versions} versions, {completed} completed"
    );
    let inbox = hcount::inbox::Inbox::open_existing(&round.inbox()).unwrap();
    for v in inbox.history("A-1").unwrap() {
        inbox.problems("A-1", v.number).unwrap();
    }
    assert_eq!(h.iter().filter(|r| r[3] == "counts").count(), 1);
    let counted = round.counted();
    let current = &h.iter().find(|r| r[3] == "counts").unwrap()[0];
    assert_eq!(counted, if current == "1" { "3000" } else { "3001" });
    // A clean upload after the kills works as ever.
    assert_eq!(
        round.add("A-1", &[("c.csv", &next)], &[]).status.code(),
        Some(0)
    );
    assert_eq!(round.counted(), "3001");
}

/// The store's API as the web inbox uses it: tokens sign in until revoked, a reissued token
/// replaces the old one, the coordinator's token is its own, a unit's problems hold only its
/// own rows, and the audit log cannot be changed.
#[test]
fn tokens_problems_and_the_append_only_audit_log() {
    use hcount::inbox::{Actor, Inbox, UploadFile, UploadOutcome};
    let ws = Workspace::new();
    let inbox = Inbox::open(&ws.path().join("inbox")).unwrap();
    let issued = inbox
        .import_units(b"respondent_id,name,respondent_type,municipality\nA-1,Herberg,shelter,101\nB-2,Sygehus,hospital,751\n")
        .unwrap();
    let token = &issued[0].1;
    assert_eq!(
        inbox.unit_for_token(token).unwrap().unwrap().respondent_id,
        "A-1"
    );
    assert_eq!(
        inbox
            .unit_for_token(&format!(" {token}\n"))
            .unwrap()
            .unwrap()
            .respondent_id,
        "A-1"
    );
    assert!(inbox.unit_for_token("not a token").unwrap().is_none());
    assert!(
        inbox
            .unit_for_token(&issued[1].1)
            .unwrap()
            .unwrap()
            .respondent_id
            == "B-2"
    );
    assert!(!inbox.is_coordinator(token).unwrap());
    let coordinator = inbox.issue_coordinator_token().unwrap();
    assert!(inbox.is_coordinator(&coordinator).unwrap());
    assert!(inbox.unit_for_token(&coordinator).unwrap().is_none());
    inbox.revoke_token("A-1", Actor::Coordinator).unwrap();
    assert!(inbox.unit_for_token(token).unwrap().is_none());
    let new = inbox.reissue_token("A-1", Actor::Coordinator).unwrap();
    assert!(inbox.unit_for_token(token).unwrap().is_none());
    assert_eq!(
        inbox.unit_for_token(&new).unwrap().unwrap().respondent_id,
        "A-1"
    );
    assert!(inbox.reissue_token("Z-9", Actor::Coordinator).is_err());

    // A's file carries a row of B that is also invalid (bad municipality): A sees only
    // that the row is refused, not B's value or B's other problems.
    let mut r = rows("A-1", "101", 0..2);
    r.push(row(&[
        ("respondent_id", "B-2"),
        ("municipality", "998"),
        ("cpr", &cpr(7)),
    ]));
    r.push(row(&[("respondent_id", "A-1"), ("municipality", "997")]));
    let key = hcount::intake::pseudonymise::Key::from_file(&ws.key()).unwrap();
    let file = UploadFile {
        name: r"C:\Users\x\Desktop\a.csv".into(),
        bytes: csv(&r).into_bytes(),
    };
    let outcome = inbox
        .submit("A-1", &[file], &key, Actor::Unit, false)
        .unwrap();
    let UploadOutcome::Stored(upload) = outcome else {
        panic!("held")
    };
    assert_eq!(
        upload.version.files,
        ["a.csv"],
        "the folder on the sender's machine is not kept"
    );
    assert_eq!(
        (upload.version.rows_accepted, upload.version.rows_rejected),
        (2, 2)
    );
    let problems = inbox.problems("A-1", 1).unwrap();
    let codes: Vec<(u64, &str, &str)> = problems
        .iter()
        .map(|p| (p.line, p.code.code(), p.column.as_str()))
        .collect();
    assert_eq!(
        codes,
        [(4, "E006", "respondent_id"), (5, "E012", "municipality")],
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .all(|p| &*p.file == "A-1/a.csv" && !p.value.contains("998"))
    );
    assert!(inbox.problems("A-1", 2).is_err());

    let audit = inbox.audit(Some("A-1")).unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "unit_added",
            "token_revoked",
            "token_reissued",
            "upload_stored"
        ]
    );
    assert_eq!(audit[3].rows_rejected, Some(2));
    assert_eq!(audit[3].sha256.as_deref().map(str::len), Some(64));
    let db = rusqlite::Connection::open(ws.path().join("inbox/inbox.sqlite")).unwrap();
    assert!(db.execute("DELETE FROM audit", []).is_err());
    assert!(db.execute("UPDATE audit SET action = 'x'", []).is_err());
    assert_eq!(inbox.audit(None).unwrap().len(), 6);
}

/// An .xlsx upload is read from memory, and `inbox add` prints what `validate` prints for the
/// same file (the file named `<unit>/<file>`).
#[test]
fn an_xlsx_upload_says_what_validate_says() {
    let round = Round::new(&[("A-1", "shelter", "101")]);
    let mut r = rows("A-1", "101", 0..3);
    r.push(row(&[("respondent_id", "A-1"), ("situation", "street")]));
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (j, c) in crate::util::COLUMNS.iter().enumerate() {
        sheet.write_string(0, j as u16, *c).unwrap();
    }
    for (i, cells) in r.iter().enumerate() {
        for (j, v) in cells.iter().enumerate() {
            sheet.write_string(i as u32 + 1, j as u16, v).unwrap();
        }
    }
    let path = round.ws.path().join("a.xlsx");
    book.save(&path).unwrap();
    let validate = hcount().arg("validate").arg(&path).output().unwrap();
    assert_eq!(validate.status.code(), Some(1));
    let add = round.add_command("A-1", &[]).arg(&path).output().unwrap();
    assert_eq!(add.status.code(), Some(1), "{}", stderr(&add));
    assert_eq!(
        stdout(&add),
        stdout(&validate).replace("a.xlsx", "A-1/a.xlsx")
    );
    assert!(stdout(&add).contains("E003"), "{}", stdout(&add));
}

/// Many units uploading at once: every upload is stored (writers wait their turn).
#[test]
fn concurrent_uploads_of_many_units_are_all_stored() {
    let units: Vec<(String, &str, &str)> = (0..8)
        .map(|i| (format!("U-{i}"), "shelter", "101"))
        .collect();
    let refs: Vec<(&str, &str, &str)> =
        units.iter().map(|(a, b, c)| (a.as_str(), *b, *c)).collect();
    let round = Round::new(&refs);
    let children: Vec<_> = units
        .iter()
        .enumerate()
        .map(|(i, (unit, _, _))| {
            let p = round.ws.path().join(format!("{unit}.csv"));
            std::fs::write(&p, csv(&rows(unit, "101", i * 100..i * 100 + 50))).unwrap();
            round
                .add_command(unit, &[])
                .arg(p)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let status = hcount()
        .args(["status", "--lang", "en", "--inbox"])
        .arg(round.inbox())
        .output()
        .unwrap();
    assert!(
        stdout(&status).starts_with("Count 2024: 8 of 8 units answered"),
        "{}",
        stdout(&status)
    );
    assert_eq!(round.counted(), "400");
}
