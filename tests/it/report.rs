//! Charts and the report: files present, deterministic, snapshots, and the HTML rendered by
//! a real browser (headless Chromium, installed by .ci/run).

use std::path::{Path, PathBuf};

use crate::util::*;

/// A small, fixed input: snapshots depend on the data only (not the key).
fn small_count(ws: &Workspace) {
    let mut rows = Vec::new();
    for i in 0..40 {
        let cpr = format!(
            "{:02}{:02}{:02}-{}{:03}",
            1 + i % 28,
            1 + i % 12,
            50 + i % 40,
            1,
            100 + 2 * i + (i % 2)
        );
        let situation = [
            "shelter",
            "rough_sleeping",
            "family_friends",
            "night_shelter",
            "hotel",
        ][i % 5];
        let municipality = ["101", "751", "461", "851", "147", "563"][i % 6];
        rows.push(row(&[
            ("cpr", &cpr),
            ("situation", situation),
            ("municipality", municipality),
            ("respondent_id", &format!("unit{}", i % 4)),
            ("support", ["act", "icm", "none", "cti"][i % 4]),
            ("duration", ["lt3m", "6to12m", "gt2y"][i % 3]),
            ("housing_queue", if i % 3 == 0 { "ja" } else { "nej" }),
        ]));
    }
    // Two persons in Middelfart: a small number, shown as <5 in the report.
    rows.push(row(&[("cpr", "010101-4001"), ("municipality", "410")]));
    rows.push(row(&[("cpr", "020202-4002"), ("municipality", "410")]));
    // A rejected row whose value must never reach the report unescaped.
    rows.push(row(&[
        ("respondent_id", "x"),
        ("situation", "<script>alert(1)</script>"),
    ]));
    ws.write("count.csv", csv(&rows));
    ws.run_ok();
}

#[test]
fn charts_and_reports_are_written() {
    let ws = Workspace::new();
    small_count(&ws);
    let out = ws.out();
    for f in [
        "report.html",
        "report.md",
        "charts/national_total.svg",
        "charts/national_total.png",
        "charts/national_by_category.svg",
        "charts/youth.png",
        "charts/age_sex.svg",
        "charts/municipal_top12.png",
        "charts/municipal/101.svg",
        "charts/municipal/101.png",
        "charts/municipal/563.svg",
    ] {
        let p = out.join(f);
        assert!(p.exists(), "{f} missing");
    }
    // PNGs are real images, not empty files.
    let png = std::fs::read(out.join("charts/national_total.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert!(png.len() > 5_000, "PNG suspiciously small: {}", png.len());
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    // Self-contained: no scripts, no external resources.
    assert!(!html.contains("<script"), "no script in the report");
    assert!(
        !html.contains("http://") || !html.contains("src=\"http"),
        "no network resources"
    );
    assert!(html.contains("<svg"), "charts are inline");
    // Municipal values 1–4 are never shown exactly: Middelfart has 2 persons (`<5`, or `x`
    // when the protection of the other small cells needed it hidden that way).
    assert!(
        html.contains("<td>410</td><td>Middelfart</td><td class=\"n\">&lt;5</td>")
            || html.contains("<td>410</td><td>Middelfart</td><td class=\"n\">x</td>"),
        "suppressed in the report"
    );
    assert!(!html.contains("<td>Middelfart</td><td class=\"n\">2</td>"));
}

#[test]
fn the_markdown_report_and_a_chart_are_stable() {
    let ws = Workspace::new();
    small_count(&ws);
    let md = std::fs::read_to_string(ws.out().join("report.md")).unwrap();
    insta::assert_snapshot!("report_md", md);
    let svg = std::fs::read_to_string(ws.out().join("charts/national_total.svg")).unwrap();
    insta::assert_snapshot!("national_total_svg", svg);
}

#[test]
fn the_municipal_map_is_stable_and_beside_the_table() {
    let ws = Workspace::new();
    small_count(&ws);
    let svg = std::fs::read_to_string(ws.out().join("charts/municipal_map.svg")).unwrap();
    // Every municipality is drawn: 98 shapes at least (more with islands), plus the inset.
    assert!(svg.matches("<polygon").count() >= 98 + 18, "shapes missing");
    // Middelfart (2 persons, <5) is drawn in the hidden grey, and the legend says so.
    assert!(svg.contains("#BDBDBD"), "no hidden class drawn");
    assert!(
        svg.contains("skjult (&lt;5 eller x)"),
        "legend of hidden municipalities"
    );
    assert!(
        svg.contains("Geodatastyrelsen"),
        "the boundaries' credit line"
    );
    insta::assert_snapshot!("municipal_map_svg", svg);
    let png = std::fs::read(ws.out().join("charts/municipal_map.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert!(png.len() > 20_000, "PNG suspiciously small: {}", png.len());
    let html = std::fs::read_to_string(ws.out().join("report.html")).unwrap();
    let side = html
        .find("<div class=\"side\">")
        .expect("table and map side by side");
    let map = html.find("<figure class=\"map\">").unwrap();
    let table_end = html[side..].find("</table>").unwrap() + side;
    assert!(
        map > table_end && map - table_end < 20,
        "the map follows the municipal table"
    );
    // One map per region: only its municipalities, and the report links each.
    let region =
        std::fs::read_to_string(ws.out().join("charts/municipal_map_region_nordjylland.svg"))
            .unwrap();
    let shapes = region.matches("<polygon").count();
    assert!(
        (11..98).contains(&shapes),
        "Nordjylland has 11 municipalities (more shapes with islands), drew {shapes}"
    );
    assert!(
        region.contains("Region Nordjylland"),
        "the region in the title"
    );
    assert!(
        !region.contains("Bornholm"),
        "Bornholm belongs to Hovedstaden"
    );
    let capital =
        std::fs::read_to_string(ws.out().join("charts/municipal_map_region_hovedstaden.svg"))
            .unwrap();
    assert!(
        capital.contains("Bornholm"),
        "boxed in the capital region's map"
    );
    for slug in [
        "hovedstaden",
        "sjaelland",
        "syddanmark",
        "midtjylland",
        "nordjylland",
    ] {
        assert!(
            html.contains(&format!("charts/municipal_map_region_{slug}.png")),
            "report links the map of {slug}"
        );
        assert!(
            ws.out()
                .join(format!("charts/municipal_map_region_{slug}.png"))
                .is_file()
        );
    }
}

#[test]
fn english_report_and_re_render_without_submissions() {
    let ws = Workspace::new();
    small_count(&ws);
    let before = std::fs::read(ws.out().join("report.html")).unwrap();
    // Re-render from the output folder alone: same bytes.
    std::fs::remove_dir_all(ws.input()).unwrap();
    let out = hcount()
        .args(["report", "--out"])
        .arg(ws.out())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(ws.out().join("report.html")).unwrap(), before);
    let out = hcount()
        .args(["report", "--lang", "en", "--out"])
        .arg(ws.out())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let html = std::fs::read_to_string(ws.out().join("report.html")).unwrap();
    assert!(html.contains("Homelessness in Denmark 2024"));
    assert!(html.contains("Data quality"));
}

fn chromium() -> Option<PathBuf> {
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

fn browser(chrome: &Path, profile: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(chrome);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    cmd
}

#[test]
fn the_html_report_renders_in_a_browser() {
    let Some(chrome) = chromium() else {
        // CI installs Chromium (.ci/run); a developer machine may not have it.
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have chromium (see .ci/run)"
        );
        eprintln!("skipped: no chromium");
        return;
    };
    let ws = Workspace::new();
    small_count(&ws);
    let page = format!("file://{}", ws.out().join("report.html").display());
    let profile = ws.path().join("chrome-profile");
    let dom = browser(&chrome, &profile)
        .arg("--dump-dom")
        .arg(&page)
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("Hjemløshed i Danmark 2024"),
        "title text in the rendered DOM"
    );
    assert!(dom.contains("Datakvalitet"));
    let shot = ws.path().join("report.png");
    let out = browser(&chrome, &profile)
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1280,2400")
        .arg(&page)
        .output()
        .unwrap();
    assert!(shot.exists(), "no screenshot: {}", stderr(&out));
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    // A blank page compresses to almost nothing; a rendered report does not.
    assert!(
        png.len() > 50_000,
        "screenshot looks blank: {} bytes",
        png.len()
    );
    if let Some(dir) = std::env::var_os("HCOUNT_SCREENSHOT_DIR") {
        std::fs::copy(&shot, Path::new(&dir).join("report.png")).unwrap();
    }
}

/// The README's main command, word for word (`cargo run --locked --` standing for the
/// binary): the first line of the README that starts with `for y in`.
fn readme_main_command() -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    readme
        .lines()
        .find(|l| l.starts_with("for y in ") && l.contains("cargo run --locked -- run "))
        .expect("the README's main command (a line starting with `for y in`)")
        .to_string()
}

/// The example under `reports/example/` (shown in the README) is exactly what the README's
/// main command makes of the shipped panel: three counts into a warehouse, and the 2026
/// report with the warehouse's series. After a deliberate change to the charts or the
/// report, regenerate it with `HCOUNT_BLESS=1 cargo test example_report`.
#[test]
fn the_example_report_is_what_the_main_command_makes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ws = Workspace::new();
    let line = readme_main_command();
    assert!(
        line.contains("fixtures/panel/$y") && line.contains("--warehouse out/warehouse"),
        "{line}"
    );
    // Run in a fresh folder that has the project's fixtures, as a new user's checkout.
    std::os::unix::fs::symlink(root.join("fixtures"), ws.path().join("fixtures")).unwrap();
    let command = line.replace(
        "cargo run --locked --",
        &format!("'{}'", env!("CARGO_BIN_EXE_hcount")),
    );
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("set -e; {command}"))
        .current_dir(ws.path())
        .env_remove("HCOUNT_KEY_FILE")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let made_dir = ws.path().join("out/2026");
    assert!(
        ws.path()
            .join("out/warehouse/year=2022/persons.parquet")
            .is_file()
    );
    let example = root.join("reports/example");
    let mut files = vec![
        "report.html".to_string(),
        "report.md".to_string(),
        "trends.html".to_string(),
    ];
    for chart in [
        "national_total",
        "national_by_category",
        "youth",
        "age_sex",
        "municipal_top12",
        "trends/national_total",
        "trends/national_by_category",
        "trends/linkage",
        "municipal_map",
        "municipal_map_region_hovedstaden",
        "municipal_map_region_sjaelland",
        "municipal_map_region_syddanmark",
        "municipal_map_region_midtjylland",
        "municipal_map_region_nordjylland",
    ] {
        files.push(format!("charts/{chart}.png"));
        files.push(format!("charts/{chart}.svg"));
    }
    for f in &files {
        let made = std::fs::read(made_dir.join(f)).unwrap();
        if std::env::var_os("HCOUNT_BLESS").is_some() {
            std::fs::create_dir_all(example.join("charts/trends")).unwrap();
            std::fs::write(example.join(f), &made).unwrap();
            continue;
        }
        let committed = std::fs::read(example.join(f)).unwrap_or_default();
        assert!(
            made == committed,
            "reports/example/{f} is not what the main command makes now; \
             regenerate with HCOUNT_BLESS=1 cargo test example_report"
        );
    }
}
