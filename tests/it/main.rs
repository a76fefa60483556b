//! The integration tests: one binary (ripgrep style), calling `hcount` as a user would.

mod cli;
mod dedup;
mod handworked;
mod inbox;
mod outputs;
mod report;
mod rules;
mod submitters;
mod util;
