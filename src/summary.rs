//! What a person reads on the terminal: the validate listing and summary, the run summary,
//! the list of rules. Paths are shown as given; CPR numbers never appear (values are masked
//! at validation).

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::intake::validate::{Problem, Rule};
use crate::run::{Intake, RunSummary};

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// Problems grouped by rule, each with its locations; then one line per file and a total.
pub fn validate_text(intake: &Intake, da: bool) -> String {
    let mut out = String::new();
    let mut by_rule: BTreeMap<Rule, Vec<&Problem>> = BTreeMap::new();
    for p in &intake.problems {
        by_rule.entry(p.code).or_default().push(p);
    }
    const SHOWN: usize = 20;
    for (rule, problems) in &by_rule {
        let kind = match (rule.is_error(), da) {
            (true, false) => "rejected",
            (false, false) => "warning",
            (true, true) => "afvist",
            (false, true) => "advarsel",
        };
        let times = if da {
            plural(problems.len() as u64, "gang", "gange")
        } else {
            plural(problems.len() as u64, "time", "times")
        };
        let _ = writeln!(
            out,
            "{} {} ({kind}): {times} — {}",
            rule.code(),
            rule.title_in(da),
            rule.fix_in(da)
        );
        // Each line to show, with the number of rows it stands for when that is more than
        // its own: a missing column rejects every row of its file, so E001 gets one line per
        // file and column instead of the same message for each row.
        let lines: Vec<(&Problem, Option<u64>)> = if *rule == Rule::E001 {
            let mut lines: Vec<(&Problem, Option<u64>)> = Vec::new();
            let mut index: BTreeMap<(&str, &str), usize> = BTreeMap::new();
            for p in problems {
                let i = *index
                    .entry((&*p.file, p.column.as_str()))
                    .or_insert_with(|| {
                        lines.push((p, Some(0)));
                        lines.len() - 1
                    });
                if let Some(n) = &mut lines[i].1 {
                    *n += 1;
                }
            }
            lines
        } else {
            problems.iter().map(|p| (*p, None)).collect()
        };
        for (p, rows) in lines.iter().take(SHOWN) {
            let column = if p.column.is_empty() {
                String::new()
            } else if da {
                format!(", kolonne {}", p.column)
            } else {
                format!(", column {}", p.column)
            };
            if let Some(rows) = rows {
                let every = if da {
                    plural(*rows, "række afvist", "rækker afvist")
                } else {
                    plural(*rows, "row rejected", "rows rejected")
                };
                let _ = writeln!(out, "  {}{column} — {} ({every})", p.file, p.reason.get(da));
                continue;
            }
            let value = if p.value.is_empty() {
                String::new()
            } else {
                format!(": {:?}", p.value)
            };
            let _ = writeln!(
                out,
                "  {} {} {}{column}{value} — {}",
                p.file,
                if da { "linje" } else { "line" },
                p.line,
                p.reason.get(da)
            );
        }
        if lines.len() > SHOWN {
            let _ = writeln!(
                out,
                "  … {} {}",
                if da { "og" } else { "and" },
                thousands((lines.len() - SHOWN) as u64)
            );
        }
        out.push('\n');
    }
    for r in &intake.reports {
        let _ = writeln!(
            out,
            "{}: {}",
            r.file,
            counts(
                r.rows_read,
                r.rows_accepted,
                r.rows_rejected,
                r.warnings,
                da
            )
        );
    }
    let _ = writeln!(
        out,
        "{}: {}",
        if da {
            format!(
                "i alt ({} for tælleår {})",
                plural(intake.reports.len() as u64, "fil", "filer"),
                intake.year.year
            )
        } else {
            format!(
                "total ({} for count year {})",
                plural(intake.reports.len() as u64, "file", "files"),
                intake.year.year
            )
        },
        counts(
            intake.rows_read(),
            intake.rows_accepted(),
            intake.rows_rejected(),
            intake.warnings(),
            da
        )
    );
    out
}

fn counts(read: u64, accepted: u64, rejected: u64, warnings: u64, da: bool) -> String {
    if da {
        format!(
            "{} læst, {} godkendt, {} afvist, {}",
            plural(read, "række", "rækker"),
            thousands(accepted),
            thousands(rejected),
            plural(warnings, "advarsel", "advarsler")
        )
    } else {
        format!(
            "{} read, {} accepted, {} rejected, {}",
            plural(read, "row", "rows"),
            thousands(accepted),
            thousands(rejected),
            plural(warnings, "warning", "warnings")
        )
    }
}

/// The same as JSON, for scripts.
pub fn validate_json(intake: &Intake, da: bool) -> String {
    let value = serde_json::json!({
        "count_year": intake.year.year,
        "files": intake.reports.iter().map(|r| serde_json::json!({
            "file": r.file,
            "respondent_ids": r.respondent_ids,
            "rows_read": r.rows_read,
            "rows_accepted": r.rows_accepted,
            "rows_rejected": r.rows_rejected,
            "warnings": r.warnings,
        })).collect::<Vec<_>>(),
        "total": {
            "rows_read": intake.rows_read(),
            "rows_accepted": intake.rows_accepted(),
            "rows_rejected": intake.rows_rejected(),
            "warnings": intake.warnings(),
        },
        "problems": intake.problems.iter().map(|p| serde_json::json!({
            "file": p.file,
            "line": p.line,
            "column": p.column,
            "code": p.code.code(),
            "severity": if p.code.is_error() { "error" } else { "warning" },
            "value": p.value,
            "reason": p.reason.get(da),
            "fix": p.code.fix_in(da),
        })).collect::<Vec<_>>(),
    });
    let mut value = value;
    crate::privacy::mask_json(&mut value);
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

pub fn run_summary(s: &RunSummary) -> String {
    let i = &s.intake;
    let mut out = format!(
        "hcount: count year {}: {} from {}: {} accepted, {} rejected, {}\n",
        i.year.year,
        plural(i.rows_read(), "row", "rows"),
        plural(i.reports.len() as u64, "file", "files"),
        thousands(i.rows_accepted()),
        thousands(i.rows_rejected()),
        plural(i.warnings(), "warning", "warnings"),
    );
    let _ = writeln!(
        out,
        "hcount: {} after deduplication, {} counted as homeless; output in {}",
        plural(s.persons as u64, "person", "persons"),
        thousands(s.counted),
        s.out.display()
    );
    if i.rows_rejected() > 0 {
        let _ = writeln!(
            out,
            "hcount: see {} for the rejected rows",
            s.out.join("rejected.csv").display()
        );
    }
    out
}

pub fn rules_text(da: bool) -> String {
    let mut out = String::new();
    for r in Rule::ALL {
        let kind = match (r.is_error(), da) {
            (true, false) => "rejects the row",
            (false, false) => "warning",
            (true, true) => "afviser rækken",
            (false, true) => "advarsel",
        };
        let _ = writeln!(
            out,
            "{}  {} ({kind})\n      {}: {}",
            r.code(),
            r.title_in(da),
            if da { "ret" } else { "fix" },
            r.fix_in(da)
        );
    }
    out
}
