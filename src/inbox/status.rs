//! Where the count round stands: units asked vs. answered, by respondent type, region and
//! municipality; rows accepted and rejected; who is missing. Shown by `hcount status`, the
//! coordinator's page and (as response rates) the report of `hcount run --inbox`.

use std::collections::BTreeMap;
use std::fmt::Write;

use rusqlite::Connection;
use serde::Serialize;

use crate::intake::spec;

/// Counts over a group of units.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Units registered (asked to report).
    pub asked: u64,
    /// Units with a version that counts (including "no homeless persons").
    pub answered: u64,
    /// Of those, units that answered "no homeless persons this week".
    pub answered_none: u64,
    pub rows_accepted: u64,
    pub rows_rejected: u64,
}

impl Tally {
    /// Share of units that answered, in per cent (0 when none were asked).
    pub fn rate(&self) -> f64 {
        if self.asked == 0 {
            0.0
        } else {
            100.0 * self.answered as f64 / self.asked as f64
        }
    }

    fn add(&mut self, u: &UnitStatus) {
        self.asked += 1;
        self.answered += u64::from(u.answered);
        self.answered_none += u64::from(u.answered_none);
        self.rows_accepted += u.rows_accepted;
        self.rows_rejected += u.rows_rejected;
    }
}

/// One row of a breakdown: a respondent type, region or municipality.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// The code (`shelter`, `101`, the region's name).
    pub key: String,
    /// What a person reads (Danish for types; the name for municipalities).
    pub label: String,
    pub tally: Tally,
}

/// One unit's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitStatus {
    pub respondent_id: String,
    pub name: String,
    pub respondent_type: String,
    pub municipality: u16,
    pub municipality_name: String,
    pub region: String,
    pub has_token: bool,
    pub answered: bool,
    pub answered_none: bool,
    /// The version that counts.
    pub version: Option<u32>,
    /// When the unit last sent anything (also a held or superseded version).
    pub last_upload: Option<String>,
    /// Of the version that counts.
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub rows_rejected: u64,
    /// The unit's latest version is held, waiting for it to confirm.
    pub held: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    pub count_year: Option<i32>,
    /// The latest upload of any unit.
    pub last_upload: Option<String>,
    pub total: Tally,
    pub by_type: Vec<Group>,
    pub by_region: Vec<Group>,
    pub by_municipality: Vec<Group>,
    /// Every unit, by respondent_id.
    pub units: Vec<UnitStatus>,
}

pub(super) fn collect(conn: &Connection) -> super::Result<Status> {
    let count_year = super::db::meta(conn, "count_year")?.and_then(|v| v.parse().ok());
    let mut stmt = conn.prepare(
        "SELECT u.respondent_id, u.name, u.respondent_type, u.municipality, u.token_hash IS NOT NULL,
                c.number, c.answered_none, c.rows_read, c.rows_accepted, c.rows_rejected,
                (SELECT max(created_at) FROM versions l WHERE l.respondent_id = u.respondent_id),
                (SELECT state FROM versions l WHERE l.respondent_id = u.respondent_id
                 ORDER BY number DESC LIMIT 1)
         FROM units u LEFT JOIN versions c ON c.id = u.current_version
         ORDER BY u.respondent_id",
    )?;
    let units: Vec<UnitStatus> = stmt
        .query_map([], |r| {
            let municipality: u16 = r.get(3)?;
            let version: Option<u32> = r.get(5)?;
            let latest_state: Option<String> = r.get(11)?;
            let m = spec::municipalities()
                .iter()
                .find(|m| m.code == municipality);
            Ok(UnitStatus {
                respondent_id: r.get(0)?,
                name: r.get(1)?,
                respondent_type: r.get(2)?,
                municipality,
                municipality_name: m.map(|m| m.name).unwrap_or_default().to_string(),
                region: m.map(|m| m.region).unwrap_or_default().to_string(),
                has_token: r.get(4)?,
                answered: version.is_some(),
                answered_none: r.get::<_, Option<bool>>(6)?.unwrap_or(false),
                version,
                last_upload: r.get(10)?,
                rows_read: r.get::<_, Option<u64>>(7)?.unwrap_or(0),
                rows_accepted: r.get::<_, Option<u64>>(8)?.unwrap_or(0),
                rows_rejected: r.get::<_, Option<u64>>(9)?.unwrap_or(0),
                held: latest_state.as_deref() == Some("held"),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Status::from_units(count_year, units))
}

impl Status {
    pub fn from_units(count_year: Option<i32>, units: Vec<UnitStatus>) -> Status {
        let mut total = Tally::default();
        let mut by_type: BTreeMap<String, Tally> = BTreeMap::new();
        let mut by_region: BTreeMap<String, Tally> = BTreeMap::new();
        let mut by_municipality: BTreeMap<u16, Tally> = BTreeMap::new();
        for u in &units {
            total.add(u);
            by_type.entry(u.respondent_type.clone()).or_default().add(u);
            by_region.entry(u.region.clone()).or_default().add(u);
            by_municipality.entry(u.municipality).or_default().add(u);
        }
        let last_upload = units.iter().filter_map(|u| u.last_upload.clone()).max();
        Status {
            count_year,
            last_upload,
            total,
            // Types in the order of the format's list, not alphabetical.
            by_type: spec::RESPONDENT_TYPES
                .iter()
                .filter_map(|c| {
                    Some(Group {
                        key: c.code.to_string(),
                        label: c.label_da.to_string(),
                        tally: by_type.remove(c.code)?,
                    })
                })
                .collect(),
            by_region: by_region
                .into_iter()
                .map(|(region, tally)| Group {
                    key: region.clone(),
                    label: region,
                    tally,
                })
                .collect(),
            by_municipality: by_municipality
                .into_iter()
                .map(|(code, tally)| Group {
                    key: code.to_string(),
                    label: spec::municipality_name(code)
                        .unwrap_or_default()
                        .to_string(),
                    tally,
                })
                .collect(),
            units,
        }
    }

    /// Units that have not answered yet.
    pub fn not_answered(&self) -> impl Iterator<Item = &UnitStatus> {
        self.units.iter().filter(|u| !u.answered)
    }

    /// Units whose version that counts has rejected rows (they have something to correct).
    pub fn rejected_outstanding(&self) -> impl Iterator<Item = &UnitStatus> {
        self.units.iter().filter(|u| u.rows_rejected > 0)
    }

    /// Units whose latest upload waits for them to confirm it.
    pub fn held(&self) -> impl Iterator<Item = &UnitStatus> {
        self.units.iter().filter(|u| u.held)
    }

    /// The status for the terminal (`hcount status`).
    pub fn to_text(&self, danish: bool) -> String {
        let t = |da: &'static str, en: &'static str| if danish { da } else { en };
        let mut s = String::new();
        let year = self
            .count_year
            .map(|y| y.to_string())
            .unwrap_or_else(|| "?".into());
        let _ = writeln!(
            s,
            "{} {year}: {} {} {} {} ({:.1}%), {} {}",
            t("Optælling", "Count"),
            self.total.answered,
            t("af", "of"),
            self.total.asked,
            t("enheder har svaret", "units answered"),
            self.total.rate(),
            self.total.answered_none,
            t("af dem: ingen hjemløse", "of them: no homeless persons"),
        );
        let _ = writeln!(
            s,
            "{}: {} {}, {} {}; {}: {}",
            t("Rækker", "Rows"),
            self.total.rows_accepted,
            t("godkendt", "accepted"),
            self.total.rows_rejected,
            t("afvist", "rejected"),
            t("seneste indsendelse", "last upload"),
            self.last_upload.as_deref().unwrap_or("-"),
        );
        let table = |s: &mut String, title: &str, groups: &[Group]| {
            let width = groups
                .iter()
                .map(|g| g.label.chars().count())
                .max()
                .unwrap_or(0)
                .max(title.chars().count());
            let _ = writeln!(
                s,
                "\n{title:<width$}  {:>6}  {:>8}  {:>6}  {:>6}",
                t("spurgt", "asked"),
                t("svaret", "answered"),
                t("ingen", "none"),
                t("andel", "rate"),
            );
            for g in groups {
                let _ = writeln!(
                    s,
                    "{:<width$}  {:>6}  {:>8}  {:>6}  {:>5.1}%",
                    g.label,
                    g.tally.asked,
                    g.tally.answered,
                    g.tally.answered_none,
                    g.tally.rate()
                );
            }
        };
        let types: Vec<Group> = self
            .by_type
            .iter()
            .map(|g| Group {
                label: if danish {
                    g.label.clone()
                } else {
                    spec::find_code(&spec::RESPONDENT_TYPES, &g.key)
                        .map(|c| c.label_en.to_string())
                        .unwrap_or_else(|| g.key.clone())
                },
                ..g.clone()
            })
            .collect();
        table(&mut s, t("Respondenttype", "Respondent type"), &types);
        table(&mut s, "Region", &self.by_region);
        let municipalities: Vec<Group> = self
            .by_municipality
            .iter()
            .map(|g| Group {
                label: format!("{} {}", g.key, g.label),
                ..g.clone()
            })
            .collect();
        table(&mut s, t("Kommune", "Municipality"), &municipalities);
        let list = |s: &mut String,
                    title: &str,
                    units: Vec<&UnitStatus>,
                    extra: &dyn Fn(&UnitStatus) -> String| {
            let _ = writeln!(s, "\n{title} ({}):", units.len());
            for u in units {
                let _ = writeln!(
                    s,
                    "  {}  {}  ({}, {} {}){}",
                    u.respondent_id,
                    u.name,
                    u.respondent_type,
                    u.municipality,
                    u.municipality_name,
                    extra(u)
                );
            }
        };
        list(
            &mut s,
            t("Har ikke svaret", "Not answered"),
            self.not_answered().collect(),
            &|_| String::new(),
        );
        list(
            &mut s,
            t("Afviste rækker at rette", "Rejected rows outstanding"),
            self.rejected_outstanding().collect(),
            &|u| {
                format!(
                    ": {} {} {}",
                    u.rows_rejected,
                    if danish {
                        "afviste rækker i version"
                    } else {
                        "rejected rows in version"
                    },
                    u.version.unwrap_or(0)
                )
            },
        );
        list(
            &mut s,
            t(
                "Tilbageholdte indsendelser, venter på bekræftelse",
                "Held uploads waiting for confirmation",
            ),
            self.held().collect(),
            &|_| String::new(),
        );
        s
    }

    /// One row per unit, for the coordinator's spreadsheet (`hcount status --format csv`).
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record([
            "respondent_id",
            "name",
            "respondent_type",
            "municipality",
            "municipality_name",
            "region",
            "answered",
            "answered_none",
            "version",
            "last_upload",
            "rows_read",
            "rows_accepted",
            "rows_rejected",
            "held",
            "has_token",
        ]);
        let yes = |b: bool| if b { "yes" } else { "no" }.to_string();
        for u in &self.units {
            let _ = w.write_record([
                crate::count::tables::defuse(&u.respondent_id).into_owned(),
                crate::count::tables::defuse(&u.name).into_owned(),
                u.respondent_type.clone(),
                u.municipality.to_string(),
                u.municipality_name.clone(),
                u.region.clone(),
                yes(u.answered),
                yes(u.answered_none),
                u.version.map(|v| v.to_string()).unwrap_or_default(),
                u.last_upload.clone().unwrap_or_default(),
                u.rows_read.to_string(),
                u.rows_accepted.to_string(),
                u.rows_rejected.to_string(),
                yes(u.held),
                yes(u.has_token),
            ]);
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    /// Response rates for the report of `hcount run --inbox` (`response.csv`): the total,
    /// then by respondent type and by region.
    pub fn response_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record([
            "breakdown",
            "key",
            "asked",
            "answered",
            "answered_none",
            "rate_percent",
        ]);
        let mut row = |breakdown: &str, key: &str, t: &Tally| {
            let _ = w.write_record([
                breakdown.to_string(),
                key.to_string(),
                t.asked.to_string(),
                t.answered.to_string(),
                t.answered_none.to_string(),
                format!("{:.1}", t.rate()),
            ]);
        };
        row("total", "total", &self.total);
        for g in &self.by_type {
            row("respondent_type", &g.key, &g.tally);
        }
        for g in &self.by_region {
            row("region", &g.key, &g.tally);
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }
}
