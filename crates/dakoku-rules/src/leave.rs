//! Statutory annual paid leave: how many days the law grants, and when (年次有給休暇 under
//! 労基法39条 and 労基則24条の3; 带薪年休假 under 职工带薪年休假条例 and 企业职工带薪年休假实施办法).
//! Pure: dates and counts in, dates and days out. What a company grants above the law, and
//! taking, carrying over and expiring leave, belong to the ledger that uses these figures.

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// How much someone works, which decides the Japanese grant table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WorkPattern {
    /// Five or more days a week, or 30 hours or more a week: the full table (39条2項).
    FullTime,
    /// Four days a week or fewer and under 30 hours: the pro-rated table by days a week
    /// (労基則24条の3第3項).
    DaysPerWeek { days: u32 },
    /// No fixed week: the pro-rated table by days a year (216 days or fewer; 48 at least).
    DaysPerYear { days: u32 },
}

/// One statutory grant of Japanese paid leave.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub on: NaiveDate,
    pub days: u32,
    /// The last day the days can be taken: two years from the grant (労基法115条).
    pub last_day: NaiveDate,
}

/// Days granted after 6 months, 1.5 years, ... 6.5 years and every year after (39条2項, 3項).
const FULL_TIME: [u32; 7] = [10, 11, 12, 14, 16, 18, 20];
/// 労基則24条の3第3項: rows for 4, 3, 2 and 1 day a week (169–216, 121–168, 73–120 and 48–72
/// days a year).
const PRO_RATED: [[u32; 7]; 4] =
    [[7, 8, 9, 10, 12, 13, 15], [5, 6, 6, 8, 9, 10, 11], [3, 4, 4, 5, 6, 6, 7], [1, 2, 2, 2, 3, 3, 3]];

impl WorkPattern {
    /// The row of the grant table, or `None` when the law grants nothing (under one day a
    /// week, under 48 days a year).
    fn row(self) -> Option<&'static [u32; 7]> {
        let days_a_week = match self {
            Self::FullTime => return Some(&FULL_TIME),
            Self::DaysPerWeek { days } if days >= 5 => return Some(&FULL_TIME),
            Self::DaysPerWeek { days } => days,
            Self::DaysPerYear { days } if days >= 217 => return Some(&FULL_TIME),
            Self::DaysPerYear { days } => match days {
                169..=216 => 4,
                121..=168 => 3,
                73..=120 => 2,
                48..=72 => 1,
                _ => 0,
            },
        };
        match days_a_week {
            4 => Some(&PRO_RATED[0]),
            3 => Some(&PRO_RATED[1]),
            2 => Some(&PRO_RATED[2]),
            1 => Some(&PRO_RATED[3]),
            _ => None,
        }
    }
}

/// The date of the `n`-th statutory grant (0: six months after hire; then yearly).
pub fn jp_grant_date(hired_on: NaiveDate, n: u32) -> NaiveDate {
    hired_on.checked_add_months(Months::new(6 + 12 * n)).unwrap_or(NaiveDate::MAX)
}

/// The statutory grants from hire up to and including `until`. `attended_enough(from, to)`
/// says whether the employee worked 80 % of the scheduled days of the period before a grant
/// (39条1項, 2項); a period short of it gives no grant that year, while service keeps counting.
pub fn jp_statutory_grants(
    hired_on: NaiveDate,
    pattern: WorkPattern,
    until: NaiveDate,
    attended_enough: impl Fn(NaiveDate, NaiveDate) -> bool,
) -> Vec<Grant> {
    let Some(row) = pattern.row() else { return Vec::new() };
    let mut grants = Vec::new();
    let mut period_start = hired_on;
    for n in 0.. {
        let on = jp_grant_date(hired_on, n);
        if on > until {
            break;
        }
        if attended_enough(period_start, on.pred_opt().unwrap_or(on)) {
            let days = row[(n as usize).min(row.len() - 1)];
            let last_day = on.checked_add_months(Months::new(24)).and_then(|d| d.pred_opt()).unwrap_or(NaiveDate::MAX);
            grants.push(Grant { on, days, last_day });
        }
        period_start = on;
    }
    grants
}

/// China: the yearly entitlement by cumulative working years (职工带薪年休假条例第3条): none
/// before 12 months of continuous work (实施办法第3条), 5 days from 1 year, 10 from 10, 15 from 20.
pub fn cn_annual_leave_days(cumulative_years: u32, continuous_months: u32) -> u32 {
    if continuous_months < 12 {
        return 0;
    }
    match cumulative_years {
        0 => 0,
        1..=9 => 5,
        10..=19 => 10,
        _ => 15,
    }
}

/// China: the days of a year for someone who joins or leaves in it (企业职工带薪年休假实施办法
/// 第5条, 第12条): the calendar days remaining (or served) ÷ 365 × the entitlement, whole days
/// down (less than one day is not granted).
pub fn cn_pro_rated(entitlement: u32, served_days: u32) -> u32 {
    (u64::from(served_days.min(365)) * u64::from(entitlement) / 365) as u32
}

/// The calendar days from `joined_on` to the end of its year, both included.
pub fn cn_days_left_in_year(joined_on: NaiveDate) -> u32 {
    let end = NaiveDate::from_ymd_opt(joined_on.year(), 12, 31).unwrap_or(joined_on);
    ((end - joined_on).num_days() + 1).max(0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    /// 39条2項: hired 2020-04-01, full time, always attending: 10 on 2020-10-01, 11, 12, 14, 16,
    /// 18, then 20 every year; each lasts two years to the day before (115条).
    #[test]
    fn full_time_grants_follow_the_table_and_last_two_years() {
        let grants = jp_statutory_grants(d(2020, 4, 1), WorkPattern::FullTime, d(2028, 10, 1), |_, _| true);
        let got: Vec<(NaiveDate, u32)> = grants.iter().map(|g| (g.on, g.days)).collect();
        assert_eq!(
            got,
            [
                (d(2020, 10, 1), 10),
                (d(2021, 10, 1), 11),
                (d(2022, 10, 1), 12),
                (d(2023, 10, 1), 14),
                (d(2024, 10, 1), 16),
                (d(2025, 10, 1), 18),
                (d(2026, 10, 1), 20),
                (d(2027, 10, 1), 20),
                (d(2028, 10, 1), 20),
            ]
        );
        assert_eq!(grants[0].last_day, d(2022, 9, 30));
    }

    /// 39条1項: a year under 80 % attendance gives nothing that year; the next year's grant is
    /// still by total service (2.5 years: 12 days).
    #[test]
    fn a_year_under_80_percent_skips_its_grant_only() {
        let grants =
            jp_statutory_grants(d(2020, 4, 1), WorkPattern::FullTime, d(2022, 10, 1), |from, _| from != d(2020, 10, 1));
        let got: Vec<(NaiveDate, u32)> = grants.iter().map(|g| (g.on, g.days)).collect();
        assert_eq!(got, [(d(2020, 10, 1), 10), (d(2022, 10, 1), 12)]);
    }

    /// 労基則24条の3: the pro-rated rows, by days a week and by days a year.
    #[test]
    fn part_timers_get_the_pro_rated_rows() {
        let first_and_seventh = |pattern| {
            let grants = jp_statutory_grants(d(2020, 1, 31), pattern, d(2027, 12, 31), |_, _| true);
            (grants[0].days, grants[6].days)
        };
        assert_eq!(first_and_seventh(WorkPattern::DaysPerWeek { days: 4 }), (7, 15));
        assert_eq!(first_and_seventh(WorkPattern::DaysPerWeek { days: 3 }), (5, 11));
        assert_eq!(first_and_seventh(WorkPattern::DaysPerWeek { days: 2 }), (3, 7));
        assert_eq!(first_and_seventh(WorkPattern::DaysPerWeek { days: 1 }), (1, 3));
        assert_eq!(first_and_seventh(WorkPattern::DaysPerWeek { days: 5 }), (10, 20));
        assert_eq!(first_and_seventh(WorkPattern::DaysPerYear { days: 216 }), (7, 15));
        assert_eq!(first_and_seventh(WorkPattern::DaysPerYear { days: 217 }), (10, 20));
        assert_eq!(first_and_seventh(WorkPattern::DaysPerYear { days: 48 }), (1, 3));
        assert!(jp_statutory_grants(d(2020, 1, 31), WorkPattern::DaysPerYear { days: 47 }, d(2027, 1, 1), |_, _| true)
            .is_empty());
        // Six months after 31 January is the end of July (no 31 July is skipped).
        assert_eq!(jp_grant_date(d(2020, 1, 31), 0), d(2020, 7, 31));
        assert_eq!(jp_grant_date(d(2019, 8, 31), 0), d(2020, 2, 29));
    }

    /// 职工带薪年休假条例第3条 and 实施办法第3条, 第5条.
    #[test]
    fn china_by_working_years_and_pro_rated_for_joiners() {
        assert_eq!(cn_annual_leave_days(3, 11), 0);
        assert_eq!(cn_annual_leave_days(1, 12), 5);
        assert_eq!(cn_annual_leave_days(9, 40), 5);
        assert_eq!(cn_annual_leave_days(10, 40), 10);
        assert_eq!(cn_annual_leave_days(20, 40), 15);
        // Joining on 1 July 2026 with 10 working years: 184 days left ÷ 365 × 10 = 5.04 → 5.
        assert_eq!(cn_days_left_in_year(d(2026, 7, 1)), 184);
        assert_eq!(cn_pro_rated(10, cn_days_left_in_year(d(2026, 7, 1))), 5);
        // 1 October: 92 ÷ 365 × 5 = 1.26 → 1; 1 December: 31 ÷ 365 × 5 = 0.42 → 0.
        assert_eq!(cn_pro_rated(5, cn_days_left_in_year(d(2026, 10, 1))), 1);
        assert_eq!(cn_pro_rated(5, cn_days_left_in_year(d(2026, 12, 1))), 0);
    }
}
