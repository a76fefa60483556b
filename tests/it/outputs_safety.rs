//! Inputs are never destroyed or re-read, an output folder is always whole, and killed runs
//! leave nothing behind for good (src/output.rs).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use crate::util::*;

/// The names directly in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A workspace with two small submission files (so a run takes a moment, not minutes).
fn workspace() -> Workspace {
    let ws = Workspace::new();
    ws.write(
        "a.csv",
        csv(&[
            row(&[("cpr", "010180-1235"), ("initials", "AB")]),
            row(&[("cpr", "020280-1238"), ("situation", "street")]),
        ]),
    );
    ws.write("sub/b.csv", csv(&[row(&[("respondent_id", "r2")])]));
    ws
}

fn refused(out: &Output, needle: &str) {
    assert_eq!(out.status.code(), Some(2), "{}", stderr(out));
    assert!(stderr(out).contains(needle), "{}", stderr(out));
    assert!(!stderr(out).contains("panicked"), "{}", stderr(out));
}

/// Everything under the workspace (inputs, key, outputs).
fn everything(ws: &Workspace) -> BTreeMap<String, Vec<u8>> {
    tree(ws.path())
}

#[test]
fn out_equal_to_the_input_folder_is_refused_and_nothing_is_touched() {
    let ws = workspace();
    let before = everything(&ws);
    refused(&ws.run_to(&ws.input(), &[]), "is or contains the input");
    // The same folder spelled another way.
    refused(
        &ws.run_to(&ws.input().join("sub/.."), &[]),
        "is or contains the input",
    );
    assert_eq!(everything(&ws), before);
    assert_eq!(names(ws.path()), ["in", "key.txt"]);
}

#[test]
fn out_that_contains_the_inputs_is_refused() {
    let ws = workspace();
    let before = everything(&ws);
    // The workspace holds the input folder and the key file.
    refused(&ws.run_to(ws.path(), &[]), "is or contains the input");
    // A single input file inside --out, given directly.
    let out = hcount()
        .arg("run")
        .arg(ws.input().join("sub/b.csv"))
        .arg("--out")
        .arg(ws.input().join("sub"))
        .arg("--key-file")
        .arg(ws.key())
        .output()
        .unwrap();
    refused(&out, "is or contains the input");
    assert_eq!(everything(&ws), before);
}

#[test]
fn out_inside_the_input_folder_is_refused() {
    let ws = workspace();
    let before = everything(&ws);
    refused(
        &ws.run_to(&ws.input().join("results"), &[]),
        "inside the input folder",
    );
    // Through a symbolic link to a folder inside the inputs.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(ws.input().join("sub"), ws.path().join("link")).unwrap();
        refused(
            &ws.run_to(&ws.path().join("link/out"), &[]),
            "inside the input folder",
        );
        std::fs::remove_file(ws.path().join("link")).unwrap();
    }
    assert_eq!(everything(&ws), before);
}

#[test]
fn out_naming_a_file_is_refused_and_the_file_stays() {
    let ws = workspace();
    std::fs::write(ws.out(), "my notes").unwrap();
    let before = everything(&ws);
    refused(&ws.run(&[]), "is a file, not a folder");
    assert_eq!(everything(&ws), before);
    assert_eq!(names(ws.path()), ["in", "key.txt", "out"]);
}

#[test]
fn a_folder_hcount_did_not_write_is_not_replaced() {
    let ws = workspace();
    std::fs::create_dir(ws.out()).unwrap();
    std::fs::write(ws.out().join("thesis.docx"), "years of work").unwrap();
    let before = everything(&ws);
    refused(&ws.run(&[]), "is not a folder hcount wrote");
    assert_eq!(everything(&ws), before);
    // An empty folder, and an earlier output, are fine.
    std::fs::remove_file(ws.out().join("thesis.docx")).unwrap();
    ws.run_ok();
    ws.run_ok();
    assert_eq!(names(ws.path()), ["in", "key.txt", "out"]);
}

#[test]
fn synth_replaces_only_its_own_folders() {
    let ws = Workspace::new();
    let synth = |out: &Path, files: &str| {
        hcount()
            .args(["synth", "--persons", "40", "--files", files, "--out"])
            .arg(out)
            .output()
            .unwrap()
    };
    let out = ws.path().join("synthetic");
    assert!(synth(&out, "4").status.success());
    assert_eq!(names(&out).len(), 5, "{:?}", names(&out)); // 4 files and SYNTHETIC.txt
    // Again with fewer files: the folder is replaced, no stale file stays.
    let again = synth(&out, "2");
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(names(&out).len(), 3, "{:?}", names(&out));
    // Not over real submissions, nor over a file.
    ws.write("real.csv", csv(&[row(&[])]));
    let before = everything(&ws);
    refused(&synth(&ws.input(), "2"), "is not a folder hcount wrote");
    refused(&synth(&ws.key(), "2"), "is a file, not a folder");
    assert_eq!(everything(&ws), before);
    assert_eq!(names(ws.path()), ["in", "key.txt", "synthetic"]);
}

#[test]
fn template_never_overwrites_a_template_that_may_be_filled_in() {
    let ws = Workspace::new();
    let template = |out: &Path| {
        hcount()
            .args(["template", "--year", "2026", "--out"])
            .arg(out)
            .output()
            .unwrap()
    };
    let first = template(&ws.input());
    assert!(first.status.success(), "{}", stderr(&first));
    std::fs::write(ws.input().join("hcount-skabelon.csv"), "filled in").unwrap();
    let before = everything(&ws);
    refused(&template(&ws.input()), "already exists");
    refused(&template(&ws.key()), "is a file, not a folder");
    assert_eq!(everything(&ws), before);
    assert_eq!(
        names(&ws.input()),
        ["hcount-skabelon.csv", "hcount-skabelon.xlsx"]
    );
}

#[test]
fn report_needs_an_output_folder_of_run() {
    let ws = workspace();
    let before = everything(&ws);
    for out in [ws.input(), ws.key()] {
        let out = hcount()
            .args(["report", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        refused(&out, "is this an output folder of `hcount run`?");
    }
    assert_eq!(everything(&ws), before);
}

/// The output of a run without run.json (which has timings).
fn without_run_json(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut t = tree(dir);
    assert!(
        t.remove("run.json").is_some(),
        "no run.json in {}",
        dir.display()
    );
    t
}

/// Kills the final swap at each of its named points (the test hook of src/output.rs): the
/// output folder is always the earlier or the new output, whole, and the next run leaves
/// nothing behind.
#[test]
fn a_run_killed_inside_the_final_rename_leaves_a_whole_output() {
    let points: &[(&str, bool, bool)] = &[
        // (point, fallback swap?, is the new output in place after the kill?)
        ("before-swap", false, false),
        ("after-swap", false, true),
        ("removing-old", false, true),
        ("before-swap", true, false),
        ("after-move-aside", true, false),
        ("after-swap", true, true),
        ("removing-old", true, true),
    ];
    // The earlier output and the new one are made once (the same inputs and key give the
    // same output): each point starts from a copy of the earlier output, and only the
    // killed run and the runs after it are made per point.
    let base = workspace();
    base.run_ok();
    let earlier = without_run_json(&base.out());
    base.write("c.csv", csv(&[row(&[("respondent_id", "r3")])]));
    let reference = base.path().join("reference");
    assert!(base.run_to(&reference, &[]).status.success());
    let new = without_run_json(&reference);
    assert_ne!(earlier, new);
    for &(point, fallback, new_in_place) in points {
        let ws = workspace();
        copy_folder(&base.out(), &ws.out());
        ws.write("c.csv", csv(&[row(&[("respondent_id", "r3")])]));

        let mut cmd = hcount();
        cmd.arg("run")
            .arg(ws.input())
            .arg("--out")
            .arg(ws.out())
            .arg("--key-file")
            .arg(ws.key())
            .arg("--threads")
            .arg("2")
            .env("HCOUNT_TEST_ABORT_AT", point);
        if fallback {
            cmd.env("HCOUNT_TEST_RENAME_FALLBACK", "1");
        }
        let killed = cmd.output().unwrap();
        assert!(
            killed.status.code().is_none(),
            "{point}: not killed: {}",
            stderr(&killed)
        );
        if point == "after-move-aside" {
            // The one window of the fallback swap: the output is beside its place, whole.
            assert!(!ws.out().exists());
        } else {
            let now = without_run_json(&ws.out());
            let expected = if new_in_place { &new } else { &earlier };
            assert!(
                now == *expected,
                "{point} (fallback {fallback}): a mixed output"
            );
        }
        // The next run, even one that fails (a rejected row with --strict), puts an output
        // the kill left aside back, and cleans up.
        ws.write("bad.csv", csv(&[row(&[("situation", "nonsense")])]));
        let failed = ws.run(&["--strict"]);
        assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
        std::fs::remove_file(ws.input().join("bad.csv")).unwrap();
        let now = without_run_json(&ws.out());
        let expected = if new_in_place { &new } else { &earlier };
        assert!(
            now == *expected,
            "{point} (fallback {fallback}): not put back"
        );
        assert_eq!(names(ws.path()), ["in", "key.txt", "out"], "{point}");
        // Where the earlier output was put back, the next run must still bring the new one.
        // (Where the new one is in place, the folders are now exactly as after a whole run.)
        if !new_in_place {
            ws.run_ok();
            assert_eq!(without_run_json(&ws.out()), new);
            assert_eq!(names(ws.path()), ["in", "key.txt", "out"], "{point}");
        }
    }
}

/// SIGKILL at many moments of a run (from start-up to the end): the output folder is
/// always the earlier or the new output, whole; the next run leaves nothing behind. The
/// delays only spread the kills over the run; nothing asserts on time. The count is dense
/// (3,000 persons): a sparse one spends most of a debug run in the suppression's LP solves
/// (600 persons: 20 s), where the kills, all within 3.6 s, never reached the report.
#[test]
fn a_run_killed_at_any_moment_leaves_a_whole_output() {
    let ws = Workspace::new();
    let synth = hcount()
        .args([
            "synth",
            "--persons",
            "3000",
            "--files",
            "6",
            "--year",
            "2024",
        ])
        .arg("--out")
        .arg(ws.input())
        .output()
        .unwrap();
    assert!(synth.status.success(), "{}", stderr(&synth));
    ws.write("extra.csv", csv(&[row(&[("respondent_id", "r3")])]));
    ws.run_ok();
    let first = without_run_json(&ws.out());
    std::fs::remove_file(ws.input().join("extra.csv")).unwrap();
    let reference = ws.path().join("reference");
    assert!(ws.run_to(&reference, &[]).status.success());
    let second = without_run_json(&reference);
    std::fs::remove_dir_all(&reference).unwrap();

    for step in 0..16u64 {
        let mut child = hcount()
            .arg("run")
            .arg(ws.input())
            .arg("--out")
            .arg(ws.out())
            .arg("--key-file")
            .arg(ws.key())
            .args(["--threads", "2", "--quiet"])
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(step * step * 16));
        let _ = child.kill(); // SIGKILL; it may have finished already
        child.wait().unwrap();
        let now = without_run_json(&ws.out());
        assert!(now == first || now == second, "kill {step}: a mixed output");
    }
    ws.run_ok();
    assert_eq!(without_run_json(&ws.out()), second);
    assert_eq!(names(ws.path()), ["in", "key.txt", "out"]);
}
