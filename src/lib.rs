//! hcount: the Danish national homelessness count, from service submissions to tables.
//!
//! Data flows one way, one module per stage:
//! [`ingest`] (files → text records) → [`validate`] (records → typed rows, rejections,
//! warnings) → [`pseudonymise`] + [`staging`] (rows → Arrow batches with keyed person keys,
//! no CPR) → [`engine`] (the SQL in `queries/`: deduplicate, classify, tabulate) →
//! [`tables`] (CSV artefacts) → charts and report.

pub mod charts;
pub mod cli;
pub mod cpr;
pub mod engine;
pub mod feedback;
pub mod history;
pub mod ingest;
pub mod output;
pub mod progress;
pub mod pseudonymise;
pub mod report;
pub mod run;
pub mod spec;
pub mod staging;
pub mod summary;
pub mod synth;
pub mod tables;
pub mod template;
pub mod validate;
