//! hcount: the Danish national homelessness count, from service submissions to tables.
//!
//! Data flows one way, one folder per stage:
//! [`intake`] (its own crate, `crates/intake`: files → records → validated rows →
//! pseudonyms) → [`count`] (staging, the SQL in `queries/` run by DataFusion, tables) →
//! [`publish`] (charts, report, feedback pages). [`run`] wires the stages together for the
//! commands in [`cli`]; no stage reaches back up.

pub use hcount_intake as intake;

pub mod cli;
pub mod count;
pub mod inbox;
pub mod output;
pub mod privacy;
pub mod progress;
pub mod publish;
pub mod run;
pub mod summary;
pub mod synth;
pub mod template;
pub mod warehouse;
