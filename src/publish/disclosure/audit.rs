//! The attacker: by linear programming, the range each hidden cell can take given every
//! published figure, the relations between the tables, non-negativity and what each mark
//! says (`<5`: 1 to 4; `x`: anything from 0 up).
//!
//! **Protection rule.** A cell the attacker can prove to be below the threshold t must keep a
//! range from at most 1 to at least t − 1: the attacker learns nothing beyond what `<t` says.
//! Every published exact count is 0 or at least t.
//!
//! Each cell is attacked twice: the LP relaxation first (its range contains the integer
//! attacker's, so a cell it narrows too far fails at once), then, when that range is wide
//! enough, the integer programme (every count a whole number), whose range is the one
//! reported. Ranges are rounded inwards to whole persons (a tolerance of 1e-6 absorbs the
//! solver's floating point). Each problem holds only the hidden cells connected to the
//! attacked one through the relations (its component), which keeps it small.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use microlp::{ComparisonOp, OptimizationDirection, Problem};

use super::{Kind, LinkedSet, PUBLISHED, SECONDARY_MARK, Value, is_small};
use crate::count::tables::Table;

pub mod trace {
    use std::sync::atomic::AtomicU64;
    pub static SOLVES: AtomicU64 = AtomicU64::new(0);
    pub static SOLVE_MICROS: AtomicU64 = AtomicU64::new(0);
    pub static VARS: AtomicU64 = AtomicU64::new(0);
    /// Checks answered from a kept solution with one cell fixed (`WarmStart`).
    pub static WARM_CHECKS: AtomicU64 = AtomicU64::new(0);
    pub static WARM_MICROS: AtomicU64 = AtomicU64::new(0);
    pub fn report(what: &str) {
        use std::sync::atomic::Ordering::Relaxed;
        if std::env::var_os("HCOUNT_TRACE").is_some() {
            let n = SOLVES.swap(0, Relaxed);
            eprintln!(
                "hcount: {what}: {n} LP solves, {:.3} s solving, mean {} variables; \
                 {} checks from a kept solution, {:.3} s",
                SOLVE_MICROS.swap(0, Relaxed) as f64 / 1e6,
                VARS.swap(0, Relaxed) / n.max(1),
                WARM_CHECKS.swap(0, Relaxed),
                WARM_MICROS.swap(0, Relaxed) as f64 / 1e6,
            );
        }
    }
}

/// How many times [`Component::seed`] solves for the cells still unsettled, per goal, in
/// the audit. None in the suppression (`seed_witnesses`): there a cell a seed would settle
/// is checked from the kept solution (`WarmStart`) for a tenth of a solve, while a seed
/// solve over many cells costs more than a solve of one (national set: 74 → 39 solves,
/// 0.19–0.25 → 0.17–0.18 s of solving and checking). The audit has no kept solution and
/// asks two optima per cell: there the rounds spare many solves (a sparse count's audit
/// took 556 solves without them, 244 with).
const SETTLE_ROUNDS: usize = 8;

/// The range the attacker finds for one hidden cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellRange {
    pub cell: usize,
    pub low: u64,
    pub high: u64,
}

/// The audit of a linked set.
#[derive(Debug, Clone, Default)]
pub struct Audit {
    pub threshold: u64,
    pub cells: usize,
    /// Cells hidden as `<t`.
    pub primary: usize,
    /// Cells hidden as `x`.
    pub secondary: usize,
    /// The attacker's range of every `<t` cell.
    pub ranges: Vec<CellRange>,
    /// `<t` cells narrowed below what `<t` says: (label, low, high).
    pub disclosed: Vec<(String, u64, u64)>,
    /// Exact published counts between 1 and t − 1: (label, count).
    pub exposed: Vec<(String, u64)>,
    /// Published figures that contradict each other (no count fits them all).
    pub inconsistent: Vec<String>,
}

impl Audit {
    pub fn passed(&self) -> bool {
        self.disclosed.is_empty() && self.exposed.is_empty() && self.inconsistent.is_empty()
    }

    /// The narrowest range (high − low) the attacker finds for a `<t` cell.
    pub fn min_protection(&self) -> Option<u64> {
        self.ranges.iter().map(|r| r.high - r.low).min()
    }

    /// A short text for people: what was attacked and what came out (Danish unless `en`).
    pub fn text(&self, en: bool) -> String {
        let t = self.threshold;
        let pick = |da: String, e: String| if en { e } else { da };
        let mut s = pick(
            format!(
                "audit: {} offentliggjorte celler, {} skjult ({} under {t} som <{t}, {} sekundært som x)\n",
                self.cells,
                self.primary + self.secondary,
                self.primary,
                self.secondary
            ),
            format!(
                "audit: {} published cells, {} hidden ({} below {t} as <{t}, {} secondary as x)\n",
                self.cells,
                self.primary + self.secondary,
                self.primary,
                self.secondary
            ),
        );
        s.push_str(&match self.min_protection() {
            Some(m) => pick(
                format!(
                    "audit: det smalleste spænd angriberen finder for en <{t}-celle: {m} (beskyttelse kræver {})\n",
                    t.saturating_sub(2)
                ),
                format!(
                    "audit: narrowest range the attacker finds for a <{t} cell: {m} (protection needs {})\n",
                    t.saturating_sub(2)
                ),
            ),
            None => pick(
                "audit: ingen celle er skjult\n".into(),
                "audit: no cell is hidden\n".into(),
            ),
        });
        for (label, n) in &self.exposed {
            s.push_str(&pick(
                format!("audit: FEJL {label} er offentliggjort som {n}, under grænsen {t}\n"),
                format!("audit: FAIL {label} is published as {n}, below the threshold {t}\n"),
            ));
        }
        for (label, lo, hi) in &self.disclosed {
            s.push_str(&pick(
                format!("audit: FEJL {label} kan indsnævres til {lo}..{hi}\n"),
                format!("audit: FAIL {label} can be narrowed to {lo}..{hi}\n"),
            ));
        }
        for label in &self.inconsistent {
            s.push_str(&pick(
                format!("audit: FEJL {label}: de offentliggjorte tal modsiger hinanden\n"),
                format!("audit: FAIL {label}: the published figures contradict each other\n"),
            ));
        }
        s.push_str(match (self.passed(), en) {
            (true, false) => {
                "audit: bestået: ingen skjult celle kan indsnævres mere, end dens mærke siger\n"
            }
            (true, true) => {
                "audit: passed: no hidden cell can be narrowed below what its mark says\n"
            }
            (false, false) => "audit: IKKE BESTÅET\n",
            (false, true) => "audit: FAILED\n",
        });
        s
    }
}

/// The threshold of a set: from its `<t` marks, else `default`.
fn threshold_of(set: &LinkedSet, default: u64) -> u64 {
    set.cells
        .iter()
        .find_map(|c| match c.value {
            Value::Below(t) => Some(t),
            _ => None,
        })
        .unwrap_or(default)
}

/// Attacks every hidden cell of `set` (built from published tables). `min_cell` is the
/// threshold when the tables carry no `<t` mark.
pub fn audit(set: &LinkedSet, min_cell: u64) -> Audit {
    audit_with(set, min_cell, None)
}

/// Whole tables the suppression found that fit what it published, for the run's own
/// audit: the exact table first, then the attacker's whole solutions, each a count per
/// cell. A `<t` cell that one of them puts at 1 and one at t − 1 needs no solve, nor an `x`
/// that one puts at t or more. The audit takes none of them on trust: each is checked
/// against the published figures, the relations and the marks, exactly, in whole numbers,
/// component by component, and one that does not fit is left out. So the audit's answer is
/// the same with them as without (they only spare solves: a range is the attacker's
/// optimum either way). Held in memory only, never written: the exact table is one of them.
#[derive(Clone, Default)]
pub struct Witnessed {
    /// Each cell's table (an index into [`PUBLISHED`]) and key, in the order of `tables`.
    cells: Vec<(usize, Vec<String>)>,
    tables: Vec<Vec<i64>>,
}

impl std::fmt::Debug for Witnessed {
    // Never the counts: the exact table is among them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Witnessed({} tables of {} cells)",
            self.tables.len(),
            self.cells.len()
        )
    }
}

impl Witnessed {
    /// `tables` (each a count per cell of `set`; one of another length is left out) with
    /// their cells' keys.
    pub fn new(set: &LinkedSet, mut tables: Vec<Vec<i64>>) -> Witnessed {
        tables.retain(|t| t.len() == set.cells.len());
        Witnessed {
            cells: set.cells.iter().map(|c| (c.table, c.key.clone())).collect(),
            tables,
        }
    }

    /// The tables over the cells of `set` (another build of the same tables: read back from
    /// the published files), matched by table and key. None at all when a cell of `set` is
    /// not among these cells: they were made for other tables.
    pub(super) fn over(&self, set: &LinkedSet) -> Vec<Vec<i64>> {
        let position: HashMap<(usize, &[String]), usize> = self
            .cells
            .iter()
            .enumerate()
            .map(|(i, (t, key))| ((*t, key.as_slice()), i))
            .collect();
        let Some(from) = set
            .cells
            .iter()
            .map(|c| position.get(&(c.table, c.key.as_slice())).copied())
            .collect::<Option<Vec<usize>>>()
        else {
            return Vec::new();
        };
        self.tables
            .iter()
            .map(|t| from.iter().map(|&i| t[i]).collect())
            .collect()
    }
}

/// [`audit`], sparing solves with what the suppression found (see [`Witnessed`]).
pub fn audit_with(set: &LinkedSet, min_cell: u64, witnessed: Option<&Witnessed>) -> Audit {
    let known = witnessed.map(|w| w.over(set)).unwrap_or_default();
    let threshold = threshold_of(set, min_cell);
    let mut out = Audit {
        threshold,
        cells: set.cells.len(),
        ..Audit::default()
    };
    // The hidden cells grouped by component (cells of one component share one problem and
    // its witnesses); components are independent, so they are attacked in parallel.
    let mut component_of = vec![usize::MAX; set.cells.len()];
    let mut components: Vec<Component> = Vec::new();
    for i in 0..set.cells.len() {
        if !matches!(set.cells[i].value, Value::Known(_)) && component_of[i] == usize::MAX {
            let c = Component::of(set, i);
            for &j in &c.cells {
                component_of[j] = components.len();
            }
            components.push(c);
        }
    }
    type Outcome = Result<(u64, u64), String>;
    type Check = Result<Option<(u64, u64)>, String>;
    type PerComponent = (Vec<(usize, Outcome)>, Vec<(usize, Check)>);
    let (ranges, secondary): (HashMap<usize, Outcome>, HashMap<usize, Check>) = {
        use rayon::prelude::*;
        // Within a component, its cells are attacked in as many runs as there are
        // threads, each run with its own copy of the component's seed solutions (one
        // component often holds nearly every hidden cell). A cell's range does not depend
        // on which solutions are at hand (they only spare solves), so the result is the
        // same for any number of threads.
        let runs = rayon::current_num_threads().max(1);
        let per: Vec<PerComponent> = components
            .par_iter()
            .map(|c| {
                let mut seeded = Witnesses::default();
                let mut seen = std::collections::HashSet::new();
                for table in &known {
                    let local: Vec<i64> = c.cells.iter().map(|&i| table[i]).collect();
                    if c.fits(set, threshold, &local) && seen.insert(local.clone()) {
                        seeded.found.push(local);
                    }
                }
                c.seed(set, threshold, &mut seeded, SETTLE_ROUNDS);
                let ranges = in_runs(&c.primaries(set), runs, &seeded, |i, w| {
                    c.range(set, i, threshold, w)
                });
                let hidden = in_runs(&c.secondaries(set), runs, &seeded, |i, w| {
                    c.secondary_check(set, i, threshold, w)
                });
                (ranges, hidden)
            })
            .collect();
        let mut r = HashMap::new();
        let mut x = HashMap::new();
        for (a, b) in per {
            r.extend(a);
            x.extend(b);
        }
        (r, x)
    };
    for (i, cell) in set.cells.iter().enumerate() {
        match cell.value {
            Value::Known(n) if is_small(n, threshold) => out.exposed.push((cell.label(), n)),
            Value::Known(_) => {}
            Value::Below(_) => {
                out.primary += 1;
                match &ranges[&i] {
                    Ok((low, high)) => {
                        if *low > 1 || *high + 1 < threshold {
                            out.disclosed.push((
                                format!("{} (<{threshold})", cell.label()),
                                *low,
                                *high,
                            ));
                        }
                        out.ranges.push(CellRange {
                            cell: i,
                            low: *low,
                            high: *high,
                        });
                    }
                    Err(_) => out.inconsistent.push(cell.label()),
                }
            }
            Value::Secondary => {
                out.secondary += 1;
                match &secondary[&i] {
                    Ok(None) => {}
                    Ok(Some((low, high))) => out.disclosed.push((
                        format!("{} ({SECONDARY_MARK})", cell.label()),
                        *low,
                        *high,
                    )),
                    Err(_) => out.inconsistent.push(cell.label()),
                }
            }
        }
    }
    out
}

/// `attack` for every cell of `cells`, in `runs` runs at once (consecutive cells in each),
/// each run with its own copy of the `seeded` solutions and keeping what it finds.
fn in_runs<R: Send>(
    cells: &[usize],
    runs: usize,
    seeded: &Witnesses,
    attack: impl Fn(usize, &mut Witnesses) -> R + Sync,
) -> Vec<(usize, R)> {
    use rayon::prelude::*;
    cells
        .par_chunks(cells.len().div_ceil(runs).max(1))
        .flat_map_iter(|run| {
            let mut w = Witnesses {
                found: seeded.found.clone(),
            };
            run.iter()
                .map(|&i| (i, attack(i, &mut w)))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Whether a `<t` cell keeps the range `<t` says, in `set` as it stands. `witnesses` are
/// whole-number tables known to fit every relation and mark of `set` (each a value per cell
/// of the set); ones found here are added. Hiding more cells only loosens the problem, so a
/// witness stays one while suppression goes on: the exact table is the first.
pub fn protected(
    set: &LinkedSet,
    cell: usize,
    threshold: u64,
    witnesses: &mut Vec<Vec<i64>>,
    warm: &mut WarmStart,
) -> bool {
    let reached = |w: &Vec<Vec<i64>>, low: bool| {
        w.iter()
            .any(|v| goal_reached(set.cells[cell].value, !low, v[cell], threshold))
    };
    if reached(witnesses, true) && reached(witnesses, false) {
        return true;
    }
    let c = Component::of(set, cell);
    let mut local = Witnesses::default();
    let ok = [true, false].into_iter().all(|low| {
        reached(witnesses, low)
            || matches!(
                c.reaches_bound(set, cell, threshold, !low, &mut local, warm),
                Ok(true)
            )
    });
    adopt(witnesses, &c, local);
    ok
}

/// The last attack problem the suppression solved, kept solved, for the next checks of
/// the same problem: the suppression checks one cell after another while the hidden cells
/// stay the same, and each check asks only whether a `<t` cell can be at a bound of its
/// range (1, or t − 1). With the cell fixed at the bound, microlp goes on from the kept
/// solution's basis (a few dual simplex steps) instead of solving from scratch. The
/// problem is kept with what defines it — the component's cells, every bound and every
/// relation with its constant — and used only for a problem equal in all of them.
#[derive(Default)]
pub struct WarmStart {
    kept: Option<Kept>,
}

struct Kept {
    shape: Shape,
    solution: microlp::Solution,
    vars: Vec<microlp::Variable>,
}

/// An attack problem without its objective: the component's cells, each cell's bounds,
/// and each relation as (position, coefficient) terms, comparison and right-hand side.
#[derive(PartialEq)]
struct Shape {
    cells: Vec<usize>,
    bounds: Vec<(i64, i64)>,
    rows: Vec<(Vec<(usize, f64)>, Kind, f64)>,
}

/// Keeps a component's solutions as whole tables for the next checks: the component's
/// values over the first witness (the exact table), which fits everything outside it.
fn adopt(witnesses: &mut Vec<Vec<i64>>, c: &Component, local: Witnesses) {
    if let Some(base) = witnesses.first().cloned() {
        for w in local.found {
            let mut full = base.clone();
            for (k, &cell) in c.cells.iter().enumerate() {
                full[cell] = w[k];
            }
            witnesses.push(full);
        }
    }
}

/// Whether an `x` cell passes the rule for hidden cells (see `Component::secondary_check`),
/// with whole-table `witnesses` as for [`protected`].
pub fn secondary_protected(
    set: &LinkedSet,
    cell: usize,
    threshold: u64,
    witnesses: &mut Vec<Vec<i64>>,
) -> bool {
    if witnesses.iter().any(|v| v[cell] >= threshold as i64) {
        return true;
    }
    let c = Component::of(set, cell);
    let mut local = Witnesses::default();
    let ok = matches!(
        c.secondary_check(set, cell, threshold, &mut local),
        Ok(None)
    );
    adopt(witnesses, &c, local);
    ok
}

/// Adds to `witnesses` (whole tables of `set`, the first of them exact) the seed solutions
/// of every component of hidden cells: all `<t` low, all high, every `x` high (see
/// `Component::seed`), without the rounds for the cells still unsettled (see
/// [`SETTLE_ROUNDS`]: the suppression checks those from a kept solution).
pub fn seed_witnesses(set: &LinkedSet, threshold: u64, witnesses: &mut Vec<Vec<i64>>) {
    let Some(base) = witnesses.first().cloned() else {
        return;
    };
    let mut done = vec![false; set.cells.len()];
    for i in 0..set.cells.len() {
        if done[i] || matches!(set.cells[i].value, Value::Known(_)) {
            continue;
        }
        let c = Component::of(set, i);
        for &j in &c.cells {
            done[j] = true;
        }
        let mut local = Witnesses::default();
        c.seed(set, threshold, &mut local, 0);
        for w in local.found {
            let mut full = base.clone();
            for (k, &cell) in c.cells.iter().enumerate() {
                full[cell] = w[k];
            }
            witnesses.push(full);
        }
    }
}

/// The hidden cells connected to `cell` through relations (`cell` first), and the relations
/// that hold any of them.
pub fn component(set: &LinkedSet, cell: usize) -> (Vec<usize>, Vec<usize>) {
    let hidden = |c: usize| !matches!(set.cells[c].value, Value::Known(_));
    let mut seen = vec![false; set.cells.len()];
    let mut seen_rel = vec![false; set.relations.len()];
    let mut cells = vec![cell];
    let mut rels = Vec::new();
    seen[cell] = true;
    let mut next = 0;
    while next < cells.len() {
        let c = cells[next];
        next += 1;
        for &r in &set.relations_of[c] {
            if seen_rel[r] {
                continue;
            }
            seen_rel[r] = true;
            rels.push(r);
            for &(d, _) in &set.relations[r].terms {
                if !seen[d] && hidden(d) {
                    seen[d] = true;
                    cells.push(d);
                }
            }
        }
    }
    rels.sort_unstable();
    (cells, rels)
}

/// The attacker's range of hidden `cell`: (lowest, highest) whole count.
pub fn range(set: &LinkedSet, cell: usize, threshold: u64) -> Result<(u64, u64), String> {
    Component::of(set, cell).range(set, cell, threshold, &mut Witnesses::default())
}

/// Whole-number solutions of one component's problem (a value per cell of the component),
/// each checked exactly against every relation and bound: a solution that gives a cell 1
/// proves the attacker cannot rule 1 out, without another solve.
#[derive(Default)]
struct Witnesses {
    found: Vec<Vec<i64>>,
}

/// One attack problem: hidden cells and the relations that hold them.
struct Component {
    /// In index order: a cell's variable is its position here ([`Component::find`]).
    cells: Vec<usize>,
    rels: Vec<usize>,
}

impl Component {
    fn of(set: &LinkedSet, cell: usize) -> Component {
        let (mut cells, mut rels) = component(set, cell);
        // In index order, not in the order they were reached from `cell`: every cell of a
        // component then builds the same problem, variable for variable, which is what
        // lets a check use the problem kept from another cell's (`WarmStart`).
        cells.sort_unstable();
        rels.sort_unstable();
        Component { cells, rels }
    }

    /// The position (the LP variable) of cell `c`, if it is in the component: a binary
    /// search of the sorted cells (every check looks up each term of each relation; a
    /// hash map's hashing cost more).
    fn find(&self, c: usize) -> Option<usize> {
        self.cells.binary_search(&c).ok()
    }

    /// The position of cell `c`, one of the component's.
    fn at(&self, c: usize) -> usize {
        self.find(c).expect("a cell of the component")
    }

    fn secondaries(&self, set: &LinkedSet) -> Vec<usize> {
        let mut p: Vec<usize> = self
            .cells
            .iter()
            .copied()
            .filter(|&c| set.cells[c].value == Value::Secondary)
            .collect();
        p.sort_unstable();
        p
    }

    /// An `x` cell says nothing, but if the attacker can prove it below the threshold it
    /// must keep the range `<t` would: from at most 1 to t − 1. None: it does (or the
    /// attacker cannot prove it small); else its range.
    fn secondary_check(
        &self,
        set: &LinkedSet,
        cell: usize,
        threshold: u64,
        w: &mut Witnesses,
    ) -> Result<Option<(u64, u64)>, String> {
        let k = self.at(cell);
        if w.found.iter().any(|v| v[k] >= threshold as i64) {
            return Ok(None);
        }
        let high = self.extreme(set, cell, threshold, true, w)?;
        // Not provably small; or provably 0, and zeros are not protected (they are
        // published as 0 elsewhere).
        if high >= threshold || high == 0 {
            return Ok(None);
        }
        let low = self.extreme(set, cell, threshold, false, w)?;
        Ok((low > 1 || high + 1 < threshold).then_some((low, high)))
    }

    fn primaries(&self, set: &LinkedSet) -> Vec<usize> {
        let mut p: Vec<usize> = self
            .cells
            .iter()
            .copied()
            .filter(|&c| matches!(set.cells[c].value, Value::Below(_)))
            .collect();
        p.sort_unstable();
        p
    }

    /// Two solves that usually settle most cells at once: all `<t` cells as low, then as
    /// high, as they can be together (kept when the solution is whole).
    fn seed(&self, set: &LinkedSet, threshold: u64, w: &mut Witnesses, rounds: usize) {
        let all: Vec<(usize, f64)> = self.primaries(set).into_iter().map(|c| (c, 1.0)).collect();
        let mut tries: Vec<(&[(usize, f64)], bool)> = Vec::new();
        if all.len() > 1 {
            tries.push((&all, false));
            tries.push((&all, true));
        }
        // And every `x` as high as it goes: a witness that it need not be small.
        let hidden: Vec<(usize, f64)> = self
            .secondaries(set)
            .into_iter()
            .map(|c| (c, 1.0))
            .collect();
        if !hidden.is_empty() {
            tries.push((&hidden, true));
        }
        let settled = |c: usize, maximise: bool, w: &Witnesses| {
            let k = self.at(c);
            w.found
                .iter()
                .any(|v| goal_reached(set.cells[c].value, maximise, v[k], threshold))
        };
        for (objective, maximise) in tries {
            // Every cell of the goal already reached by a witness at hand (the run's own
            // audit starts with the suppression's): nothing to seed.
            if objective.iter().all(|&(c, _)| settled(c, maximise, w)) {
                continue;
            }
            if let Ok((_, values)) = self.solve(set, objective, threshold, maximise, false)
                && let Some(v) = self.verify(set, threshold, &values)
            {
                w.found.push(v);
            }
        }
        // Then, `rounds` times at most, the same for the cells no witness settles yet: each
        // solve usually settles many at once, where one solve per cell would settle one.
        let goals = [
            (self.primaries(set), false),
            (self.primaries(set), true),
            (self.secondaries(set), true),
        ];
        for (cells, maximise) in goals {
            for _ in 0..rounds {
                let open: Vec<(usize, f64)> = cells
                    .iter()
                    .filter(|&&c| !settled(c, maximise, w))
                    .map(|&c| (c, 1.0))
                    .collect();
                if open.len() < 2 {
                    break;
                }
                let Ok((_, values)) = self.solve(set, &open, threshold, maximise, false) else {
                    break;
                };
                let Some(v) = self.verify(set, threshold, &values) else {
                    break;
                };
                let progress = open.iter().any(|&(c, _)| {
                    goal_reached(set.cells[c].value, maximise, v[self.at(c)], threshold)
                });
                w.found.push(v);
                if !progress {
                    break;
                }
            }
        }
    }

    /// The range of `cell`: from a witness where one exists, else by solving.
    fn range(
        &self,
        set: &LinkedSet,
        cell: usize,
        threshold: u64,
        w: &mut Witnesses,
    ) -> Result<(u64, u64), String> {
        let low = self.extreme(set, cell, threshold, false, w)?;
        let high = self.extreme(set, cell, threshold, true, w)?;
        Ok((low, high))
    }

    /// The lowest (or highest) whole value of `cell`. The bounds of a `<t` cell are 1 and
    /// t − 1, so a witness at the bound is the answer. Else the LP relaxation: its optimum
    /// bounds the integer one (so a cell it narrows too far is answered), and a whole
    /// solution is the integer optimum; else branch and bound.
    fn extreme(
        &self,
        set: &LinkedSet,
        cell: usize,
        threshold: u64,
        maximise: bool,
        w: &mut Witnesses,
    ) -> Result<u64, String> {
        self.extreme_keeping(set, cell, threshold, maximise, w, None)
    }

    /// Whether the `<t` cell `cell` can be at the bound of its range — t − 1 (`maximise`)
    /// or 1 — given everything published: the question `protected` asks. The answer is the
    /// one [`Component::extreme`] gives (its optimum is the bound exactly when a whole
    /// solution puts the cell there), found more cheaply when `warm` holds this problem
    /// solved: the kept solution, copied, with the cell fixed at the bound, is re-solved
    /// from its basis. A whole solution that fits every relation and bound (checked in
    /// integers) answers yes and is kept as a witness; an edited problem the solver proves
    /// infeasible answers no (no real solution puts the cell there, so no whole one);
    /// anything else — a solution not whole, an error — is asked the full way.
    fn reaches_bound(
        &self,
        set: &LinkedSet,
        cell: usize,
        threshold: u64,
        maximise: bool,
        w: &mut Witnesses,
        warm: &mut WarmStart,
    ) -> Result<bool, String> {
        let Value::Below(t) = set.cells[cell].value else {
            return Err(format!("{} is not a <t cell", set.cells[cell].label()));
        };
        let reached = |v: i64| goal_reached(set.cells[cell].value, maximise, v, threshold);
        let bound = if maximise { t as i64 - 1 } else { 1 };
        let k = self.at(cell);
        if w.found.iter().any(|v| reached(v[k])) {
            return Ok(true);
        }
        let shape = self.shape(set, threshold);
        // (A mark of another threshold than the run's: its bound is not the question.)
        let kept = warm.kept.as_ref().filter(|kept| kept.shape == shape);
        if let Some(kept) = kept.filter(|_| t == threshold) {
            let t0 = std::time::Instant::now();
            let fixed = kept.solution.clone().fix_var(kept.vars[k], bound as f64);
            trace::WARM_CHECKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            trace::WARM_MICROS.fetch_add(
                t0.elapsed().as_micros() as u64,
                std::sync::atomic::Ordering::Relaxed,
            );
            match fixed.map(|outcome| outcome.into_solution()) {
                Ok(Ok(solution)) => {
                    let values: Vec<f64> =
                        kept.vars.iter().map(|&v| solution.var_value(v)).collect();
                    if let Some(v) = self.verify(set, threshold, &values)
                        && v[k] == bound
                    {
                        w.found.push(v);
                        return Ok(true);
                    }
                }
                Err(microlp::Error::Infeasible) => return Ok(false),
                _ => {}
            }
        }
        let value = self.extreme_keeping(set, cell, threshold, maximise, w, Some((warm, shape)))?;
        Ok(reached(value as i64))
    }

    /// [`Component::extreme`]; with `warm` (and this component's problem, `Shape`), the LP
    /// relaxation it solves is kept there.
    fn extreme_keeping(
        &self,
        set: &LinkedSet,
        cell: usize,
        threshold: u64,
        maximise: bool,
        w: &mut Witnesses,
        warm: Option<(&mut WarmStart, Shape)>,
    ) -> Result<u64, String> {
        let k = self.at(cell);
        let below = match set.cells[cell].value {
            Value::Below(t) => Some(t),
            _ => None,
        };
        if let Some(t) = below {
            let bound = if maximise { t as i64 - 1 } else { 1 };
            if w.found.iter().any(|v| v[k] == bound) {
                return Ok(bound as u64);
            }
        }
        let inward = |v: f64| {
            if maximise {
                (v + 1e-6).floor().max(0.0) as u64
            } else {
                (v - 1e-6).ceil().max(0.0) as u64
            }
        };
        let objective = [(cell, 1.0)];
        let (value, values) = match warm {
            Some((warm, shape)) => {
                let (value, values, solution, vars) =
                    self.solve_shape(&shape, &objective, maximise, false)?;
                warm.kept = Some(Kept {
                    shape,
                    solution,
                    vars,
                });
                (value, values)
            }
            None => self.solve(set, &objective, threshold, maximise, false)?,
        };
        if let Some(v) = self.verify(set, threshold, &values) {
            w.found.push(v);
            return Ok(inward(value));
        }
        let relaxed = inward(value);
        if let Some(t) = below
            && ((maximise && relaxed + 1 < t) || (!maximise && relaxed > 1))
        {
            return Ok(relaxed);
        }
        let (value, values) = self.solve(set, &objective, threshold, maximise, true)?;
        if let Some(v) = self.verify(set, threshold, &values) {
            w.found.push(v);
        }
        Ok(inward(value))
    }

    /// Solves max/min Σ objective over the component: (optimum, the value of each cell).
    fn solve(
        &self,
        set: &LinkedSet,
        objective: &[(usize, f64)],
        threshold: u64,
        maximise: bool,
        integer: bool,
    ) -> Result<(f64, Vec<f64>), String> {
        self.solve_shape(&self.shape(set, threshold), objective, maximise, integer)
            .map(|(value, values, _, _)| (value, values))
    }

    /// The problem of this component without an objective (see [`Shape`]): what makes two
    /// attack problems the same one.
    fn shape(&self, set: &LinkedSet, threshold: u64) -> Shape {
        Shape {
            cells: self.cells.clone(),
            bounds: self
                .cells
                .iter()
                .map(|&c| bounds_of(set, c, threshold))
                .collect(),
            rows: self
                .rels
                .iter()
                .map(|&r| {
                    let (terms, constant) = self.row(set, r);
                    (terms, set.relations[r].kind, -constant)
                })
                .collect(),
        }
    }

    /// Relation `r` over the component: one term per cell of the component (by position,
    /// coefficients of a cell named twice added: microlp refuses a row that names a
    /// variable twice), and the constant the known cells add.
    fn row(&self, set: &LinkedSet, r: usize) -> (Vec<(usize, f64)>, f64) {
        let rel = &set.relations[r];
        let mut terms: Vec<(usize, f64)> = Vec::with_capacity(rel.terms.len());
        let mut constant = 0.0;
        for &(c, coef) in &rel.terms {
            match (self.find(c), set.cells[c].value) {
                (Some(k), _) => terms.push((k, coef as f64)),
                (None, Value::Known(n)) => constant += coef as f64 * n as f64,
                // Hidden cells outside the component cannot be: the component follows
                // every relation of its cells.
                (None, _) => unreachable!("hidden cell outside its component"),
            }
        }
        terms.sort_unstable_by_key(|&(k, _)| k);
        terms.dedup_by(|next, kept| {
            let same = next.0 == kept.0;
            if same {
                kept.1 += next.1;
            }
            same
        });
        (terms, constant)
    }

    /// [`Component::solve`] of the problem `shape` (this component's), also returning the
    /// solved problem and its variables.
    fn solve_shape(
        &self,
        shape: &Shape,
        objective: &[(usize, f64)],
        maximise: bool,
        integer: bool,
    ) -> Result<(f64, Vec<f64>, microlp::Solution, Vec<microlp::Variable>), String> {
        let direction = if maximise {
            OptimizationDirection::Maximize
        } else {
            OptimizationDirection::Minimize
        };
        let mut problem = Problem::new(direction);
        let mut weight = vec![0.0; self.cells.len()];
        for &(c, k) in objective {
            weight[self.at(c)] += k;
        }
        let var: Vec<microlp::Variable> = shape
            .bounds
            .iter()
            .zip(&weight)
            .map(|(&(lo, hi), &w)| {
                // Finite bounds on every cell (wave2-notes §5): an unbounded LP has no range.
                if integer {
                    // microlp's integer bounds are i32; counts of persons are far below
                    // (an `x` is bounded by `COUNT_BOUND`), but never wrap.
                    let whole = |v: i64| v.clamp(0, i32::MAX as i64) as i32;
                    problem.add_integer_var(w, (whole(lo), whole(hi)))
                } else {
                    problem.add_var(w, (lo as f64, hi as f64))
                }
            })
            .collect();
        for (terms, kind, rhs) in &shape.rows {
            let op = match kind {
                Kind::Equal => ComparisonOp::Eq,
                Kind::AtMost => ComparisonOp::Le,
            };
            problem.add_constraint(terms.iter().map(|&(k, coef)| (var[k], coef)), op, *rhs);
        }
        let t0 = std::time::Instant::now();
        let solution = problem.solve().map_err(|e| e.to_string()).and_then(|o| {
            o.into_solution()
                .map_err(|_| "the LP solve was interrupted".to_string())
        });
        trace::SOLVES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        trace::SOLVE_MICROS.fetch_add(
            t0.elapsed().as_micros() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        trace::VARS.fetch_add(
            self.cells.len() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        let solution = solution?;
        let values: Vec<f64> = var.iter().map(|&v| solution.var_value(v)).collect();
        Ok((solution.objective(), values, solution, var))
    }

    /// `values` as whole numbers when they are whole and fit every relation and bound
    /// exactly (checked in integers, not trusted from the solver).
    fn verify(&self, set: &LinkedSet, threshold: u64, values: &[f64]) -> Option<Vec<i64>> {
        let whole: Vec<i64> = values
            .iter()
            .map(|&v| ((v - v.round()).abs() < 1e-6).then_some(v.round() as i64))
            .collect::<Option<_>>()?;
        self.fits(set, threshold, &whole).then_some(whole)
    }

    /// Whether `whole` (a count per cell of the component) fits every bound and relation,
    /// the cells outside the component as published.
    fn fits(&self, set: &LinkedSet, threshold: u64, whole: &[i64]) -> bool {
        for (k, &c) in self.cells.iter().enumerate() {
            let (lo, hi) = bounds_of(set, c, threshold);
            if whole[k] < lo || whole[k] > hi {
                return false;
            }
        }
        for &r in &self.rels {
            let rel = &set.relations[r];
            let mut sum = 0i64;
            for &(c, coef) in &rel.terms {
                sum += coef
                    * match (self.find(c), set.cells[c].value) {
                        (Some(k), _) => whole[k],
                        (None, Value::Known(n)) => n as i64,
                        (None, _) => return false,
                    };
            }
            let ok = match rel.kind {
                Kind::Equal => sum == 0,
                Kind::AtMost => sum <= 0,
            };
            if !ok {
                return false;
            }
        }
        true
    }
}

/// Whether a whole value `v` of a cell marked `value` reaches what [`Component::seed`]
/// seeks for it, and what [`protected`] asks of a `<t` cell: a `<t` cell at 1 (`maximise`
/// false) or at t − 1, an `x` at t or more (a witness that it need not be small).
fn goal_reached(value: Value, maximise: bool, v: i64, threshold: u64) -> bool {
    let t = threshold as i64;
    match (value, maximise) {
        (Value::Secondary, _) => v >= t,
        (_, true) => v + 1 >= t,
        (_, false) => v <= 1,
    }
}

/// What a cell's mark says: its lowest and highest whole value.
fn bounds_of(set: &LinkedSet, c: usize, _threshold: u64) -> (i64, i64) {
    match set.cells[c].value {
        Value::Below(t) => (1, t as i64 - 1),
        Value::Secondary => (0, set.upper_bound as i64),
        Value::Known(n) => (n as i64, n as i64),
    }
}

/// Reads the published tables of an output folder (`tables/published/*.csv`).
pub fn read_published(out: &Path) -> Result<HashMap<String, Table>, String> {
    let dir = out.join("tables").join("published");
    if !dir.is_dir() {
        return Err(format!(
            "{}: no published tables here (is it the output folder of `hcount run`?)",
            dir.display()
        ));
    }
    let mut tables = HashMap::new();
    for spec in PUBLISHED {
        let path = dir.join(format!("{}.csv", spec.name));
        if !path.exists() {
            continue;
        }
        tables.insert(spec.name.to_string(), Table::read_csv(&path)?);
    }
    Ok(tables)
}

/// Audits the published tables of an output folder.
pub fn audit_folder(out: &Path, min_cell: u64) -> Result<Audit, String> {
    audit_folder_with(out, min_cell, None)
}

/// [`audit_folder`], sparing solves with what the suppression that wrote the folder found
/// (`hcount run`'s own audit; the answer is the same, see [`Witnessed`]).
pub fn audit_folder_with(
    out: &Path,
    min_cell: u64,
    witnessed: Option<&Witnessed>,
) -> Result<Audit, String> {
    let tables = read_published(out)?;
    let set = LinkedSet::build(&tables)?;
    let a = audit_with(&set, min_cell, witnessed);
    trace::report("audit");
    Ok(a)
}

/// Hidden cells per table: (table, primary, secondary), for the report.
pub fn per_table(set: &LinkedSet) -> BTreeMap<&'static str, (usize, usize)> {
    let mut out = BTreeMap::new();
    for cell in &set.cells {
        let e = out.entry(PUBLISHED[cell.table].name).or_insert((0, 0));
        match cell.value {
            Value::Below(_) => e.0 += 1,
            Value::Secondary => e.1 += 1,
            Value::Known(_) => {}
        }
    }
    out
}
