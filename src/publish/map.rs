//! The municipal map: a choropleth of the published municipal totals (persons in classes),
//! drawn with plotters as SVG and PNG from the boundaries in `data/geo/` (compiled in; its
//! README gives the source and the credit line printed on the map).
//!
//! Projection: x = longitude × cos 56°, y = latitude — good enough at Denmark's size (the
//! geo README). The capital area (codes 101–190) is too small at national scale to read, so
//! it is drawn again, larger, in an inset (and its extent boxed on the main map); Bornholm is
//! drawn at the main map's scale in a box east of Zealand, at about its own latitude, instead
//! of 100 km further east. A hidden municipality (`<5` or `x` in
//! `tables/published/municipal_totals.csv`) is drawn in grey, never in a class: the map shows
//! exactly what the table publishes.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::charts::{FONT, GREY, err, font};

static GEOJSON: &str = include_str!("../../data/geo/municipalities.geojson");

/// What the published table says about one municipality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    Count(u64),
    /// `<t` or `x`: hidden.
    Hidden,
}

/// The words and figures of one map.
pub struct MunicipalMap {
    pub title: String,
    pub legend_title: String,
    /// The legend entry of hidden municipalities.
    pub hidden_label: String,
    pub inset_title: String,
    /// Source lines under the map (this count, and the boundaries' credit).
    pub source: Vec<String>,
    /// The smallest count that can be published (the first class starts there).
    pub min_cell: u64,
    /// By municipality code; a municipality missing here is drawn as 0.
    pub values: HashMap<u16, Shown>,
}

const SIZE: (u32, u32) = (1000, 900);

/// The upper bounds (exclusive) of the classes after the first; the last class is open.
const BREAKS: [u64; 5] = [25, 50, 100, 250, 500];
/// ColorBrewer "Blues", one colour per class.
const BLUES: [RGBColor; 6] = [
    RGBColor(198, 219, 239),
    RGBColor(158, 202, 225),
    RGBColor(107, 174, 214),
    RGBColor(66, 146, 198),
    RGBColor(33, 113, 181),
    RGBColor(8, 69, 148),
];
const ZERO: RGBColor = RGBColor(255, 255, 255);
const HIDDEN: RGBColor = RGBColor(189, 189, 189);
const BORDER: RGBColor = RGBColor(80, 80, 80);
const SEA_LINE: RGBColor = RGBColor(150, 150, 150);

struct Feature {
    code: u16,
    /// Outer rings only, projected (holes are other municipalities, drawn over them).
    rings: Vec<Vec<(f64, f64)>>,
    area: f64,
}

fn project(lon: f64, lat: f64) -> (f64, f64) {
    (lon * 56f64.to_radians().cos(), lat)
}

fn ring_area(ring: &[(f64, f64)]) -> f64 {
    let mut a = 0.0;
    for w in ring.windows(2) {
        a += w[0].0 * w[1].1 - w[1].0 * w[0].1;
    }
    (a / 2.0).abs()
}

fn parse() -> Result<Vec<Feature>, String> {
    let json: serde_json::Value =
        serde_json::from_str(GEOJSON).map_err(|e| format!("municipalities.geojson: {e}"))?;
    let features = json["features"]
        .as_array()
        .ok_or("municipalities.geojson: no features")?;
    let point = |p: &serde_json::Value| -> Option<(f64, f64)> {
        Some(project(p.get(0)?.as_f64()?, p.get(1)?.as_f64()?))
    };
    let mut out = Vec::new();
    for f in features {
        let code: u16 = f["properties"]["code"]
            .as_str()
            .and_then(|c| c.parse().ok())
            .ok_or("municipalities.geojson: a feature without a code")?;
        let coords = &f["geometry"]["coordinates"];
        let polygons: Vec<&serde_json::Value> = match f["geometry"]["type"].as_str() {
            Some("Polygon") => vec![coords],
            Some("MultiPolygon") => coords
                .as_array()
                .map(|a| a.iter().collect())
                .unwrap_or_default(),
            _ => return Err(format!("municipalities.geojson: {code}: not a polygon")),
        };
        let mut rings = Vec::new();
        for polygon in polygons {
            let outer = polygon.get(0).and_then(|r| r.as_array()).ok_or_else(|| {
                format!("municipalities.geojson: {code}: a polygon without a ring")
            })?;
            let ring: Option<Vec<(f64, f64)>> = outer.iter().map(point).collect();
            rings.push(ring.ok_or_else(|| format!("municipalities.geojson: {code}: a bad point"))?);
        }
        let area = rings.iter().map(|r| ring_area(r)).sum();
        out.push(Feature { code, rings, area });
    }
    // Largest first, so a municipality inside another (Frederiksberg in København) is
    // drawn over the hole it fills.
    out.sort_by(|a, b| b.area.total_cmp(&a.area).then(a.code.cmp(&b.code)));
    Ok(out)
}

fn features() -> Result<&'static [Feature], String> {
    static PARSED: OnceLock<Result<Vec<Feature>, String>> = OnceLock::new();
    PARSED.get_or_init(parse).as_deref().map_err(Clone::clone)
}

const BORNHOLM: u16 = 400;

fn is_capital(code: u16) -> bool {
    (101..=190).contains(&code)
}

/// Projected bounds (x0, y0, x1, y1) of the features `keep` selects.
fn bounds(features: &[Feature], keep: impl Fn(u16) -> bool) -> (f64, f64, f64, f64) {
    let mut b = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for f in features.iter().filter(|f| keep(f.code)) {
        for &(x, y) in f.rings.iter().flatten() {
            b = (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y));
        }
    }
    b
}

/// Geographic bounds placed in a pixel rectangle: one scale for x and y, centred.
struct Frame {
    geo: (f64, f64, f64, f64),
    scale: f64,
    origin: (f64, f64),
}

impl Frame {
    fn fit(geo: (f64, f64, f64, f64), rect: (i32, i32, i32, i32)) -> Frame {
        let (w, h) = ((rect.2 - rect.0) as f64, (rect.3 - rect.1) as f64);
        let scale = (w / (geo.2 - geo.0)).min(h / (geo.3 - geo.1));
        Frame::at(geo, scale, rect)
    }

    /// `geo` at `scale`, centred in `rect`.
    fn at(geo: (f64, f64, f64, f64), scale: f64, rect: (i32, i32, i32, i32)) -> Frame {
        let (w, h) = ((rect.2 - rect.0) as f64, (rect.3 - rect.1) as f64);
        let origin = (
            rect.0 as f64 + (w - (geo.2 - geo.0) * scale) / 2.0,
            rect.1 as f64 + (h - (geo.3 - geo.1) * scale) / 2.0,
        );
        Frame { geo, scale, origin }
    }

    fn px(&self, (x, y): (f64, f64)) -> (i32, i32) {
        (
            (self.origin.0 + (x - self.geo.0) * self.scale).round() as i32,
            (self.origin.1 + (self.geo.3 - y) * self.scale).round() as i32,
        )
    }
}

/// The class of a published count: None for 0, else the index into [`BLUES`].
fn class_of(n: u64) -> Option<usize> {
    (n > 0).then(|| BREAKS.iter().take_while(|&&b| n >= b).count())
}

fn fill_of(shown: Shown) -> RGBColor {
    match shown {
        Shown::Hidden => HIDDEN,
        Shown::Count(n) => class_of(n).map_or(ZERO, |c| BLUES[c]),
    }
}

/// The legend's labels: 0, then the classes (the first starts at `min_cell`).
fn class_labels(min_cell: u64) -> Vec<String> {
    let mut lows = vec![min_cell.max(1)];
    lows.extend(BREAKS);
    let mut out = Vec::new();
    for (i, &lo) in lows.iter().enumerate() {
        match lows.get(i + 1) {
            Some(&next) => out.push(format!("{lo}–{}", next - 1)),
            None => out.push(format!("{lo}+")),
        }
    }
    out
}

/// The national map (with the capital-area inset) as SVG and PNG.
pub fn render_map(map: &MunicipalMap, svg: &Path, png: &Path) -> anyhow::Result<()> {
    render(map, None, svg, png)
}

/// The map of one region: only the municipalities `codes` names, at the largest scale that
/// fits (no inset: at a region's scale the capital area reads); Bornholm boxed beside the
/// rest when it is one of them. Same classes and legend as the national map.
pub fn render_region_map(
    map: &MunicipalMap,
    codes: &[u16],
    svg: &Path,
    png: &Path,
) -> anyhow::Result<()> {
    render(map, Some(codes), svg, png)
}

fn render(
    map: &MunicipalMap,
    region: Option<&[u16]>,
    svg: &Path,
    png: &Path,
) -> anyhow::Result<()> {
    font()?;
    {
        let root = SVGBackend::new(svg, SIZE).into_drawing_area();
        draw_map(&root, map, region)?;
        root.present().map_err(err)?;
    }
    super::charts::write_png(png, SIZE, |root| draw_map(root, map, region))
}

fn draw_features<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    frame: &Frame,
    map: &MunicipalMap,
    keep: impl Fn(u16) -> bool,
) -> anyhow::Result<()> {
    let features = features().map_err(|e| anyhow::anyhow!(e))?;
    for f in features.iter().filter(|f| keep(f.code)) {
        let shown = map.values.get(&f.code).copied().unwrap_or(Shown::Count(0));
        let fill = fill_of(shown);
        for ring in &f.rings {
            let mut pts: Vec<(i32, i32)> = ring.iter().map(|&p| frame.px(p)).collect();
            pts.dedup();
            if pts.len() < 3 {
                continue;
            }
            root.draw(&Polygon::new(pts.clone(), fill.filled()))
                .map_err(err)?;
            root.draw(&PathElement::new(pts, BORDER.stroke_width(1)))
                .map_err(err)?;
        }
    }
    Ok(())
}

fn boxed<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    rect: (i32, i32, i32, i32),
    colour: RGBColor,
) -> anyhow::Result<()> {
    root.draw(&Rectangle::new(
        [(rect.0, rect.1), (rect.2, rect.3)],
        colour.stroke_width(1),
    ))
    .map_err(err)
}

fn draw_map<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    map: &MunicipalMap,
    region: Option<&[u16]>,
) -> anyhow::Result<()> {
    let features = features().map_err(|e| anyhow::anyhow!(e))?;
    let in_view = |c: u16| region.is_none_or(|codes| codes.contains(&c));
    root.fill(&WHITE).map_err(err)?;
    let text = |s: &str, pos: (i32, i32), size: u32, bold: bool, colour: RGBColor| {
        let style = (FONT, size).into_font();
        let style = if bold {
            style.style(FontStyle::Bold)
        } else {
            style
        };
        root.draw(&Text::new(s.to_string(), pos, style.color(&colour)))
            .map_err(err)
    };
    text(&map.title, (24, 18), 22, true, BLACK)?;

    // The main map: everything (of the region) but Bornholm.
    let mainland = |c: u16| c != BORNHOLM && in_view(c);
    let main = Frame::fit(bounds(features, mainland), (20, 60, 640, 830));
    draw_features(root, &main, map, mainland)?;

    let mut y = 60;
    if region.is_none() {
        y = draw_inset(root, &main, map, features, &text)?;
    }

    // Legend.
    text(&map.legend_title, (670, y), 15, true, BLACK)?;
    y += 26;
    let mut entries: Vec<(RGBColor, String)> = vec![(ZERO, "0".to_string())];
    entries.extend(BLUES.iter().copied().zip(class_labels(map.min_cell)));
    entries.push((HIDDEN, map.hidden_label.clone()));
    for (colour, label) in entries {
        root.draw(&Rectangle::new([(670, y), (692, y + 16)], colour.filled()))
            .map_err(err)?;
        boxed(root, (670, y, 692, y + 16), BORDER)?;
        text(&label, (702, y), 14, false, BLACK)?;
        y += 24;
    }

    // Bornholm, at the main map's scale, in a box east of Zealand near its own latitude.
    if in_view(BORNHOLM) {
        let bornholm = bounds(features, |c| c == BORNHOLM);
        // On a region's larger scale Bornholm would not fit beside the legend: smaller
        // there (the national map keeps one scale for both).
        let scale = match region {
            None => main.scale,
            Some(_) => main
                .scale
                .min(200.0 / (bornholm.2 - bornholm.0))
                .min(200.0 / (bornholm.3 - bornholm.1)),
        };
        let (w, h) = (
            ((bornholm.2 - bornholm.0) * scale).ceil() as i32 + 16,
            ((bornholm.3 - bornholm.1) * scale).ceil() as i32 + 16,
        );
        let top = main
            .px((0.0, bornholm.3))
            .1
            .clamp(y + 10, (830 - h).max(y + 10));
        let rect = (670, top, 670 + w, top + h);
        boxed(root, rect, BLACK)?;
        let frame = Frame::at(bornholm, scale, rect);
        draw_features(root, &frame, map, |c| c == BORNHOLM)?;
        text(
            "Bornholm",
            (rect.2 + 8, rect.1 + h / 2 - 7),
            13,
            false,
            GREY,
        )?;
    }

    for (i, line) in map.source.iter().enumerate() {
        text(line, (24, 850 + 20 * i as i32), 12, false, GREY)?;
    }
    Ok(())
}

/// The capital area, boxed on the national map and drawn larger top right; returns the
/// height below it where the legend starts.
fn draw_inset<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    main: &Frame,
    map: &MunicipalMap,
    features: &[Feature],
    text: &impl Fn(&str, (i32, i32), u32, bool, RGBColor) -> anyhow::Result<()>,
) -> anyhow::Result<i32> {
    let capital = bounds(features, is_capital);
    let (a, b) = (
        main.px((capital.0, capital.3)),
        main.px((capital.2, capital.1)),
    );
    boxed(root, (a.0 - 2, a.1 - 2, b.0 + 2, b.1 + 2), BLACK)?;
    let inset_rect = (660, 60, 980, 400);
    root.draw(&Rectangle::new(
        [(inset_rect.0, inset_rect.1), (inset_rect.2, inset_rect.3)],
        WHITE.filled(),
    ))
    .map_err(err)?;
    boxed(root, inset_rect, BLACK)?;
    text(
        &map.inset_title,
        (inset_rect.0 + 8, inset_rect.1 + 6),
        14,
        true,
        BLACK,
    )?;
    let inset = Frame::fit(
        capital,
        (
            inset_rect.0 + 10,
            inset_rect.1 + 28,
            inset_rect.2 - 10,
            inset_rect.3 - 10,
        ),
    );
    draw_features(root, &inset, map, is_capital)?;
    // A line from the box on the main map to the inset, so the eye finds it.
    root.draw(&PathElement::new(
        vec![(b.0 + 2, a.1 - 2), (inset_rect.0, inset_rect.3)],
        SEA_LINE.stroke_width(1),
    ))
    .map_err(err)?;
    Ok(420)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_municipality_has_a_boundary() {
        let features = features().unwrap();
        let mut codes: Vec<u16> = features.iter().map(|f| f.code).collect();
        codes.sort_unstable();
        let mut expected: Vec<u16> = crate::intake::spec::municipalities()
            .iter()
            .map(|m| m.code)
            .collect();
        expected.sort_unstable();
        assert_eq!(codes, expected);
        // Frederiksberg (inside København) is drawn after it.
        let pos = |c| features.iter().position(|f| f.code == c).unwrap();
        assert!(pos(147) > pos(101));
    }

    #[test]
    fn classes() {
        assert_eq!(class_of(0), None);
        assert_eq!(class_of(5), Some(0));
        assert_eq!(class_of(24), Some(0));
        assert_eq!(class_of(25), Some(1));
        assert_eq!(class_of(499), Some(4));
        assert_eq!(class_of(500), Some(5));
        assert_eq!(class_of(5000), Some(5));
        assert_eq!(
            class_labels(5),
            ["5–24", "25–49", "50–99", "100–249", "250–499", "500+"]
        );
        assert_eq!(fill_of(Shown::Hidden), HIDDEN);
    }
}
