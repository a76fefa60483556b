//! Feedback to each reporting unit: `feedback/<respondent_id>.md` and `.html` — what was
//! accepted, what was rejected and why, and how many of its persons other units reported
//! too. A unit sees only its own rows: in a file that holds several units' rows, the counts
//! and problems of its own rows (those with its respondent_id), plus the problems of the file
//! as a whole (its header). A row without a usable respondent_id is shown to the unit only
//! when the file has no other unit; else it is for the coordinator (`rejected.csv`,
//! `warnings.csv`). Every value passes the CPR mask and is escaped for Markdown.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::Path;

use rayon::prelude::*;

use crate::count::tables::Table;
use crate::intake::validate::{FileReport, Owner, Problem};
use crate::publish::markdown::{escape as escape_md, unescape as unescape_md};
use crate::publish::report::Lang;

/// One unit's figures from `tables/respondent_feedback.csv`.
#[derive(Default)]
struct UnitCounts {
    rows_accepted: String,
    persons: String,
    also_reported: String,
    counted: String,
}

/// One unit's feedback: its file name (without extension), Markdown and HTML.
pub struct Page {
    name: String,
    markdown: String,
    html: String,
}

/// Renders every unit's feedback (in parallel); [`write`] writes it.
pub fn render(
    year: i32,
    reports: &[FileReport],
    problems: &[Problem],
    counts: &Table,
    lang: Lang,
) -> Vec<Page> {
    let mut units: BTreeMap<String, UnitCounts> = BTreeMap::new();
    for r in &counts.rows {
        units.insert(
            r[0].clone(),
            UnitCounts {
                rows_accepted: r[1].clone(),
                persons: r[2].clone(),
                also_reported: r[3].clone(),
                counted: r[4].clone(),
            },
        );
    }
    // Units that only sent rejected rows still get feedback.
    for r in reports {
        for id in &r.respondent_ids {
            units.entry(id.clone()).or_insert_with(|| UnitCounts {
                rows_accepted: "0".into(),
                persons: "0".into(),
                also_reported: "0".into(),
                counted: "0".into(),
            });
        }
    }
    let mut by_file: BTreeMap<&str, Vec<&Problem>> = BTreeMap::new();
    for p in problems {
        by_file.entry(&p.file).or_default().push(p);
    }
    // Each unit's files, found once (a unit-by-file scan is quadratic: 46,000 units × 2,000
    // files took 15 s in the 1M-row benchmark).
    let mut files_of: BTreeMap<&str, Vec<&FileReport>> = BTreeMap::new();
    for r in reports {
        for id in &r.respondent_ids {
            files_of.entry(id.as_str()).or_default().push(r);
        }
    }
    let units: Vec<(&String, &UnitCounts)> = units.iter().collect();
    units
        .par_iter()
        .map(|(id, c)| {
            let files = files_of.get(id.as_str()).map(Vec::as_slice).unwrap_or(&[]);
            let markdown = markdown(id, year, c, files, &by_file, lang);
            let html = html(id, year, &markdown, lang);
            Page {
                // Ids with a CPR-like number are refused (E016); the mask is the last guard.
                name: crate::privacy::mask_cpr(id).into_owned(),
                markdown,
                html,
            }
        })
        .collect()
}

/// Writes rendered pages into `dir/feedback/`, in one thread: parallel file creation in
/// one folder contends on the folder's lock and was slower. `run` does this on a thread
/// of its own while the published tables are protected: creating a few thousand files
/// waits on the file system (0.05 s to over 1 s for 2,800 files on the benchmark machine,
/// depending on what was written or deleted just before), and the protection is work for
/// the processor.
pub fn write(dir: &Path, pages: &[Page]) -> std::io::Result<usize> {
    let out = dir.join("feedback");
    std::fs::create_dir_all(&out)?;
    for page in pages {
        std::fs::write(out.join(format!("{}.md", page.name)), &page.markdown)?;
        std::fs::write(out.join(format!("{}.html", page.name)), &page.html)?;
    }
    Ok(pages.len())
}

/// `en` or `da`, by the one language rule (Danish unless `--lang en`).
fn tr(lang: Lang, en: &'static str, da: &'static str) -> &'static str {
    match lang {
        Lang::Da => da,
        Lang::En => en,
    }
}

fn markdown(
    id: &str,
    year: i32,
    c: &UnitCounts,
    files: &[&FileReport],
    by_file: &BTreeMap<&str, Vec<&Problem>>,
    lang: Lang,
) -> String {
    let danish = lang == Lang::Da;
    let t = |en, da| tr(lang, en, da);
    let mut s = String::new();
    let _ = match lang {
        Lang::Da => writeln!(
            s,
            "# Tilbagemelding til {}: hjemløsetællingen {year}\n",
            escape_md(id)
        ),
        Lang::En => writeln!(
            s,
            "# Feedback to {}: homelessness count {year}\n",
            escape_md(id)
        ),
    };
    let _ = writeln!(
        s,
        "{}\n",
        t(
            "Thank you for your submission. This is what the count made of it.",
            "Tak for jeres indberetning. Her er, hvad tællingen fik ud af den."
        )
    );
    let _ = writeln!(s, "| | |\n|---|--:|");
    let _ = writeln!(
        s,
        "| {} | {} |",
        t("Rows accepted", "Rækker godkendt"),
        c.rows_accepted
    );
    let _ = writeln!(
        s,
        "| {} | {} |",
        t("Persons in these rows", "Personer i disse rækker"),
        c.persons
    );
    let _ = writeln!(
        s,
        "| {} | {} |",
        t(
            "... of whom other units reported too",
            "... som andre enheder også har indberettet"
        ),
        c.also_reported
    );
    let _ = writeln!(
        s,
        "| {} | {} |\n",
        t(
            "... of whom are counted as homeless",
            "... som tælles som hjemløse"
        ),
        c.counted
    );
    let _ = writeln!(
        s,
        "{}\n",
        t(
            "Persons who are not counted are under 18, migrants without permanent residence, or reported as not homeless by every unit.",
            "Personer, der ikke tælles, er under 18 år, migranter uden fast ophold eller indberettet som ikke hjemløse af alle enheder."
        )
    );
    let _ = writeln!(s, "## {}\n", t("Your files", "Jeres filer"));
    let _ = writeln!(
        s,
        "{}\n|---|--:|--:|--:|--:|",
        t(
            "| file | rows read | accepted | rejected | warnings |",
            "| fil | rækker læst | godkendt | afvist | advarsler |"
        )
    );
    let mut problems: Vec<&Problem> = Vec::new();
    for f in files {
        let shown = own_problems(id, f, by_file);
        let (read, accepted, rejected) = own_rows(id, f);
        let warnings = shown.iter().filter(|p| !p.code.is_error()).count();
        let _ = writeln!(
            s,
            "| {} | {read} | {accepted} | {rejected} | {warnings} |",
            escape_md(&f.file),
        );
        problems.extend(shown);
    }
    if problems.is_empty() {
        let _ = writeln!(
            s,
            "\n{}",
            t(
                "No problems were found in your files.",
                "Der blev ikke fundet problemer i jeres filer."
            )
        );
        return s;
    }
    let codes: BTreeSet<_> = problems.iter().map(|p| p.code).collect();
    let _ = writeln!(
        s,
        "\n## {}\n",
        t("Problems to fix", "Problemer, der skal rettes")
    );
    let _ = writeln!(
        s,
        "{}\n",
        t(
            "Rejected rows (E) are not counted: please correct and send them again. Warnings (W) do not drop the row, but the value is treated as unknown.",
            "Afviste rækker (E) tælles ikke med: ret dem, og send dem igen. Advarsler (W) fjerner ikke rækken, men værdien behandles som uoplyst."
        )
    );
    for code in codes {
        let _ = writeln!(
            s,
            "### {} {}\n\n{}: {}\n",
            code.code(),
            code.title_in(danish),
            t("How to fix", "Sådan retter I det"),
            code.fix_in(danish)
        );
        let _ = writeln!(
            s,
            "{}\n|---|--:|---|---|---|",
            t(
                "| file | line | column | value | reason |",
                "| fil | linje | kolonne | værdi | årsag |"
            )
        );
        for p in problems.iter().filter(|p| p.code == code) {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                escape_md(&p.file),
                p.line,
                escape_md(&p.column),
                escape_md(&p.value),
                escape_md(p.reason.get(danish))
            );
        }
        s.push('\n');
    }
    s
}

/// Whether the file holds no other unit's rows than `id`'s.
fn only_unit(id: &str, f: &FileReport) -> bool {
    f.respondent_ids.len() == 1 && f.respondent_ids.contains(id)
}

/// The problems of `f` that unit `id` may see: its own rows', the file's as a whole, and the
/// rows without a usable respondent_id when the file is the unit's alone.
fn own_problems<'p>(
    id: &str,
    f: &FileReport,
    by_file: &BTreeMap<&str, Vec<&'p Problem>>,
) -> Vec<&'p Problem> {
    let alone = only_unit(id, f);
    by_file
        .get(f.file.as_str())
        .into_iter()
        .flatten()
        .copied()
        .filter(|p| match &p.owner {
            Owner::Unit(u) => **u == *id,
            Owner::File => true,
            Owner::Unknown => alone,
        })
        .collect()
}

/// Rows read, accepted and rejected of unit `id` in `f` (the whole file when it is the
/// unit's alone, so that its rows without a usable id are counted too).
fn own_rows(id: &str, f: &FileReport) -> (u64, u64, u64) {
    if only_unit(id, f) {
        return (f.rows_read, f.rows_accepted, f.rows_rejected);
    }
    f.units.get(id).map_or((0, 0, 0), |u| {
        (u.rows_read, u.rows_accepted, u.rows_rejected)
    })
}

fn escape_html(s: &str) -> String {
    crate::privacy::mask_cpr(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A plain HTML rendering of the Markdown (headings, tables, paragraphs), escaped.
fn html(id: &str, year: i32, md: &str, lang: Lang) -> String {
    let mut body = String::new();
    let mut in_table = false;
    for line in md.lines() {
        if line.starts_with('|') {
            if line.starts_with("|---") || line.starts_with("|--") {
                continue;
            }
            if !in_table {
                body.push_str("<table>\n");
                in_table = true;
            }
            let cells = split_md_row(line);
            body.push_str("<tr>");
            for c in cells {
                let _ = write!(body, "<td>{}</td>", escape_html(&c));
            }
            body.push_str("</tr>\n");
            continue;
        }
        if in_table {
            body.push_str("</table>\n");
            in_table = false;
        }
        let text = |t: &str| escape_html(&unescape_md(t));
        if let Some(h) = line.strip_prefix("### ") {
            let _ = writeln!(body, "<h3>{}</h3>", text(h));
        } else if let Some(h) = line.strip_prefix("## ") {
            let _ = writeln!(body, "<h2>{}</h2>", text(h));
        } else if let Some(h) = line.strip_prefix("# ") {
            let _ = writeln!(body, "<h1>{}</h1>", text(h));
        } else if !line.trim().is_empty() {
            let _ = writeln!(body, "<p>{}</p>", text(line));
        }
    }
    if in_table {
        body.push_str("</table>\n");
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{} {} — {year}</title>\n<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1d2330}}table{{border-collapse:collapse;margin:.5rem 0 1rem}}td{{border-bottom:1px solid #d9dde5;padding:.3rem .6rem}}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        tr(lang, "en", "da"),
        tr(lang, "Feedback to", "Tilbagemelding til"),
        escape_html(&crate::privacy::mask_cpr(id))
    )
}

fn split_md_row(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '|' => cells.push(std::mem::take(&mut cur).trim().to_string()),
            _ => cur.push(c),
        }
    }
    cells.push(cur.trim().to_string());
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_cells_are_escaped_and_html_too() {
        assert_eq!(split_md_row("| a\\|b | <x> |"), vec!["a|b", "<x>"]);
        let page = html("unit", 2026, "# T\n| <script> | 1 |\n", Lang::Da);
        assert!(page.contains("&lt;script&gt;"));
        assert!(!page.contains("<script>"));
        assert!(page.contains("<html lang=\"da\">"));
    }
}
