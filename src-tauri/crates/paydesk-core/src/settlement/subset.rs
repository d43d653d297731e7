//! The bounded subset-sum search behind grouped suggestions.
//!
//! Which 2..=k of these positive amounts add up to exactly the target? The search enumerates
//! every fitting subset (so it can tell one from several), in ascending amount order, and stops
//! at a step budget: a search that runs out proves nothing and suggests nothing.

/// What one search found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubsetOutcome {
    /// No subset of the allowed sizes fits.
    None,
    /// Exactly one subset fits: positions into the input, ascending.
    One(Vec<usize>),
    /// Several subsets fit (how many): nothing can be suggested without guessing.
    Many(u64),
    /// The step budget ran out after finding this many subsets.
    Exhausted(u64),
}

/// A search's result and the steps it took (items tried one by one, plus one binary search
/// for each subset's last item).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubsetSearch {
    pub outcome: SubsetOutcome,
    pub steps: u64,
}

struct Search<'a> {
    /// Amounts sorted ascending, with their input positions.
    items: &'a [(i64, usize)],
    skip: &'a dyn Fn(&[usize]) -> bool,
    target: i64,
    min_size: usize,
    max_size: usize,
    max_steps: u64,
    steps: u64,
    exhausted: bool,
    found: u64,
    first: Option<Vec<usize>>,
    chosen: Vec<usize>,
}

impl Search<'_> {
    /// One unit of work; false (and the search is over) when the budget is spent.
    fn step(&mut self) -> bool {
        if self.steps >= self.max_steps {
            self.exhausted = true;
            return false;
        }
        self.steps += 1;
        true
    }

    /// `chosen` holds positions into `items` summing to `sum` < target; extend it with items
    /// from `start` on. The last item of a subset is not searched for one by one: it must be
    /// exactly `target − sum`, found by a binary search (one step). Only items that leave
    /// room for a further item are tried one by one (one step each).
    fn run(&mut self, start: usize, sum: i64) {
        let size = self.chosen.len();
        let left = self.max_size - size;
        let n = self.items.len();
        if left == 0 || start >= n {
            return;
        }
        let rest = self.target - sum;
        // Even the `left` largest amounts cannot reach the target: nothing below fits.
        let top = &self.items[start.max(n.saturating_sub(left))..];
        let reach: i128 = top.iter().map(|(a, _)| i128::from(*a)).sum();
        if reach < i128::from(rest) {
            return;
        }
        // Complete the subset with one item of exactly `rest`.
        if size + 1 >= self.min_size {
            if !self.step() {
                return;
            }
            let tail = &self.items[start..];
            let from = start + tail.partition_point(|(a, _)| *a < rest);
            let mut k = from;
            while k < n && self.items[k].0 == rest {
                let mut picked: Vec<usize> = self
                    .chosen
                    .iter()
                    .chain(std::iter::once(&k))
                    .map(|&c| self.items[c].1)
                    .collect();
                picked.sort_unstable();
                if !(self.skip)(&picked) {
                    self.found += 1;
                    if self.first.is_none() {
                        self.first = Some(picked);
                    }
                }
                k += 1;
            }
        }
        if left < 2 {
            return;
        }
        // Or take an item and go on: it needs a further item after it, at least the next
        // (sorted ascending), so once `items[i] + items[i + 1]` overshoots, all later do.
        for i in start..n.saturating_sub(1) {
            let (a, next) = (self.items[i].0, self.items[i + 1].0);
            if i128::from(a) + i128::from(next) > i128::from(rest) {
                break;
            }
            if !self.step() {
                return;
            }
            self.chosen.push(i);
            self.run(i + 1, sum + a);
            self.chosen.pop();
            if self.exhausted {
                return;
            }
        }
    }
}

/// Every subset of `min_size..=max_size` of `amounts` summing to `target`, counted within
/// `max_steps` steps. Amounts that are not positive are left out (they cannot be part of
/// a payout group). The result does not depend on the order of `amounts` except through
/// positions, and equal amounts at different positions are different subsets. A fitting
/// subset for which `skip` (given its ascending positions) says true does not count: a
/// reviewer rejected it.
pub fn find_subsets(
    amounts: &[i64],
    target: i64,
    min_size: usize,
    max_size: usize,
    max_steps: u64,
    skip: &dyn Fn(&[usize]) -> bool,
) -> SubsetSearch {
    let mut items: Vec<(i64, usize)> = amounts
        .iter()
        .copied()
        .enumerate()
        .filter(|&(_, a)| a > 0)
        .map(|(i, a)| (a, i))
        .collect();
    items.sort_unstable();
    let max_size = max_size.min(items.len());
    if target <= 0 || min_size > max_size {
        return SubsetSearch {
            outcome: SubsetOutcome::None,
            steps: 0,
        };
    }
    let mut search = Search {
        items: &items,
        skip,
        target,
        min_size: min_size.max(1),
        max_size,
        max_steps,
        steps: 0,
        exhausted: false,
        found: 0,
        first: None,
        chosen: Vec::with_capacity(max_size),
    };
    search.run(0, 0);
    let outcome = if search.exhausted {
        SubsetOutcome::Exhausted(search.found)
    } else {
        match (search.found, search.first) {
            (0, _) => SubsetOutcome::None,
            (1, Some(one)) => SubsetOutcome::One(one),
            (n, _) => SubsetOutcome::Many(n),
        }
    };
    SubsetSearch {
        outcome,
        steps: search.steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_subset() {
        let r = find_subsets(&[300, 100, 250, 700], 550, 2, 5, 1000, &|_| false);
        assert_eq!(r.outcome, SubsetOutcome::One(vec![0, 2]));
        assert!(r.steps > 0);
    }

    #[test]
    fn several_subsets_are_counted() {
        // 100+400, 200+300 and 100+... only two pairs reach 500.
        let r = find_subsets(&[100, 200, 300, 400], 500, 2, 5, 1000, &|_| false);
        assert_eq!(r.outcome, SubsetOutcome::Many(2));
        // Equal amounts are different payouts: 50a+30 and 50b+30.
        let r = find_subsets(&[50, 50, 30], 80, 2, 5, 1000, &|_| false);
        assert_eq!(r.outcome, SubsetOutcome::Many(2));
    }

    #[test]
    fn single_items_and_sizes_outside_the_range_do_not_count() {
        assert_eq!(
            find_subsets(&[500, 100], 500, 2, 5, 1000, &|_| false).outcome,
            SubsetOutcome::None
        );
        assert_eq!(
            find_subsets(&[100, 100, 100], 300, 2, 2, 1000, &|_| false).outcome,
            SubsetOutcome::None
        );
        assert_eq!(
            find_subsets(&[100, 100, 100], 300, 2, 3, 1000, &|_| false).outcome,
            SubsetOutcome::One(vec![0, 1, 2])
        );
        assert_eq!(
            find_subsets(&[100, -5, 0, 200], 300, 2, 5, 1000, &|_| false).outcome,
            SubsetOutcome::One(vec![0, 3])
        );
        assert_eq!(
            find_subsets(&[], 1, 2, 5, 10, &|_| false).outcome,
            SubsetOutcome::None
        );
        assert_eq!(
            find_subsets(&[i64::MAX, i64::MAX], i64::MAX, 2, 5, 10, &|_| false).outcome,
            SubsetOutcome::None
        );
    }

    #[test]
    fn the_budget_stops_the_search() {
        let amounts: Vec<i64> = (0..24).map(|i| 1000 + i).collect();
        let r = find_subsets(&amounts, 5_000_000, 2, 5, 50, &|_| false);
        // Unreachable target is pruned before any step.
        assert_eq!(r.outcome, SubsetOutcome::None);
        let r = find_subsets(&amounts, 5050, 2, 5, 50, &|_| false);
        assert!(matches!(r.outcome, SubsetOutcome::Exhausted(_)));
        assert_eq!(r.steps, 50);
    }

    #[test]
    fn rejected_subsets_do_not_count() {
        // 100+400 and 200+300 fit; with 100+400 rejected only 200+300 is left.
        let skip = |pos: &[usize]| pos == [0, 3];
        let r = find_subsets(&[100, 200, 300, 400], 500, 2, 5, 1000, &skip);
        assert_eq!(r.outcome, SubsetOutcome::One(vec![1, 2]));
    }

    /// Every subset, by brute force: the reference the search must agree with.
    fn brute(amounts: &[i64], target: i64, min: usize, max: usize) -> Vec<Vec<usize>> {
        let n = amounts.len();
        let mut out = Vec::new();
        for mask in 0u32..(1 << n) {
            let picked: Vec<usize> = (0..n).filter(|i| mask & (1 << i) != 0).collect();
            let sum: i64 = picked.iter().map(|&i| amounts[i]).sum();
            if picked.len() >= min && picked.len() <= max && sum == target {
                out.push(picked);
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_brute_force(
            amounts in proptest::collection::vec(1i64..40, 0..11),
            target in 1i64..120,
            max in 2usize..5,
        ) {
            let all = brute(&amounts, target, 2, max);
            let r = find_subsets(&amounts, target, 2, max, u64::MAX, &|_| false);
            let expected = match all.len() {
                0 => SubsetOutcome::None,
                1 => SubsetOutcome::One(all[0].clone()),
                n => SubsetOutcome::Many(n as u64),
            };
            proptest::prop_assert_eq!(r.outcome, expected);
        }

        #[test]
        fn steps_stay_within_the_budget(
            amounts in proptest::collection::vec(1i64..1000, 0..30),
            target in 1i64..5000,
            budget in 0u64..5000,
        ) {
            let r = find_subsets(&amounts, target, 2, 5, budget, &|_| false);
            proptest::prop_assert!(r.steps <= budget);
            if let SubsetOutcome::Exhausted(_) = r.outcome {
                proptest::prop_assert_eq!(r.steps, budget);
            }
        }
    }
}
