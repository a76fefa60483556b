//! The intake stage of hcount: from a submitted file to validated, typed rows.
//!
//! [`ingest`] (files → text records) → [`validate`] (records → typed rows, rejections,
//! warnings, with the rule codes of [`spec`]) → [`pseudonymise`] (CPR and other identifiers →
//! keyed person keys). [`cpr`] parses CPR and replacement numbers.
//!
//! This crate has no DataFusion or Arrow in it on purpose: the fuzz targets and the inbox's
//! upload path need only this, and build in seconds instead of minutes.

pub mod cpr;
pub mod ingest;
pub mod mask;
pub mod pseudonymise;
pub mod spec;
pub mod validate;
