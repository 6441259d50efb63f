//! Work rules (就業ルール / 考勤规则), schedules and the holiday calendar.

use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Whose labour law applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Jurisdiction {
    /// 労働基準法: 8 h / 40 h, 法定休日, 36協定.
    Japan,
    /// 劳动法: 8 h / 40 h, rest days 200 %, statutory holidays 300 %, 36 h monthly cap.
    China,
}

/// How punches of a day are turned into time at work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pairing {
    /// From the first clock-in to the last clock-out; what lies between counts.
    FirstInLastOut,
    /// Each clock-in with the next clock-out; gaps between pairs do not count.
    EachPair,
}

/// A span of local clock time; an `end` at or before `start` means the next day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeRange {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

/// A named shift of a roster (勤務パターン / 班次).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShiftDef {
    pub code: String,
    pub name: String,
    pub start: NaiveTime,
    pub end: NaiveTime,
    #[serde(default)]
    pub breaks: Vec<TimeRange>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Schedule {
    /// The same hours on the same weekdays.
    Fixed {
        start: NaiveTime,
        end: NaiveTime,
        #[serde(default)]
        breaks: Vec<TimeRange>,
        workdays: Vec<Weekday>,
    },
    /// Hours come from the roster: a shift assigned per day; no shift means a day off.
    Shift,
    /// Flextime: no daily overtime; overtime is settled over the month against the legal
    /// total (40 h × days of the month ÷ 7). Lateness is measured against the core time.
    Flex { core: Option<TimeRange>, workdays: Vec<Weekday> },
}

/// Rounding of punch times. Per-day rounding shortens recorded time and is off unless an
/// organisation chooses it; the monthly 30-minute rule rounds only the month's premium totals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rounding {
    /// Round clock-in up and clock-out down to this many minutes.
    pub per_day_minutes: Option<u32>,
    /// Month totals: under 30 minutes of an hour dropped, 30 or more raised to the hour.
    #[serde(default)]
    pub monthly_30_minute_rule: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkRule {
    pub jurisdiction: Jurisdiction,
    #[serde(with = "tz_name")]
    pub timezone: chrono_tz::Tz,
    /// When one working day ends and the next begins (default 05:00), so a night shift
    /// belongs to the day it started.
    pub day_boundary: NaiveTime,
    pub schedule: Schedule,
    pub week_start: Weekday,
    /// 法定休日 (Japan): the weekly legal holiday.
    pub legal_holiday: Weekday,
    pub pairing: Pairing,
    #[serde(default)]
    pub rounding: Rounding,
    /// Top punched breaks up to the statutory minimum (over 6 h → 45 min, over 8 h → 60 min).
    #[serde(default)]
    pub auto_break: bool,
    /// First month of the 36協定 year (1 to 12).
    pub agreement_year_start_month: u32,
    /// Lay the jurisdiction's national calendar (国民の祝日 / 法定节假日 and 调休) under the
    /// organisation's own days. Off for companies that work on national holidays.
    #[serde(default = "yes")]
    pub national_holidays: bool,
}

fn yes() -> bool {
    true
}

impl WorkRule {
    /// The defaults of a Japanese office: 09:00–18:00 with an hour's lunch, Monday to Friday,
    /// Sunday as 法定休日, weeks from Monday.
    pub fn japan_default(timezone: chrono_tz::Tz) -> Self {
        Self {
            jurisdiction: Jurisdiction::Japan,
            timezone,
            day_boundary: hm(5, 0),
            schedule: Schedule::Fixed {
                start: hm(9, 0),
                end: hm(18, 0),
                breaks: vec![TimeRange { start: hm(12, 0), end: hm(13, 0) }],
                workdays: vec![Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri],
            },
            week_start: Weekday::Mon,
            legal_holiday: Weekday::Sun,
            pairing: Pairing::FirstInLastOut,
            rounding: Rounding::default(),
            auto_break: false,
            agreement_year_start_month: 4,
            national_holidays: true,
        }
    }

    pub fn china_default(timezone: chrono_tz::Tz) -> Self {
        Self { jurisdiction: Jurisdiction::China, agreement_year_start_month: 1, ..Self::japan_default(timezone) }
    }
}

pub(crate) fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default()
}

mod tz_name {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(tz: &chrono_tz::Tz, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(tz.name())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<chrono_tz::Tz, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(|_| serde::de::Error::custom(format!("unknown time zone {name}")))
    }
}

/// What the calendar says of one date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalendarKind {
    /// A national or statutory holiday (祝日 / 法定节假日).
    Statutory,
    /// A company holiday (会社休日 / 公司假日).
    Company,
    /// A working day on what would be a day off (China's 调休 make-up working day).
    Workday,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarEntry {
    pub kind: CalendarKind,
    #[serde(default)]
    pub name: String,
}

/// An organisation's holiday calendar.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calendar {
    pub entries: BTreeMap<NaiveDate, CalendarEntry>,
}

/// What kind of day a date is for an employee.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    Workday,
    /// Japan: the weekly 法定休日. Work on it is legal-holiday work (35 %).
    LegalHoliday,
    /// Japan: any other day off (所定休日, national and company holidays). Work on it counts
    /// towards the daily and weekly limits.
    CompanyHoliday,
    /// China: a rest day (休息日). Work on it is paid at 200 %.
    RestDay,
    /// China: a statutory holiday (法定节假日). Work on it is paid at 300 %.
    StatutoryHoliday,
}

impl DayKind {
    pub fn is_workday(self) -> bool {
        self == DayKind::Workday
    }

    /// Work on this day is holiday work (its own premium class) rather than counted
    /// against the daily and weekly limits.
    pub fn is_holiday_work(self) -> bool {
        matches!(self, DayKind::LegalHoliday | DayKind::RestDay | DayKind::StatutoryHoliday)
    }
}

impl Calendar {
    /// Classifies a date under the rule. `scheduled` tells whether the schedule (or roster)
    /// makes it a working day.
    pub fn classify(&self, rule: &WorkRule, date: NaiveDate, scheduled: bool) -> DayKind {
        let entry = self.entries.get(&date).map(|e| e.kind);
        match rule.jurisdiction {
            Jurisdiction::Japan => {
                if date.weekday() == rule.legal_holiday && entry != Some(CalendarKind::Workday) {
                    DayKind::LegalHoliday
                } else if matches!(entry, Some(CalendarKind::Statutory | CalendarKind::Company)) {
                    DayKind::CompanyHoliday
                } else if scheduled || entry == Some(CalendarKind::Workday) {
                    DayKind::Workday
                } else {
                    DayKind::CompanyHoliday
                }
            }
            Jurisdiction::China => match entry {
                Some(CalendarKind::Statutory) => DayKind::StatutoryHoliday,
                Some(CalendarKind::Company) => DayKind::RestDay,
                Some(CalendarKind::Workday) => DayKind::Workday,
                None if scheduled => DayKind::Workday,
                None => DayKind::RestDay,
            },
        }
    }
}
