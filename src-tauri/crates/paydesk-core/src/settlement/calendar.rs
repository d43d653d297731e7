//! Business days for arrival windows.
//!
//! Banks book on business days, so a payout expected on a Friday may show on Monday and still
//! be "one day late". The free functions count Monday to Friday; a [`BusinessCalendar`] adds a
//! bank account's public holidays (国庆, 春节…) and the weekend days worked instead (调休), so a
//! payout made before Golden Week is not 未到账 while the banks are closed.

use chrono::{Datelike, Days, NaiveDate, Weekday};
use std::collections::BTreeSet;

/// Monday to Friday, less `holidays`, plus `workdays` (weekend days the banks work).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BusinessCalendar {
    holidays: BTreeSet<NaiveDate>,
    workdays: BTreeSet<NaiveDate>,
}

impl BusinessCalendar {
    /// A calendar with these closed weekdays and open weekend days. A holiday on a weekend
    /// changes nothing (so a day can never be both); a "workday" that is a weekday is refused
    /// (it names a mistake).
    pub fn new(
        holidays: impl IntoIterator<Item = NaiveDate>,
        workdays: impl IntoIterator<Item = NaiveDate>,
    ) -> Result<BusinessCalendar, String> {
        let holidays: BTreeSet<NaiveDate> = holidays
            .into_iter()
            .filter(|d| is_business_day(*d))
            .collect();
        let workdays: BTreeSet<NaiveDate> = workdays.into_iter().collect();
        if let Some(d) = workdays.iter().find(|d| is_business_day(**d)) {
            return Err(format!(
                "{d} is a {} already: only a Saturday or Sunday can be a workday",
                d.weekday()
            ));
        }
        Ok(BusinessCalendar { holidays, workdays })
    }

    pub fn is_business_day(&self, date: NaiveDate) -> bool {
        if is_business_day(date) {
            !self.holidays.contains(&date)
        } else {
            self.workdays.contains(&date)
        }
    }

    /// Business days after `from` up to and including `to` (negative when `to` is earlier).
    pub fn between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let (lo, hi, sign) = if from <= to {
            (from, to, 1)
        } else {
            (to, from, -1)
        };
        let weekdays = business_days_between(lo, hi);
        let range = (std::ops::Bound::Excluded(lo), std::ops::Bound::Included(hi));
        let closed = self.holidays.range(range).count() as i64;
        let opened = self.workdays.range(range).count() as i64;
        sign * (weekdays - closed + opened)
    }

    /// `date` moved `n` business days later (Saturday + 1 is Monday, or the next open day).
    pub fn add(&self, date: NaiveDate, n: u32) -> NaiveDate {
        if self.holidays.is_empty() && self.workdays.is_empty() {
            return add_business_days(date, n);
        }
        self.step_by(date, n, true)
    }

    /// `date` moved `n` business days earlier.
    pub fn sub(&self, date: NaiveDate, n: u32) -> NaiveDate {
        if self.holidays.is_empty() && self.workdays.is_empty() {
            return sub_business_days(date, n);
        }
        self.step_by(date, n, false)
    }

    /// Day by day: windows are a few business days long, and a holiday run is at most a week
    /// or two.
    fn step_by(&self, date: NaiveDate, n: u32, forward: bool) -> NaiveDate {
        let step = |d: NaiveDate| if forward { d.succ_opt() } else { d.pred_opt() };
        let mut d = date;
        let mut left = n;
        while left > 0 {
            match step(d) {
                Some(next) => d = next,
                None => return d,
            }
            if self.is_business_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// The calendar days a bank may book a payout expected on `arrival`: from `before`
    /// business days earlier to `after` business days later, both ends included.
    pub fn arrival_window(
        &self,
        arrival: NaiveDate,
        before: u32,
        after: u32,
    ) -> (NaiveDate, NaiveDate) {
        (self.sub(arrival, before), self.add(arrival, after))
    }
}

/// Monday to Friday.
pub fn is_business_day(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Business days in `[0001-01-01, date]` (0001-01-01 is a Monday), shifted consistently for
/// earlier dates: the difference of two values counts business days between them in O(1).
fn business_days_upto(date: NaiveDate) -> i64 {
    let z = i64::from(date.num_days_from_ce()) - 1;
    let (weeks, day) = (z.div_euclid(7), z.rem_euclid(7));
    weeks * 5 + (day + 1).min(5)
}

/// Business days after `from` up to and including `to` (negative when `to` is earlier):
/// Friday → Monday is 1, Saturday → Monday is 1, Friday → Saturday is 0.
pub fn business_days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    business_days_upto(to) - business_days_upto(from)
}

/// `date` moved `n` business days later: each step goes to the next business day, so
/// Saturday + 1 is Monday and Friday + 1 is Monday. Saturates at the calendar's end.
pub fn add_business_days(date: NaiveDate, n: u32) -> NaiveDate {
    shift(date, n, true)
}

/// `date` moved `n` business days earlier (the mirror of [`add_business_days`]).
pub fn sub_business_days(date: NaiveDate, n: u32) -> NaiveDate {
    shift(date, n, false)
}

fn shift(date: NaiveDate, n: u32, forward: bool) -> NaiveDate {
    let step = |d: NaiveDate| if forward { d.succ_opt() } else { d.pred_opt() };
    let mut d = date;
    let mut left = n;
    // From a weekend the first step lands on the nearest business day that way.
    if left > 0 && !is_business_day(d) {
        while !is_business_day(d) {
            match step(d) {
                Some(next) => d = next,
                None => return d,
            }
        }
        left -= 1;
    }
    // From a business day, whole weeks at once: five business days are seven calendar days.
    let weeks = Days::new(u64::from(left / 5) * 7);
    d = if forward {
        d.checked_add_days(weeks).unwrap_or(NaiveDate::MAX)
    } else {
        d.checked_sub_days(weeks).unwrap_or(NaiveDate::MIN)
    };
    left %= 5;
    while left > 0 {
        match step(d) {
            Some(next) => d = next,
            None => return d,
        }
        if is_business_day(d) {
            left -= 1;
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or(NaiveDate::MIN)
    }

    #[test]
    fn weekends_are_skipped() {
        // 2024-11-22 is a Friday.
        assert!(is_business_day(d(2024, 11, 22)));
        assert!(!is_business_day(d(2024, 11, 23)));
        assert_eq!(add_business_days(d(2024, 11, 22), 1), d(2024, 11, 25));
        assert_eq!(add_business_days(d(2024, 11, 23), 1), d(2024, 11, 25));
        assert_eq!(add_business_days(d(2024, 11, 22), 0), d(2024, 11, 22));
        assert_eq!(add_business_days(d(2024, 11, 20), 5), d(2024, 11, 27));
        assert_eq!(add_business_days(d(2024, 11, 20), 7), d(2024, 11, 29));
        assert_eq!(sub_business_days(d(2024, 11, 25), 1), d(2024, 11, 22));
        assert_eq!(sub_business_days(d(2024, 11, 24), 1), d(2024, 11, 22));
        assert_eq!(sub_business_days(d(2024, 11, 29), 7), d(2024, 11, 20));
        assert_eq!(
            BusinessCalendar::default().arrival_window(d(2024, 11, 22), 1, 3),
            (d(2024, 11, 21), d(2024, 11, 27))
        );
    }

    #[test]
    fn holidays_close_weekdays_and_workdays_open_weekends() {
        // 国庆 2026: Thu 1 Oct to Wed 7 Oct closed; Sat 10 Oct worked (调休, for the example).
        let golden: Vec<NaiveDate> = (1..=7).map(|day| d(2026, 10, day)).collect();
        let cal = BusinessCalendar::new(golden, [d(2026, 10, 10)]).expect("calendar");
        assert!(!cal.is_business_day(d(2026, 10, 1)));
        assert!(cal.is_business_day(d(2026, 10, 10)));
        // A payout made Wed 30 Sep, one business day later: Thu 8 Oct.
        assert_eq!(cal.add(d(2026, 9, 30), 1), d(2026, 10, 8));
        assert_eq!(cal.add(d(2026, 10, 9), 1), d(2026, 10, 10));
        assert_eq!(cal.sub(d(2026, 10, 8), 1), d(2026, 9, 30));
        assert_eq!(cal.between(d(2026, 9, 30), d(2026, 10, 8)), 1);
        assert_eq!(cal.between(d(2026, 10, 8), d(2026, 9, 30)), -1);
        assert_eq!(cal.between(d(2026, 10, 9), d(2026, 10, 12)), 2);
        assert_eq!(
            cal.arrival_window(d(2026, 9, 30), 1, 3),
            (d(2026, 9, 29), d(2026, 10, 10))
        );
        // Without holidays the calendar is Monday to Friday.
        let plain = BusinessCalendar::default();
        assert_eq!(plain.add(d(2026, 9, 30), 1), d(2026, 10, 1));
        assert_eq!(plain.between(d(2024, 11, 22), d(2024, 11, 25)), 1);
    }

    #[test]
    fn a_workday_on_a_weekday_is_refused_and_a_weekend_holiday_is_dropped() {
        let e = BusinessCalendar::new([], [d(2026, 10, 9)]).expect_err("a Friday");
        assert!(e.contains("2026-10-09 is a Fri already"), "{e}");
        let e = BusinessCalendar::new([d(2026, 10, 10)], [d(2026, 10, 10)]);
        // A weekend holiday is dropped (it changes nothing), so only the workday stays.
        assert!(e.is_ok());
    }

    proptest::proptest! {
        #[test]
        fn a_calendar_counts_what_it_steps(days in 0i64..3_000, n in 0u32..30, closed in proptest::collection::vec(0i64..3_100, 0..60)) {
            let base = d(2020, 1, 1);
            let holidays: Vec<NaiveDate> = closed.iter().map(|k| base + chrono::Duration::days(*k)).collect();
            let cal = BusinessCalendar::new(holidays, []).expect("calendar");
            let start = base + chrono::Duration::days(days);
            let end = cal.add(start, n);
            proptest::prop_assert!(n == 0 || cal.is_business_day(end));
            proptest::prop_assert!(cal.between(start, end) == i64::from(n));
            let back = cal.sub(end, n);
            proptest::prop_assert!(back <= start);
            proptest::prop_assert_eq!(cal.between(back, end), i64::from(n));
        }
    }

    #[test]
    fn counting_between_dates() {
        assert_eq!(business_days_between(d(2024, 11, 22), d(2024, 11, 25)), 1);
        assert_eq!(business_days_between(d(2024, 11, 23), d(2024, 11, 25)), 1);
        assert_eq!(business_days_between(d(2024, 11, 22), d(2024, 11, 23)), 0);
        assert_eq!(business_days_between(d(2024, 11, 25), d(2024, 11, 22)), -1);
        assert_eq!(business_days_between(d(2024, 11, 18), d(2024, 12, 2)), 10);
        assert_eq!(business_days_between(d(2024, 11, 18), d(2024, 11, 18)), 0);
    }

    #[test]
    fn calendar_ends_do_not_panic() {
        assert_eq!(add_business_days(NaiveDate::MAX, 10), NaiveDate::MAX);
        assert_eq!(sub_business_days(NaiveDate::MIN, 10), NaiveDate::MIN);
        let _ = business_days_between(NaiveDate::MIN, NaiveDate::MAX);
    }

    proptest::proptest! {
        #[test]
        fn adding_n_business_days_counts_n(days in 0i64..40_000, n in 0u32..60) {
            let start = d(1990, 1, 1) + chrono::Duration::days(days);
            let end = add_business_days(start, n);
            proptest::prop_assert_eq!(business_days_between(start, end), i64::from(n));
            proptest::prop_assert!(n == 0 || is_business_day(end));
            let back = sub_business_days(start, n);
            proptest::prop_assert!(
                business_days_between(back, start) == i64::from(n)
                    || (!is_business_day(start) && business_days_between(back, start) == i64::from(n) - 1)
            );
        }
    }
}
