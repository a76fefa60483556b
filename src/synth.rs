// PLACEHOLDER until the generator lands (helper is writing it); overwritten.
pub enum Style {
    Plain,
    Messy,
}
pub struct SynthOptions {
    pub persons: usize,
    pub files: usize,
    pub seed: u64,
    pub year: i32,
    pub style: Style,
}
pub struct SynthSummary {
    pub files: usize,
    pub rows: usize,
    pub persons: usize,
    pub bad_rows: usize,
}
pub fn generate(_opts: &SynthOptions, _out_dir: &std::path::Path) -> anyhow::Result<SynthSummary> {
    anyhow::bail!("not yet")
}
