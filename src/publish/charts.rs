//! Charts: trend lines, bars and small multiples with plotters, each as SVG and PNG.
//!
//! Plain data in, files out. The font (DejaVu Sans, from the `dejavu` crate) is compiled in
//! and registered once, so no system fonts are needed. Colours are Okabe–Ito (colour-blind
//! safe). Years without a figure are gaps: lines are never drawn across unknown years, and a
//! suppressed municipal value (1–4, shown as "<5") is never drawn as a number.

use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

/// A value of a series in one year.
#[derive(Debug, Clone)]
pub struct Point {
    pub year: i32,
    /// `None`: not known (a gap).
    pub value: Option<f64>,
    /// A small number that is published as "<5": drawn as a hollow marker on the x axis.
    pub suppressed: bool,
}

#[derive(Debug, Clone)]
pub struct Series {
    pub label: String,
    pub points: Vec<Point>,
}

/// A break in the series to mark (a dashed vertical line with a label).
#[derive(Debug, Clone)]
pub struct Marker {
    pub year: i32,
    pub label: String,
}

pub struct LineChart {
    pub title: String,
    pub y_label: String,
    pub source: String,
    pub series: Vec<Series>,
    pub markers: Vec<Marker>,
    pub current_year: i32,
}

pub struct BarChart {
    pub title: String,
    pub source: String,
    /// The x axis categories (e.g. age groups).
    pub categories: Vec<String>,
    /// One bar per category for each group (e.g. men, women, unknown).
    pub groups: Vec<(String, Vec<f64>)>,
}

const SIZE: (u32, u32) = (900, 500);
pub(crate) const FONT: &str = "sans-serif";

/// Okabe–Ito, without yellow (too light on white).
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(230, 159, 0),
    RGBColor(0, 0, 0),
];
pub(crate) const GREY: RGBColor = RGBColor(110, 110, 110);

pub(crate) fn font() -> anyhow::Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        // InvalidFont has no Debug: map it by hand.
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).is_ok()
            && plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold()).is_ok()
    });
    anyhow::ensure!(ok, "the embedded font could not be registered");
    Ok(())
}

pub(crate) fn err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow::anyhow!("drawing: {e}")
}

/// Thousands separated by a thin space, no scientific notation.
fn thousands(v: f64) -> String {
    let n = v.round() as i64;
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push('\u{2009}');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Draws the same picture as an SVG and as a PNG.
macro_rules! render_both {
    ($svg:expr, $png:expr, $size:expr, $draw:ident, $($arg:expr),*) => {{
        font()?;
        {
            let root = SVGBackend::new($svg, $size).into_drawing_area();
            $draw(&root, $($arg),*)?;
            root.present().map_err(err)?;
        }
        write_png($png, $size, |root| $draw(root, $($arg),*))
    }};
}

/// Draws a picture into memory with `draw` and writes it to `path` as a PNG. plotters'
/// own PNG writer (through the image crate) tries all five PNG row filters on every row
/// to keep the smallest (adaptive filtering) and deflates at the default level: that was
/// the largest single cost of a count's report (110 charts and maps; issue #14). One
/// filter (Sub, which suits flat colours and anti-aliased lines) and fast deflate
/// (fdeflate) took the report of a national count from 0.82 to 0.55 s; the price is size:
/// the 110 PNG files take 17 MB instead of 9 MB (zlib's default level with the same filter
/// was smaller, 6.5 MB, but slower than before). Same picture, same bytes every run.
pub(crate) fn write_png(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut pixels = vec![0u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, size).into_drawing_area();
        draw(&root)?;
        root.present().map_err(err)?;
    }
    let mut bytes = Vec::with_capacity(pixels.len() / 8);
    {
        let mut encoder = png::Encoder::new(&mut bytes, size.0, size.1);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_filter(png::FilterType::Sub);
        encoder.set_adaptive_filter(png::AdaptiveFilterType::NonAdaptive);
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&pixels)?;
        writer.finish()?;
    }
    std::fs::write(path, bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

pub fn render_line(chart: &LineChart, svg: &Path, png: &Path) -> anyhow::Result<()> {
    render_both!(svg, png, SIZE, draw_line, chart, true)
}

/// The line chart as an SVG string (for inlining).
pub fn render_line_svg_string(chart: &LineChart) -> anyhow::Result<String> {
    font()?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        draw_line(&root, chart, true)?;
        root.present().map_err(err)?;
    }
    Ok(out)
}

fn y_max(series: &[Series]) -> f64 {
    let max = series
        .iter()
        .flat_map(|s| s.points.iter().filter_map(|p| p.value))
        .fold(0.0f64, f64::max);
    if max <= 0.0 { 10.0 } else { max * 1.15 }
}

fn year_range(series: &[Series], current: i32) -> (i32, i32) {
    let years = series.iter().flat_map(|s| s.points.iter().map(|p| p.year));
    let lo = years.clone().min().unwrap_or(current).min(current);
    let hi = years.max().unwrap_or(current).max(current);
    (lo - 1, hi + 1)
}

fn draw_line<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &LineChart,
    full: bool,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    let (w, h) = root.dim_in_pixel();
    let (plot, footer) = if full {
        root.split_vertically(h - 26)
    } else {
        root.split_vertically(h)
    };
    let (x0, x1) = year_range(&chart.series, chart.current_year);
    let ymax = y_max(&chart.series);
    let title_size = if full { 22 } else { 14 };
    let mut c = ChartBuilder::on(&plot)
        .caption(
            &chart.title,
            (FONT, title_size).into_font().style(FontStyle::Bold),
        )
        .margin(if full { 12 } else { 6 })
        .x_label_area_size(if full { 32 } else { 22 })
        .y_label_area_size(if full { 64 } else { 44 })
        .build_cartesian_2d(x0..x1, 0f64..ymax)
        .map_err(err)?;
    let label_font = (FONT, if full { 14 } else { 11 });
    let n_years = (x1 - x0) as usize;
    c.configure_mesh()
        .x_labels(if full { n_years.min(12) } else { 4 })
        .x_label_formatter(&|y| y.to_string())
        .y_labels(if full { 6 } else { 4 })
        .y_label_formatter(&|v| thousands(*v))
        .y_desc(if full { chart.y_label.as_str() } else { "" })
        .label_style(label_font)
        .axis_desc_style((FONT, 14))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()
        .map_err(err)?;

    // Breaks in the series: dashed vertical lines with a short label at the top.
    for m in chart.markers.iter().filter(|m| m.year > x0 && m.year < x1) {
        c.draw_series(DashedLineSeries::new(
            vec![(m.year, 0.0), (m.year, ymax)],
            6,
            4,
            GREY.stroke_width(1),
        ))
        .map_err(err)?;
        if full {
            c.draw_series(std::iter::once(Text::new(
                m.label.clone(),
                (m.year, ymax * 0.97),
                (FONT, 12).into_font().color(&GREY),
            )))
            .map_err(err)?;
        }
    }

    // Where each series' current-year number goes: just above its point, pushed apart so
    // that close values (small categories) do not print over each other.
    let mut label_y: Vec<Option<f64>> = chart
        .series
        .iter()
        .map(|s| {
            s.points
                .iter()
                .find(|p| p.year == chart.current_year)
                .and_then(|p| p.value)
        })
        .collect();
    {
        let mut order: Vec<usize> = (0..label_y.len())
            .filter(|&i| label_y[i].is_some())
            .collect();
        order.sort_by(|&a, &b| {
            label_y[b]
                .partial_cmp(&label_y[a])
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let gap = ymax * 0.045;
        let mut last: Option<f64> = None;
        for i in order {
            let y = label_y[i].unwrap_or_default();
            let y = match last {
                Some(l) if l - y < gap => l - gap,
                _ => y,
            };
            label_y[i] = Some(y);
            last = Some(y);
        }
    }

    for (i, s) in chart.series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        // Consecutive known values are joined; a gap (unknown year) breaks the line.
        let mut segment: Vec<(i32, f64)> = Vec::new();
        let mut segments = Vec::new();
        for p in &s.points {
            match p.value {
                Some(v) => segment.push((p.year, v)),
                None => {
                    if !segment.is_empty() {
                        segments.push(std::mem::take(&mut segment));
                    }
                }
            }
        }
        if !segment.is_empty() {
            segments.push(segment);
        }
        let mut first = true;
        for seg in &segments {
            let drawn = c
                .draw_series(LineSeries::new(
                    seg.iter().copied(),
                    colour.stroke_width(if full { 3 } else { 2 }),
                ))
                .map_err(err)?;
            if first {
                first = false;
                drawn.label(s.label.clone()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(3))
                });
            }
        }
        let r = if full { 4 } else { 3 };
        c.draw_series(s.points.iter().filter_map(|p| {
            let v = p.value?;
            let big = p.year == chart.current_year;
            Some(Circle::new(
                (p.year, v),
                if big { r + 3 } else { r },
                colour.filled(),
            ))
        }))
        .map_err(err)?;
        // The current year's value, written out (it is the news).
        if full
            && let (Some(p), Some(y)) = (
                s.points
                    .iter()
                    .find(|p| p.year == chart.current_year && p.value.is_some()),
                label_y[i],
            )
        {
            let v = p.value.unwrap_or_default();
            c.draw_series(std::iter::once(
                EmptyElement::at((p.year, y))
                    + Text::new(
                        thousands(v),
                        (12, -7),
                        (FONT, 13).into_font().style(FontStyle::Bold).color(&colour),
                    ),
            ))
            .map_err(err)?;
        }
        // Suppressed values: a hollow marker on the axis, never a number.
        c.draw_series(
            s.points
                .iter()
                .filter(|p| p.suppressed)
                .map(|p| TriangleMarker::new((p.year, ymax * 0.02), r + 2, colour.stroke_width(1))),
        )
        .map_err(err)?;
    }
    if full && chart.series.len() > 1 {
        c.configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font((FONT, 13))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .draw()
            .map_err(err)?;
    }
    if full {
        let suppressed = chart
            .series
            .iter()
            .any(|s| s.points.iter().any(|p| p.suppressed));
        let mut note = chart.source.clone();
        if suppressed {
            note.push_str("  △ = 1–4 (<5), not shown.");
        }
        footer
            .draw(&Text::new(
                note,
                (12, 4),
                (FONT, 12).into_font().color(&GREY),
            ))
            .map_err(err)?;
        let _ = w;
    }
    Ok(())
}

pub fn render_bars(chart: &BarChart, svg: &Path, png: &Path) -> anyhow::Result<()> {
    render_both!(svg, png, SIZE, draw_bars, chart)
}

fn draw_bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &BarChart,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    let (_, h) = root.dim_in_pixel();
    let (plot, footer) = root.split_vertically(h - 26);
    let n = chart.categories.len().max(1);
    let groups = chart.groups.len().max(1);
    let max = chart
        .groups
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .fold(0.0f64, f64::max);
    let ymax = if max <= 0.0 { 10.0 } else { max * 1.15 };
    let mut c = ChartBuilder::on(&plot)
        .caption(&chart.title, (FONT, 22).into_font().style(FontStyle::Bold))
        .margin(12)
        .x_label_area_size(32)
        .y_label_area_size(64)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..ymax)
        .map_err(err)?;
    let categories = chart.categories.clone();
    c.configure_mesh()
        .disable_x_mesh()
        .x_labels(n * 2 + 1)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 0.01 && i >= 0.0 && (i as usize) < categories.len() {
                categories[i as usize].clone()
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|v| thousands(*v))
        .label_style((FONT, 14))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()
        .map_err(err)?;
    let width = 0.8 / groups as f64;
    for (g, (label, values)) in chart.groups.iter().enumerate() {
        let colour = PALETTE[g % PALETTE.len()];
        c.draw_series(values.iter().enumerate().map(|(i, v)| {
            let left = i as f64 - 0.4 + g as f64 * width;
            Rectangle::new([(left, 0.0), (left + width * 0.92, *v)], colour.filled())
        }))
        .map_err(err)?
        .label(label.clone())
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled()));
    }
    c.configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FONT, 13))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .draw()
        .map_err(err)?;
    footer
        .draw(&Text::new(
            chart.source.clone(),
            (12, 4),
            (FONT, 12).into_font().color(&GREY),
        ))
        .map_err(err)?;
    Ok(())
}

/// A grid of small line charts (e.g. the twelve largest municipalities), each with its own
/// y range, so that the shape of each trend can be read.
pub fn render_small_multiples(
    title: &str,
    source: &str,
    panels: &[(String, Series)],
    svg: &Path,
    png: &Path,
) -> anyhow::Result<()> {
    render_both!(svg, png, (1000, 760), draw_multiples, title, source, panels)
}

fn draw_multiples<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    source: &str,
    panels: &[(String, Series)],
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    let (_, h) = root.dim_in_pixel();
    let root = root
        .titled(title, (FONT, 22).into_font().style(FontStyle::Bold))
        .map_err(err)?;
    let (grid, footer) = root.split_vertically(h - 26 - 30);
    let current = panels
        .iter()
        .flat_map(|(_, s)| s.points.iter().map(|p| p.year))
        .max()
        .unwrap_or(0);
    for (area, (name, series)) in grid.split_evenly((3, 4)).iter().zip(panels) {
        let chart = LineChart {
            title: name.clone(),
            y_label: String::new(),
            source: String::new(),
            series: vec![series.clone()],
            markers: Vec::new(),
            current_year: current,
        };
        draw_line(area, &chart, false)?;
    }
    footer
        .draw(&Text::new(
            source.to_string(),
            (12, 4),
            (FONT, 12).into_font().color(&GREY),
        ))
        .map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> LineChart {
        let points = [
            (2007, Some(5253.0)),
            (2009, Some(4998.0)),
            (2011, None),
            (2013, Some(5820.0)),
            (2026, Some(6100.0)),
        ];
        LineChart {
            title: "Hjemløse i Danmark — æøå".into(),
            y_label: "personer".into(),
            source: "Kilde: test".into(),
            series: vec![
                Series {
                    label: "I alt".into(),
                    points: points
                        .iter()
                        .map(|(y, v)| Point {
                            year: *y,
                            value: *v,
                            suppressed: false,
                        })
                        .collect(),
                },
                Series {
                    label: "Lille kommune".into(),
                    points: vec![
                        Point {
                            year: 2013,
                            value: None,
                            suppressed: true,
                        },
                        Point {
                            year: 2026,
                            value: Some(12.0),
                            suppressed: false,
                        },
                    ],
                },
            ],
            markers: vec![Marker {
                year: 2022,
                label: "COVID-19".into(),
            }],
            current_year: 2026,
        }
    }

    #[test]
    fn svg_is_deterministic_and_png_is_an_image() {
        let dir = tempfile::tempdir().unwrap();
        let (s1, p1) = (dir.path().join("a.svg"), dir.path().join("a.png"));
        render_line(&chart(), &s1, &p1).unwrap();
        let (s2, p2) = (dir.path().join("b.svg"), dir.path().join("b.png"));
        render_line(&chart(), &s2, &p2).unwrap();
        assert_eq!(std::fs::read(&s1).unwrap(), std::fs::read(&s2).unwrap());
        assert_eq!(
            render_line_svg_string(&chart()).unwrap(),
            std::fs::read_to_string(&s1).unwrap()
        );
        let png = std::fs::read(&p1).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 5_000);
        assert!(std::fs::read_to_string(&s1).unwrap().contains("æøå"));
    }

    #[test]
    fn bars_and_multiples_render() {
        let dir = tempfile::tempdir().unwrap();
        let bars = BarChart {
            title: "Alder".into(),
            source: "Kilde".into(),
            categories: vec!["18-24".into(), "25-29".into()],
            groups: vec![
                ("Mænd".into(), vec![3.0, 5.0]),
                ("Kvinder".into(), vec![1.0, 2.0]),
            ],
        };
        render_bars(&bars, &dir.path().join("b.svg"), &dir.path().join("b.png")).unwrap();
        let panels: Vec<(String, Series)> = (0..12)
            .map(|i| (format!("K{i}"), chart().series[0].clone()))
            .collect();
        render_small_multiples(
            "T",
            "S",
            &panels,
            &dir.path().join("m.svg"),
            &dir.path().join("m.png"),
        )
        .unwrap();
        assert!(std::fs::metadata(dir.path().join("m.png")).unwrap().len() > 5_000);
    }

    #[test]
    fn numbers_are_written_out() {
        assert_eq!(thousands(5989.0), "5\u{2009}989");
        assert_eq!(thousands(12.0), "12");
    }
}

/// Horizontal grouped bars with long category labels (e.g. the causes of homelessness), in
/// percent: categories top to bottom, one bar per group in each.
pub struct HBarChart {
    pub title: String,
    pub source: String,
    pub categories: Vec<String>,
    /// One value per category for each group; `None`: not known (no bar is drawn).
    pub groups: Vec<(String, Vec<Option<f64>>)>,
}

const HBAR_SIZE: (u32, u32) = (900, 600);

pub fn render_hbars(chart: &HBarChart, svg: &Path, png: &Path) -> anyhow::Result<()> {
    render_both!(svg, png, HBAR_SIZE, draw_hbars, chart)
}

fn draw_hbars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &HBarChart,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    let (_, h) = root.dim_in_pixel();
    let (plot, footer) = root.split_vertically(h - 26);
    let n = chart.categories.len().max(1);
    let groups = chart.groups.len().max(1);
    let max = chart
        .groups
        .iter()
        .flat_map(|(_, v)| v.iter().flatten().copied())
        .fold(0.0f64, f64::max);
    let xmax = if max <= 0.0 {
        10.0
    } else {
        (max * 1.1).min(100.0)
    };
    let mut c = ChartBuilder::on(&plot)
        .caption(&chart.title, (FONT, 22).into_font().style(FontStyle::Bold))
        .margin(12)
        .x_label_area_size(32)
        .y_label_area_size(290)
        .build_cartesian_2d(0f64..xmax, -0.5f64..(n as f64 - 0.5))
        .map_err(err)?;
    let categories = chart.categories.clone();
    // The first category at the top: category i sits at y = n - 1 - i.
    c.configure_mesh()
        .disable_y_mesh()
        .y_labels(n * 2 + 1)
        .y_label_formatter(&|y| {
            let i = y.round();
            if (y - i).abs() < 0.01 && i >= 0.0 && (i as usize) < categories.len() {
                categories[categories.len() - 1 - i as usize].clone()
            } else {
                String::new()
            }
        })
        .x_labels(10)
        .x_label_formatter(&|v| format!("{} %", v.round() as i64))
        .label_style((FONT, 13))
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()
        .map_err(err)?;
    let height = 0.8 / groups as f64;
    for (g, (label, values)) in chart.groups.iter().enumerate() {
        let colour = PALETTE[g % PALETTE.len()];
        c.draw_series(values.iter().enumerate().filter_map(|(i, v)| {
            let v = (*v)?;
            let top = (n - 1 - i) as f64 + 0.4 - g as f64 * height;
            Some(Rectangle::new(
                [(0.0, top), (v, top - height * 0.9)],
                colour.filled(),
            ))
        }))
        .map_err(err)?
        .label(label.clone())
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled()));
    }
    c.configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font((FONT, 13))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .draw()
        .map_err(err)?;
    footer
        .draw(&Text::new(
            chart.source.clone(),
            (12, 4),
            (FONT, 12).into_font().color(&GREY),
        ))
        .map_err(err)?;
    Ok(())
}
