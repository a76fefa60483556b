//! The count stage: validated rows → staged Arrow batches with person keys ([`staging`]) →
//! the SQL in `queries/` run by DataFusion ([`engine`]: deduplicate, classify, tabulate) →
//! tables as CSV ([`tables`]). DataFusion stays behind [`engine`].

pub mod engine;
pub mod ethos;
mod key_range_sort;
pub mod staging;
pub mod tables;
