//! Business days (Monday to Friday) for arrival windows.
//!
//! Banks book on business days, so a payout expected on a Friday may show on Monday and still
//! be "one day late". Public holidays are not modelled: a window that must span one is widened
//! by the account's `days_after`.

use chrono::{Datelike, Days, NaiveDate, Weekday};

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

/// The calendar days a bank may book a payout expected on `arrival`: from `before` business
/// days earlier to `after` business days later, both ends included.
pub fn arrival_window(arrival: NaiveDate, before: u32, after: u32) -> (NaiveDate, NaiveDate) {
    (
        sub_business_days(arrival, before),
        add_business_days(arrival, after),
    )
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
            arrival_window(d(2024, 11, 22), 1, 3),
            (d(2024, 11, 21), d(2024, 11, 27))
        );
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
