//! The autotuner's search, apart from any device: which candidates are timed and in which
//! order, how many samples each gets, when the search stops, and which candidate wins.
//! `gpu/tune.rs` runs it against the device through a [`Probe`]; the unit tests below run it
//! against fake timings, so every rule here is tested without a clock.
//!
//! The rules:
//! - the static choice is timed first (it runs anyway when nothing beats it), then the other
//!   candidates in the caller's order (best first, so a budget that runs out drops the least
//!   promising);
//! - every candidate gets an untimed warm-up (pipeline compilation) and at least
//!   [`Limits::samples`] timed samples; its time is the fastest sample (noise only adds);
//!   short runs are timed in batches of [`Limits::batch`] so that the round trip to the device
//!   does not dominate;
//! - a candidate that fails (warm-up or timing) is skipped and reported, never the caller's
//!   error;
//! - one run of [`Limits::giant`] seconds or more ends the search after that candidate (a huge
//!   product on a slow device: trying the others costs too much);
//! - once the wall-time budget is spent no further candidate starts; the search is then
//!   partial, and its choice is not persisted;
//! - a challenger must beat the static choice by [`Limits::margin`], so a noisy class keeps
//!   the static choice instead of flipping between runs.

/// The knobs of one search.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Limits {
    /// Timed samples per candidate (at least 1); its time is the fastest.
    pub samples: usize,
    /// Runs per sample when one run is shorter than [`Limits::short`] seconds.
    pub batch: usize,
    /// Seconds under which a run is timed in batches.
    pub short: f64,
    /// Seconds of one run from which no further candidate is tried.
    pub giant: f64,
    /// The fraction by which a challenger must beat the static choice.
    pub margin: f64,
}

impl Limits {
    /// The limits the autotuner uses.
    pub(crate) const DEFAULT: Limits = Limits {
        samples: 3,
        batch: 3,
        short: 2e-3,
        giant: 0.5,
        margin: 0.05,
    };
}

/// What the search needs from the world. Errors are messages: a failing candidate is skipped.
pub(crate) trait Probe {
    /// Runs candidate `i` once, untimed (compiles its pipelines).
    fn warm_up(&mut self, i: usize) -> Result<(), String>;
    /// Seconds that `runs` back-to-back runs of candidate `i` take.
    fn time(&mut self, i: usize, runs: usize) -> Result<f64, String>;
    /// Whether the wall-time budget for tuning is spent.
    fn out_of_time(&self) -> bool;
}

/// Why a search stopped before the end of its list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cut {
    /// The wall-time budget ran out: the choice is among the candidates timed so far.
    Budget,
    /// One run took [`Limits::giant`] or longer.
    Giant,
}

/// What a search found.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Outcome {
    /// The candidate chosen.
    pub winner: usize,
    /// Each timed candidate's best seconds per run, in the order timed.
    pub timings: Vec<(usize, f64)>,
    /// Candidates that failed, with the message.
    pub skipped: Vec<(usize, String)>,
    /// Why the search stopped early, if it did.
    pub cut: Option<Cut>,
}

/// The order candidates are timed in: `fallback` (the static choice) first, then the rest in
/// their given order.
pub(crate) fn order(count: usize, fallback: usize) -> Vec<usize> {
    let rest = (0..count).filter(|&i| i != fallback);
    std::iter::once(fallback)
        .filter(|&f| f < count)
        .chain(rest)
        .collect()
}

/// Times the candidates `0..count` through `probe` and picks one; `fallback` is the static
/// choice.
pub(crate) fn search(
    count: usize,
    fallback: usize,
    limits: &Limits,
    probe: &mut impl Probe,
) -> Outcome {
    let mut out = Outcome {
        winner: fallback,
        timings: Vec::new(),
        skipped: Vec::new(),
        cut: None,
    };
    for (n, i) in order(count, fallback).into_iter().enumerate() {
        if n > 0 && probe.out_of_time() {
            out.cut = Some(Cut::Budget);
            break;
        }
        match time_candidate(i, limits, probe) {
            Ok((seconds, giant)) => {
                out.timings.push((i, seconds));
                if giant {
                    out.cut = Some(Cut::Giant);
                    break;
                }
            }
            Err(message) => out.skipped.push((i, message)),
        }
    }
    out.winner = winner(&out.timings, fallback, limits.margin);
    out
}

/// Candidate `i`'s best seconds per run, and whether one run was giant.
fn time_candidate(
    i: usize,
    limits: &Limits,
    probe: &mut impl Probe,
) -> Result<(f64, bool), String> {
    probe.warm_up(i)?;
    let first = probe.time(i, 1)?;
    if first >= limits.giant {
        return Ok((first, true));
    }
    let batch = if first < limits.short {
        limits.batch.max(1)
    } else {
        1
    };
    // With batches, the single first run (which pays a whole round trip) is one sample more.
    let more = if batch > 1 {
        limits.samples
    } else {
        limits.samples.saturating_sub(1)
    };
    let mut best = first;
    for _ in 0..more {
        best = best.min(probe.time(i, batch)? / batch as f64);
    }
    Ok((best, false))
}

/// The fastest timed candidate, unless it beats the static choice (when that was timed) by
/// less than `margin`; the static choice when nothing was timed.
fn winner(timings: &[(usize, f64)], fallback: usize, margin: f64) -> usize {
    let Some(&(best, t_best)) = timings.iter().min_by(|a, b| a.1.total_cmp(&b.1)) else {
        return fallback;
    };
    match timings.iter().find(|t| t.0 == fallback) {
        Some(&(_, t_static)) if t_best > t_static * (1.0 - margin) => fallback,
        _ => best,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fake timings: seconds per run for each candidate (`None`: it fails), a wall clock that
    /// advances by what is "run", and the calls made.
    struct Fake {
        per_run: Vec<Option<f64>>,
        compile: f64,
        clock: f64,
        budget: f64,
        calls: Vec<(usize, usize)>,
    }

    impl Fake {
        fn new(per_run: &[Option<f64>]) -> Fake {
            Fake {
                per_run: per_run.to_vec(),
                compile: 0.0,
                clock: 0.0,
                budget: f64::INFINITY,
                calls: Vec::new(),
            }
        }
        fn timed(&self) -> Vec<usize> {
            let mut seen: Vec<usize> = self.calls.iter().map(|c| c.0).collect();
            seen.dedup();
            seen
        }
    }

    impl Probe for Fake {
        fn warm_up(&mut self, i: usize) -> Result<(), String> {
            self.clock += self.compile;
            self.per_run[i]
                .map(drop)
                .ok_or_else(|| format!("candidate {i} failed"))
        }
        fn time(&mut self, i: usize, runs: usize) -> Result<f64, String> {
            self.calls.push((i, runs));
            let t = self.per_run[i].ok_or("failed")? * runs as f64;
            self.clock += t;
            Ok(t)
        }
        fn out_of_time(&self) -> bool {
            self.clock >= self.budget
        }
    }

    const L: Limits = Limits::DEFAULT;

    #[test]
    fn the_static_choice_is_timed_first_and_the_rest_keep_their_order() {
        assert_eq!(order(5, 3), vec![3, 0, 1, 2, 4]);
        assert_eq!(order(3, 0), vec![0, 1, 2]);
        let mut fake = Fake::new(&[Some(1e-3), Some(2e-3), Some(3e-3), Some(4e-3)]);
        search(4, 2, &L, &mut fake);
        assert_eq!(fake.timed(), vec![2, 0, 1, 3]);
    }

    #[test]
    fn the_fastest_wins_by_the_best_of_at_least_three_samples() {
        let mut fake = Fake::new(&[Some(3e-3), Some(1e-3), Some(5e-3)]);
        let out = search(3, 0, &L, &mut fake);
        assert_eq!(out.winner, 1);
        assert_eq!(out.cut, None);
        for i in 0..3 {
            let samples = fake.calls.iter().filter(|c| c.0 == i).count();
            assert!(samples >= 3, "candidate {i}: {samples} samples");
        }
        // Short runs (1 ms < 2 ms) are timed in batches of 3 after the first single run.
        assert!(fake.calls.contains(&(1, 3)), "{:?}", fake.calls);
        assert_eq!(out.timings.len(), 3);
    }

    #[test]
    fn a_challenger_within_the_margin_does_not_displace_the_static_choice() {
        let mut fake = Fake::new(&[Some(1.00e-3), Some(0.97e-3)]);
        assert_eq!(search(2, 0, &L, &mut fake).winner, 0, "3 % faster: noise");
        let mut fake = Fake::new(&[Some(1.00e-3), Some(0.90e-3)]);
        assert_eq!(search(2, 0, &L, &mut fake).winner, 1, "10 % faster wins");
    }

    #[test]
    fn a_failing_candidate_is_skipped_not_returned() {
        let mut fake = Fake::new(&[Some(2e-3), None, Some(1e-3)]);
        let out = search(3, 0, &L, &mut fake);
        assert_eq!(out.winner, 2);
        assert_eq!(out.skipped.len(), 1);
        assert_eq!(out.skipped[0].0, 1);
        // Even the static choice failing leaves a usable winner.
        let mut fake = Fake::new(&[None, Some(2e-3), Some(1e-3)]);
        let out = search(3, 0, &L, &mut fake);
        assert_eq!(out.winner, 2);
        // Nothing timed: the static choice.
        let mut fake = Fake::new(&[None, None]);
        assert_eq!(search(2, 1, &L, &mut fake).winner, 1);
    }

    #[test]
    fn one_giant_run_ends_the_search_but_many_small_ones_do_not() {
        let mut fake = Fake::new(&[Some(0.6), Some(0.1), Some(0.2)]);
        let out = search(3, 0, &L, &mut fake);
        assert_eq!(out.cut, Some(Cut::Giant));
        assert_eq!(fake.timed(), vec![0]);
        assert_eq!(fake.calls, vec![(0, 1)], "a giant run is timed once");
        // Runs of 0.4 s each: together far over 0.5 s, but no single one is giant.
        let mut fake = Fake::new(&[Some(0.4), Some(0.3), Some(0.45)]);
        let out = search(3, 0, &L, &mut fake);
        assert_eq!(out.cut, None);
        assert_eq!(out.winner, 1);
    }

    #[test]
    fn a_spent_budget_stops_before_the_next_candidate_and_marks_the_search_partial() {
        let mut fake = Fake::new(&[Some(1e-3), Some(1e-4), Some(1e-5)]);
        fake.compile = 0.1;
        fake.budget = 0.15; // the static choice's compile and runs, then the next one's
        let out = search(3, 0, &L, &mut fake);
        assert_eq!(out.cut, Some(Cut::Budget));
        assert_eq!(fake.timed(), vec![0, 1]);
        assert_eq!(out.winner, 1);
        // A budget spent before the search still times the static choice (it runs anyway).
        let mut fake = Fake::new(&[Some(1e-3), Some(1e-4)]);
        fake.budget = 0.0;
        let out = search(2, 0, &L, &mut fake);
        assert_eq!((out.winner, out.cut), (0, Some(Cut::Budget)));
    }
}
