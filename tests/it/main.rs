//! The integration tests: one binary (ripgrep style), calling `hcount` as a user would.

mod cli;
mod dedup;
mod disclosure;
mod form_v2;
mod handworked;
mod hostile;
mod inbox;
mod outputs;
mod outputs_safety;
mod privacy;
mod report;
mod rules;
mod serve;
mod submitters;
mod util;
mod warehouse;
mod web;
