//! Primary and secondary cell suppression over the linked set of published tables.
//!
//! **Primary:** every count from 1 to t − 1 (`--min-cell`) is hidden as `<t`.
//!
//! **Secondary** (the method: sequential greedy suppression checked by an LP audit, as in
//! the "audit and extend" loop of Cox, "Network models for complementary cell suppression",
//! JASA 1995, and of τ-ARGUS's modular method, which protects one primary cell after the
//! other with the cheapest complementary cells): the primary cells are taken in a fixed
//! order (the order of [`super::PUBLISHED`], then rows as the queries sort them). For each,
//! the attacker of [`super::audit`] computes its range; while the range is narrower than
//! `<t` says, one more cell is hidden, and the attack is repeated. Adding a hidden cell only
//! widens every other cell's range (its true value stays feasible), so a cell once protected
//! stays protected, and one pass suffices.
//!
//! The steps, in order: the row/column rule without a solver (`close_singletons`); the
//! first pass above, which leaves to the second a cell no hiding can protect
//! (`hopeless`) and shows a cell as `x` when protecting it takes more than `BUDGET`
//! hidden cells; the second pass, which turns a narrowed `<t` into `x` and frees an `x`
//! the attacker proves small (`widening_cell`, `known_around`, `joint_cells`).
//! docs/DECISIONS.md ("Publishing safely") has the figures that led to each step.
//!
//! Which cell is hidden next (deterministic; ties broken in this order):
//! 1. the relation: one that holds exactly one hidden cell of the attacked cell's component
//!    (that cell is then known exactly) — the attacked cell's own relations first; else the
//!    attacked cell's relation whose most detailed known cell is most detailed, then with
//!    the fewest hidden cells; else any relation of the component chosen the same way;
//!    always the lowest-numbered among equals;
//! 2. the cell of that relation: the most detailed (a municipality's cell before a
//!    municipal or regional total, those before a national figure, the national total
//!    last, see `level`); then the cell that leaves the fewest other relations with a
//!    single hidden cell; then the smallest count (information lost; a published zero may
//!    be hidden, since `x` says nothing about the count); then the lowest cell number.

use super::audit::{WarmStart, component, protected, secondary_protected, seed_witnesses};
use super::{Kind, LinkedSet, Value, is_small};

/// How many cells the first pass hides to protect one `<t` cell before it gives up and
/// shows that cell as `x` instead: past a dozen, hiding goes on through the margins into
/// the national tables (one small municipal cell once cost 421 hidden cells of a synthetic
/// count of 800 persons), which costs readers far more than one more `x`.
const BUDGET: usize = 12;

/// The outcome: the marks to apply, and the primary cells that could not be protected.
/// (No `Debug`: `witnesses` holds the exact table.)
#[derive(Clone, Default)]
pub struct Suppression {
    pub marks: Vec<Option<Value>>,
    pub unprotected: Vec<usize>,
    /// Whole tables (a count per cell of the set) that fit every relation and mark of the
    /// outcome: the exact table first, then the attacker's whole solutions. They spare the
    /// run's own audit its solves (`audit::Witnessed`); never written anywhere.
    pub witnesses: Vec<Vec<i64>>,
}

/// Suppresses `set` (built from the exact tables: every cell [`Value::Known`]).
pub fn suppress(set: &LinkedSet, threshold: u64) -> Suppression {
    suppress_around(set, &set.known_counts(), threshold)
}

/// Suppresses the cells of `set` that are not [`LinkedSet::fixed`] (those hold what was
/// published before, marks included), so that every hidden cell, the fixed ones too, is
/// protected; `exact` holds every cell's count. Fixed cells are never marked: a fixed `<t`
/// or `x` the new cells would give away gets more new cells hidden around it instead.
pub fn suppress_around(set: &LinkedSet, exact: &[u64], threshold: u64) -> Suppression {
    let mut work = set.clone();
    let mut marks = vec![None; set.cells.len()];
    let exact = exact.to_vec();
    let mut primary = Vec::new();
    for (i, &n) in exact.iter().enumerate() {
        if set.fixed[i] {
            if matches!(set.cells[i].value, Value::Below(_)) {
                primary.push(i);
            }
            continue;
        }
        if is_small(n, threshold) {
            marks[i] = Some(Value::Below(threshold));
            work.cells[i].value = Value::Below(threshold);
            primary.push(i);
        }
    }
    let mut unprotected = Vec::new();
    // The row/column rule first, without any solver: an equality with one hidden cell
    // gives that cell away, so most secondary cells are found here, cheaply.
    close_singletons(&mut work, &exact, &mut marks, threshold);
    trace_marks("after the row/column rule", &work);
    // Whole tables that fit every relation and mark: the exact table first; the attacker's
    // solutions are added as they are found, and stay valid as more cells are hidden.
    let mut witnesses: Vec<Vec<i64>> = vec![exact.iter().map(|&n| n as i64).collect()];
    seed_witnesses(&work, threshold, &mut witnesses);
    trace_marks("after the seed solutions", &work);
    // The last attack problem solved, kept for the checks that follow while the hidden
    // cells stay the same (see `WarmStart`).
    let mut warm = WarmStart::default();
    for &cell in &primary {
        if protected(&work, cell, threshold, &mut witnesses, &mut warm) {
            continue;
        }
        protect_one(
            &mut work,
            &mut marks,
            &mut witnesses,
            &mut warm,
            &mut unprotected,
            &exact,
            cell,
            threshold,
        );
    }
    // Second pass, for counts so small that hiding more cannot help (every cell around a
    // small one hidden, and the sums of small cells still say "at least 2"): a `<t` cell
    // the attacker still narrows is shown as `x` instead, which says nothing; and an `x`
    // the attacker can prove small must keep the range `<t` would, else the `<t` cells
    // that bound it become `x` too. Each step only loosens what is published, so earlier
    // cells stay protected and the loop ends (at worst with every small cell `x`).
    trace_marks("after the first pass", &work);
    if !unprotected.is_empty() || marks.contains(&Some(Value::Secondary)) {
        let mut rounds = 0;
        loop {
            // Only the last round's list counts: later rounds may protect earlier failures.
            unprotected.clear();
            // Solutions with every x as high as it goes settle most x cells at once.
            seed_witnesses(&work, threshold, &mut witnesses);
            let mut changed = false;
            for c in 0..work.cells.len() {
                let exposed = match work.cells[c].value {
                    Value::Below(_)
                        if !protected(&work, c, threshold, &mut witnesses, &mut warm) =>
                    {
                        if !work.fixed[c] {
                            marks[c] = Some(Value::Secondary);
                            work.cells[c].value = Value::Secondary;
                            changed = true;
                            false
                        } else {
                            true
                        }
                    }
                    Value::Secondary => !secondary_protected(&work, c, threshold, &mut witnesses),
                    _ => false,
                };
                if exposed {
                    let bounding: Vec<usize> = work.relations_of[c]
                        .iter()
                        .flat_map(|&r| work.relations[r].terms.iter().map(|&(d, _)| d))
                        .filter(|&d| {
                            d != c
                                && !work.fixed[d]
                                && matches!(work.cells[d].value, Value::Below(_))
                        })
                        .collect();
                    for d in &bounding {
                        marks[*d] = Some(Value::Secondary);
                        work.cells[*d].value = Value::Secondary;
                    }
                    if !bounding.is_empty() {
                        changed = true;
                    } else if let Some(d) = widening_cell(&work, &exact, c, threshold) {
                        // Bounded by known figures only: hide the one that frees it most.
                        marks[d] = Some(Value::Secondary);
                        work.cells[d].value = Value::Secondary;
                        changed = true;
                    } else if let Some(around) = known_around(&work, c) {
                        // No one cell frees it alone: every known cell of its relations
                        // (one strong step rather than a blind search, cell by cell).
                        for d in around {
                            marks[d] = Some(Value::Secondary);
                            work.cells[d].value = Value::Secondary;
                        }
                        changed = true;
                    } else if let Some(set) = joint_cells(&work, c, threshold) {
                        // Its relations all hidden: the bound comes from further off,
                        // often along two paths at once, so no one cell frees it.
                        for d in set {
                            marks[d] = Some(Value::Secondary);
                            work.cells[d].value = Value::Secondary;
                        }
                        changed = true;
                    } else if !unprotected.contains(&c) {
                        unprotected.push(c);
                    }
                }
            }
            rounds += 1;
            trace_marks(&format!("second pass, round {rounds}"), &work);
            if !changed {
                break;
            }
        }
    }
    trace_marks("after the second pass", &work);
    Suppression {
        marks,
        unprotected,
        witnesses,
    }
}

/// The first pass for one primary `cell` that the attacker narrows in `work`: hides one
/// cell after another (`next_cell`) until it is protected; past `BUDGET` hidden cells, or
/// when no cell is left to hide, it undoes and shows the cell as `x`, or leaves it to the
/// second pass. A cell that no hiding can protect (`hopeless`) is left to the second pass
/// with nothing hidden for it.
///
/// Whether the cell is hopeless is asked after the first cell hidden for it, not before:
/// that one cell protects most cells of a national count, and a cell that hiding protects
/// was not hopeless (a hopeless cell is never protected by hiding: every set that hiding
/// reaches hides at most what `hopeless` hides), so the question, two solves of the
/// largest problem, is spared; a hopeless cell gets its one hidden cell back. The outcome
/// is the one of asking first. (Asking only after the whole budget was spent cost sparse
/// counts, where many cells are hopeless, a dozen solves for each instead.)
fn protect_one(
    work: &mut LinkedSet,
    marks: &mut Vec<Option<Value>>,
    witnesses: &mut Vec<Vec<i64>>,
    warm: &mut WarmStart,
    unprotected: &mut Vec<usize>,
    exact: &[u64],
    cell: usize,
    threshold: u64,
) {
    let saved = (work.clone(), marks.clone(), witnesses.len());
    let mut hidden_for_it = 0;
    loop {
        // A fixed cell cannot become `x`: only hiding more new cells can protect it
        // (there are few of them: the linkage tables of one year).
        let too_dear = hidden_for_it == BUDGET && !work.fixed[cell];
        let next = if too_dear {
            None
        } else {
            next_cell(work, exact, cell)
        };
        let Some(c) = next else {
            // No cell left to hide, or too dear: left to the second pass. (With nothing
            // hidden yet, `hopeless` is not asked: either answer leads here.)
            if too_dear {
                // Too dear: undo, and show the cell itself as `x` (which says nothing, so
                // it needs far less around it); the second pass checks it like every `x`.
                (*work, *marks) = (saved.0, saved.1);
                witnesses.truncate(saved.2);
                marks[cell] = Some(Value::Secondary);
                work.cells[cell].value = Value::Secondary;
                close_singletons(work, exact, marks, threshold);
            }
            unprotected.push(cell);
            return;
        };
        marks[c] = Some(Value::Secondary);
        work.cells[c].value = Value::Secondary;
        close_singletons(work, exact, marks, threshold);
        hidden_for_it += 1;
        if protected(work, cell, threshold, witnesses, warm) {
            return;
        }
        if hidden_for_it == 1 && hopeless(&saved.0, cell, threshold) {
            // Left to the second pass, which shows it (or the cells bounding it) as `x`;
            // hiding cells for it would only hide figures for nothing.
            (*work, *marks) = (saved.0, saved.1);
            witnesses.truncate(saved.2);
            unprotected.push(cell);
            return;
        }
    }
}

/// With HCOUNT_TRACE set, the hidden cells per table at a step (a profiling aid).
fn trace_marks(step: &str, set: &LinkedSet) {
    if std::env::var_os("HCOUNT_TRACE").is_none() {
        return;
    }
    let per = super::audit::per_table(set);
    let text: Vec<String> = per
        .iter()
        .filter(|(_, (p, x))| p + x > 0)
        .map(|(t, (p, x))| format!("{t} {p}/{x}"))
        .collect();
    eprintln!(
        "hcount: suppression {step}: <t/x {} ({} LP solves so far)",
        text.join(", "),
        super::audit::trace::SOLVES.load(std::sync::atomic::Ordering::Relaxed)
    );
}

/// Hides cells until no equality holds exactly one hidden cell the attacker must not learn:
/// a `<t` cell, or an `x` whose count is 1 to t − 1 (a lone `x` of 0 or of t and more may be
/// known). What it hides the solver would ask for anyway, one solve at a time.
fn close_singletons(
    work: &mut LinkedSet,
    exact: &[u64],
    marks: &mut [Option<Value>],
    threshold: u64,
) {
    loop {
        let mut changed = false;
        for r in 0..work.relations.len() {
            if work.relations[r].kind != Kind::Equal {
                continue;
            }
            let mut hidden = work.relations[r]
                .terms
                .iter()
                .map(|&(c, _)| c)
                .filter(|&c| is_hidden(work, c));
            let (Some(c), None) = (hidden.next(), hidden.next()) else {
                continue;
            };
            let must_hide = match work.cells[c].value {
                Value::Below(_) => true,
                Value::Secondary => is_small(exact[c], threshold),
                Value::Known(_) => false,
            };
            if let Some(d) = must_hide.then(|| pick(work, exact, r)).flatten() {
                marks[d] = Some(Value::Secondary);
                work.cells[d].value = Value::Secondary;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

/// Whether no hiding can protect `cell`: with every known cell of its component hidden too,
/// the attacker still narrows it (hiding only widens ranges, so fewer hidden cells cannot
/// do better). Typically a national count of 2 to 4 made of two or more municipal `<t`
/// cells: each says "at least 1", so their sum says "at least 2", whatever else is hidden.
fn hopeless(work: &LinkedSet, cell: usize, threshold: u64) -> bool {
    let (cells, _) = component(work, cell);
    let mut all = work.clone();
    let mut frontier = cells;
    // The component grows as its known neighbours are hidden: hide to the fixed point.
    while !frontier.is_empty() {
        let mut next = Vec::new();
        for c in frontier {
            for &r in &all.relations_of[c] {
                for &(d, _) in &all.relations[r].terms {
                    if !is_hidden(&all, d) && !all.fixed[d] {
                        all.cells[d].value = Value::Secondary;
                        next.push(d);
                    }
                }
            }
        }
        frontier = next;
    }
    // No witnesses: those of `work` would do, but ones found here do not hold for `work`.
    !protected(
        &all,
        cell,
        threshold,
        &mut Vec::new(),
        &mut WarmStart::default(),
    )
}

/// For an `x` cell `c` the attacker bounds too tightly through known figures only: of the
/// cells [`pick`] would hide in each of `c`'s relations, the one that brings the attacker's
/// range of `c` closest to what the rule asks (1 to t − 1 at least), the first among
/// equals; None if none brings it closer. Trying each costs a solve, but a blind choice
/// hides cells of relations that do not bound `c` at all (an indicator's upper bound comes
/// from an inequality with its total, not from the sums it is in).
fn widening_cell(work: &LinkedSet, exact: &[u64], c: usize, threshold: u64) -> Option<usize> {
    let base = shortfall(work, c, threshold)?;
    let mut best: Option<(u64, usize)> = None;
    let mut tried = Vec::new();
    for &r in &work.relations_of[c] {
        let Some(d) = pick(work, exact, r) else {
            continue;
        };
        if tried.contains(&d) {
            continue;
        }
        tried.push(d);
        let mut trial = work.clone();
        trial.cells[d].value = Value::Secondary;
        let Some(left) = shortfall(&trial, c, threshold) else {
            continue;
        };
        if left < base && best.is_none_or(|(b, _)| left < b) {
            best = Some((left, d));
        }
        if left == 0 {
            break;
        }
    }
    best.map(|(_, d)| d)
}

/// How many known cells [`joint_cells`] considers at most (the most read ones).
const JOINT_CANDIDATES: usize = 600;

/// How far the attacker's range of `c` is from what the rule asks: 0 when it reaches 1 and
/// t − 1 (or t: then `c` is not proven small).
fn shortfall(set: &LinkedSet, c: usize, threshold: u64) -> Option<u64> {
    let (low, high) = super::audit::range(set, c, threshold).ok()?;
    Some(if high >= threshold {
        0
    } else {
        low.saturating_sub(1) + (threshold - 1).saturating_sub(high)
    })
}

/// For an `x` cell `c` whose relations hold no known cell, yet the attacker bounds it
/// through hidden cells further off (a national count bounded by the total less the other
/// categories, each at least its municipalities' `<5` cells): every known cell of the
/// relations of the hidden cells within one, two, … [`JOINT_DEPTH`] relations of `c`, and
/// the `<t` cells there (as `x`: a `<t` says "at least 1"), hidden together — at the first
/// depth where that brings `c` closer to passing. Then each is given back if `c` does as
/// well without it (a deletion filter: national figures first, `<t` cells last, so what
/// stays hidden is needed and the most read figures come back). None if no depth helps.
fn joint_cells(work: &LinkedSet, c: usize, threshold: u64) -> Option<Vec<usize>> {
    let before = shortfall(work, c, threshold)?;
    let mut reached = vec![c];
    let mut seen = vec![false; work.cells.len()];
    seen[c] = true;
    for _ in 0..JOINT_DEPTH {
        let mut next = Vec::new();
        for &a in &reached {
            for &r in &work.relations_of[a] {
                for &(d, _) in &work.relations[r].terms {
                    if !seen[d] && is_hidden(work, d) {
                        seen[d] = true;
                        next.push(d);
                    }
                }
            }
        }
        if next.is_empty() {
            return None;
        }
        reached.extend(next);
        let mut relations: Vec<usize> = reached
            .iter()
            .flat_map(|&d| work.relations_of[d].iter().copied())
            .collect();
        relations.sort_unstable();
        relations.dedup();
        // Every known cell there, the most read ones first (the filter gives those back
        // first: the national total before a municipality's cell).
        let mut candidates: Vec<usize> = relations
            .iter()
            .flat_map(|&r| work.relations[r].terms.iter().map(|&(d, _)| d))
            .filter(|&d| hidable(work, d))
            .collect();
        candidates.sort_unstable_by_key(|&d| (std::cmp::Reverse(level(work, d)), d));
        candidates.dedup();
        candidates.truncate(JOINT_CANDIDATES);
        for &r in &relations {
            for &(d, _) in &work.relations[r].terms {
                if d != c
                    && !work.fixed[d]
                    && matches!(work.cells[d].value, Value::Below(_))
                    && !candidates.contains(&d)
                {
                    candidates.push(d);
                }
            }
        }
        let mut trial = work.clone();
        for &d in &candidates {
            trial.cells[d].value = Value::Secondary;
        }
        let all = shortfall(&trial, c, threshold);
        let Some(all) = all else {
            continue;
        };
        if all >= before {
            continue;
        }
        // All the known cells back at once first (one solve): often only `<t` cells matter.
        let known: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&d| !is_hidden(work, d))
            .collect();
        let mut without_known = trial.clone();
        for &d in &known {
            without_known.cells[d].value = work.cells[d].value;
        }
        if !known.is_empty() && shortfall(&without_known, c, threshold) == Some(all) {
            trial = without_known;
            candidates.retain(|&d| is_hidden(work, d));
        }
        let mut keep = Vec::new();
        for &d in &candidates {
            trial.cells[d].value = work.cells[d].value;
            if shortfall(&trial, c, threshold) != Some(all) {
                trial.cells[d].value = Value::Secondary;
                keep.push(d);
            }
        }
        return Some(keep);
    }
    None
}

/// How many relations away from an `x` [`joint_cells`] looks at most.
const JOINT_DEPTH: usize = 4;

/// The known cells of `c`'s relations, if any.
fn known_around(work: &LinkedSet, c: usize) -> Option<Vec<usize>> {
    let mut out: Vec<usize> = work.relations_of[c]
        .iter()
        .flat_map(|&r| work.relations[r].terms.iter().map(|&(d, _)| d))
        .filter(|&d| hidable(work, d))
        .collect();
    out.sort_unstable();
    out.dedup();
    (!out.is_empty()).then_some(out)
}

/// How many cells of relation `r` are hidden.
fn hidden_count(set: &LinkedSet, r: usize) -> usize {
    set.relations[r]
        .terms
        .iter()
        .filter(|&&(c, _)| is_hidden(set, c))
        .count()
}

fn is_hidden(set: &LinkedSet, c: usize) -> bool {
    !matches!(set.cells[c].value, Value::Known(_))
}

/// Whether known cell `c` may be hidden: not when it was published before
/// ([`LinkedSet::fixed`]).
fn hidable(set: &LinkedSet, c: usize) -> bool {
    !is_hidden(set, c) && !set.fixed[c]
}

/// The next cell to hide to protect `cell` (see the module documentation).
fn next_cell(set: &LinkedSet, exact: &[u64], cell: usize) -> Option<usize> {
    let (_, rels) = component(set, cell);
    let hidden_in = |r: usize| hidden_count(set, r);
    let candidates = |r: usize| -> Vec<usize> {
        set.relations[r]
            .terms
            .iter()
            .map(|&(c, _)| c)
            .filter(|&c| hidable(set, c))
            .collect()
    };
    let own = |r: usize| set.relations_of[cell].contains(&r);
    // Only equalities disclose a cell exactly; bounds narrow, and are left to the fallbacks.
    let equalities: Vec<usize> = rels
        .iter()
        .copied()
        .filter(|&r| set.relations[r].kind == Kind::Equal && !candidates(r).is_empty())
        .collect();
    let singleton = equalities
        .iter()
        .copied()
        .filter(|&r| hidden_in(r) == 1)
        .min_by_key(|&r| (!own(r), r));
    // The most detailed cell a relation could give up: a relation of detail cells is
    // preferred to one of national figures.
    let cheapest = |r: usize| {
        candidates(r)
            .into_iter()
            .map(|c| level(set, c))
            .min()
            .unwrap_or(u8::MAX)
    };
    let relation = singleton
        .or_else(|| {
            equalities
                .iter()
                .copied()
                .filter(|&r| own(r))
                .min_by_key(|&r| (cheapest(r), hidden_in(r), r))
        })
        .or_else(|| {
            equalities
                .iter()
                .copied()
                .min_by_key(|&r| (cheapest(r), hidden_in(r), r))
        })
        .or_else(|| {
            rels.iter()
                .copied()
                .filter(|&r| !candidates(r).is_empty())
                .min_by_key(|&r| (cheapest(r), hidden_in(r), r))
        })?;
    pick(set, exact, relation)
}

/// The known cell of `relation` to hide next (rule 2 of the module documentation).
fn pick(set: &LinkedSet, exact: &[u64], relation: usize) -> Option<usize> {
    let hidden_in = |r: usize| hidden_count(set, r);
    // Relations (other than `relation`) in which hiding `c` would leave `c` the only hidden cell.
    let new_singletons = |c: usize| {
        set.relations_of[c]
            .iter()
            .filter(|&&r| {
                r != relation && set.relations[r].kind == Kind::Equal && hidden_in(r) == 0
            })
            .count()
    };
    set.relations[relation]
        .terms
        .iter()
        .map(|&(c, _)| c)
        .filter(|&c| hidable(set, c))
        .min_by_key(|&c| (level(set, c), new_singletons(c), exact[c], c))
}

/// How much a reader loses when cell `c` is hidden, as a rank: a municipality's category
/// or indicator first, then a municipal total or a region's breakdown, then a region's
/// total, then the national figures, the national total last of all. Hiding detail keeps
/// the figures most readers look for (the national and regional ones) published.
fn level(set: &LinkedSet, c: usize) -> u8 {
    if Some(c) == set.grand_total {
        return 4;
    }
    match super::PUBLISHED[set.cells[c].table].name {
        "municipal_by_category" | "municipal_indicators" | "linkage_by_municipality" => 0,
        "transitions" => 1,
        "municipal_totals" | "region_by_sex" | "region_by_age_group" => 1,
        "region_totals" => 2,
        _ => 3,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::super::audit::audit;
    use super::super::{LinkedSet, published_table};
    use super::*;
    use crate::count::tables::Table;

    /// A 2 × 3 municipality × category table with its margins (two municipalities of the
    /// capital region; the region total and the national total).
    fn tables(cells: &[[u64; 3]; 2]) -> HashMap<String, Table> {
        let cats = ["rough_sleeping", "shelter", "other"];
        let munis = ["101", "147"];
        let mut by_cat = Vec::new();
        let mut totals = Vec::new();
        for (m, row) in munis.iter().zip(cells) {
            for (c, n) in cats.iter().zip(row) {
                if *n > 0 {
                    by_cat.push(vec![
                        m.to_string(),
                        "x".into(),
                        c.to_string(),
                        n.to_string(),
                    ]);
                }
            }
            totals.push(vec![
                m.to_string(),
                "x".into(),
                row.iter().sum::<u64>().to_string(),
            ]);
        }
        let mut national: Vec<Vec<String>> = cats
            .iter()
            .enumerate()
            .map(|(i, c)| vec![c.to_string(), (cells[0][i] + cells[1][i]).to_string()])
            .collect();
        let total: u64 = cells.iter().flatten().sum();
        national.push(vec!["total".into(), total.to_string()]);
        let t = |h: &[&str], rows: Vec<Vec<String>>| Table {
            header: h.iter().map(|s| s.to_string()).collect(),
            rows,
        };
        HashMap::from([
            (
                "municipal_by_category".to_string(),
                t(
                    &["municipality", "municipality_name", "situation", "persons"],
                    by_cat,
                ),
            ),
            (
                "municipal_totals".to_string(),
                t(&["municipality", "municipality_name", "persons"], totals),
            ),
            (
                "national_by_category".to_string(),
                t(&["situation", "persons"], national),
            ),
            (
                "region_totals".to_string(),
                t(
                    &["region", "persons"],
                    vec![vec!["Region Hovedstaden".into(), total.to_string()]],
                ),
            ),
        ])
    }

    /// The published `persons` column of municipal_by_category, row by row.
    fn published(cells: &[[u64; 3]; 2]) -> (Vec<String>, Suppression, LinkedSet) {
        let tables = tables(cells);
        let set = LinkedSet::build(&tables).unwrap();
        let s = suppress(&set, 5);
        let marked = set.with_marks(&s.marks);
        let t = published_table(
            &marked,
            &tables["municipal_by_category"],
            "municipal_by_category",
        );
        (
            t.column("persons").iter().map(|s| s.to_string()).collect(),
            s,
            marked,
        )
    }

    #[test]
    fn nothing_small_nothing_hidden() {
        let (col, s, set) = published(&[[10, 20, 30], [40, 50, 60]]);
        assert_eq!(col, ["10", "20", "30", "40", "50", "60"]);
        assert!(s.unprotected.is_empty());
        assert!(audit(&set, 5).passed());
    }

    #[test]
    fn one_small_cell_takes_a_rectangle() {
        // 2 in (101, rough_sleeping): its row and column each need a second hidden cell,
        // and these must close a rectangle: the cheapest is 101/shelter, 147/rough, 147/shelter.
        let (col, s, set) = published(&[[2, 20, 30], [40, 50, 60]]);
        assert_eq!(col, ["<5", "x", "30", "x", "x", "60"]);
        assert!(s.unprotected.is_empty());
        let a = audit(&set, 5);
        assert!(a.passed(), "{}", a.text(true));
        assert_eq!((a.primary, a.secondary), (1, 3));
    }

    /// The protected set of `[[3, 9, 70], [8, 12, 80]]` with 147/shelter (12) shown again:
    /// the corner that closes the primary's cycle.
    fn fourth_corner_shown(set: &LinkedSet) -> LinkedSet {
        let mut weak = set.clone();
        weak.cells
            .iter_mut()
            .filter(|c| c.key == ["147", "shelter"] && c.table == 3)
            .for_each(|c| c.value = Value::Known(12));
        weak
    }

    #[test]
    fn one_secondary_cell_is_not_enough() {
        // With one secondary cell in the row (101/shelter), the primary is still the
        // difference of its column's total and the published 147/rough_sleeping: the
        // column needs its own secondary cell, and then the fourth corner closes the cycle.
        let (col, _, set) = published(&[[3, 9, 70], [8, 12, 80]]);
        assert_eq!(col, ["<5", "x", "70", "x", "x", "80"]);
        let a = audit(&set, 5);
        assert!(a.passed(), "{}", a.text(true));
        // Undoing the fourth corner leaves the primary recoverable: the attacker finds it.
        let weak = fourth_corner_shown(&set);
        assert!(!audit(&weak, 5).passed());
    }

    #[test]
    fn small_partners_are_not_enough_room() {
        // Two primaries in one row: each is the other's complement, but a partner of
        // range 1..4 cannot move a 1 to 4 when the column is pinned; the audit forces more.
        let (col, s, set) = published(&[[1, 1, 50], [30, 40, 60]]);
        assert!(s.unprotected.is_empty());
        let a = audit(&set, 5);
        assert!(a.passed(), "{}", a.text(true));
        assert_eq!(&col[..2], ["<5", "<5"]);
        assert!(col[3..5].iter().all(|c| c == "x"), "{col:?}");
    }

    #[test]
    fn the_suppressions_witnesses_change_nothing_in_the_audit() {
        use super::super::audit::{Witnessed, audit_with};
        for cells in [
            [[2, 20, 30], [40, 50, 60]],
            [[3, 9, 70], [8, 12, 80]],
            [[1, 1, 50], [30, 40, 60]],
            [[2, 6, 1], [4, 7, 9]],
        ] {
            let tables = tables(&cells);
            let exact = LinkedSet::build(&tables).unwrap();
            let s = suppress(&exact, 5);
            let marked = exact.with_marks(&s.marks);
            // The audit's set is built anew from the published tables, as from the files;
            // the witnesses (the exact table among them) are matched by table and key.
            let published: HashMap<String, Table> = tables
                .iter()
                .map(|(name, t)| (name.clone(), published_table(&marked, t, name)))
                .collect();
            let attacked = LinkedSet::build(&published).unwrap();
            assert!(s.witnesses.len() > 1, "{cells:?}");
            let witnessed = Witnessed::new(&exact, s.witnesses.clone());
            assert_eq!(witnessed.over(&attacked), s.witnesses, "{cells:?}");
            let without = audit(&attacked, 5);
            let with = audit_with(&attacked, 5, Some(&witnessed));
            assert_eq!(with.ranges, without.ranges, "{cells:?}");
            assert_eq!(with.text(true), without.text(true), "{cells:?}");
        }
    }

    #[test]
    fn a_witness_that_does_not_fit_is_not_believed() {
        use super::super::audit::{Witnessed, audit_with};
        let cells = [[3, 9, 70], [8, 12, 80]];
        let (_, _, set) = published(&cells);
        // The fourth corner shown: the attacker recovers the primary (3).
        let weak = fourth_corner_shown(&set);
        assert!(!audit(&weak, 5).passed());
        // Tables that put the primary at 1 and at 4 as if that were possible (the exact
        // counts with only that cell changed, so its row and column no longer add up).
        let exact = LinkedSet::build(&tables(&cells)).unwrap().known_counts();
        let primary = weak
            .cells
            .iter()
            .position(|c| matches!(c.value, Value::Below(_)))
            .unwrap();
        let lying: Vec<Vec<i64>> = [1, 4]
            .iter()
            .map(|&v| {
                let mut t: Vec<i64> = exact.iter().map(|&n| n as i64).collect();
                t[primary] = v;
                t
            })
            .collect();
        let a = audit_with(&weak, 5, Some(&Witnessed::new(&weak, lying)));
        assert!(!a.passed(), "{}", a.text(true));
        assert_eq!(a.text(true), audit(&weak, 5).text(true));
    }

    /// `protected` from a solution kept from the checks before (`WarmStart`) answers as
    /// the full solve does (`audit::range`), for protected and narrowed cells alike: only
    /// the small cells hidden (most of them narrowed), and the suppression's marks.
    #[test]
    fn a_kept_solution_answers_as_a_fresh_solve() {
        use super::super::audit::{WarmStart, range, trace::WARM_CHECKS};
        use std::sync::atomic::Ordering::Relaxed;
        let warm_before = WARM_CHECKS.load(Relaxed);
        let (mut checked, mut narrowed) = (0, 0);
        for cells in [
            [[1, 20, 30], [40, 2, 60]],
            [[3, 4, 30], [40, 50, 1]],
            [[1, 2, 3], [4, 1, 2]],
            [[10, 1, 30], [40, 50, 60]],
            [[2, 9, 9], [9, 2, 9]],
            [[3, 9, 70], [8, 12, 80]],
        ] {
            let set = LinkedSet::build(&tables(&cells)).unwrap();
            let small: Vec<Option<Value>> = set
                .known_counts()
                .iter()
                .map(|&n| is_small(n, 5).then_some(Value::Below(5)))
                .collect();
            for marks in [small, suppress(&set, 5).marks] {
                let marked = set.with_marks(&marks);
                let mut warm = WarmStart::default();
                for c in 0..marked.cells.len() {
                    if !matches!(marked.cells[c].value, Value::Below(_)) {
                        continue;
                    }
                    let (low, high) = range(&marked, c, 5).unwrap();
                    let fresh = low <= 1 && high + 1 >= 5;
                    // No witnesses: every answer comes from a solve or the kept solution.
                    let kept = protected(&marked, c, 5, &mut Vec::new(), &mut warm);
                    assert_eq!(kept, fresh, "{cells:?} cell {c}: {low}..{high}");
                    checked += 1;
                    narrowed += usize::from(!fresh);
                }
            }
        }
        assert!(
            narrowed > 0 && narrowed < checked,
            "{narrowed} of {checked}"
        );
        assert!(WARM_CHECKS.load(Relaxed) > warm_before);
    }

    #[test]
    fn deterministic() {
        let cells = [[2, 6, 1], [4, 7, 9]];
        assert_eq!(published(&cells).0, published(&cells).0);
    }

    #[test]
    fn marks_parse() {
        let t = Table::of(
            &["situation", "persons"],
            &[&["total", "<5"], &["shelter", "7"]],
        );
        let set = LinkedSet::build(&HashMap::from([("national_by_category".into(), t)])).unwrap();
        assert_eq!(set.cells[0].value, Value::Below(5));
        assert_eq!(set.cells[1].value, Value::Known(7));
    }
}
