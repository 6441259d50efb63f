//! Work rules (就業ルール / 考勤规则), schedules and the holiday calendar.

use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Whose labour law applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Jurisdiction {
    /// 労働基準法: 8 h / 40 h, 法定休日, 36協定.
    Japan,
    /// 劳动法: 8 h / 40 h, rest days 200 %, statutory holidays 300 %, 36 h monthly cap.
    China,
}

/// How punches of a day are turned into time at work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Pairing {
    /// From the first clock-in to the last clock-out; what lies between counts.
    FirstInLastOut,
    /// Each clock-in with the next clock-out; gaps between pairs do not count.
    EachPair,
}

/// A span of local clock time; an `end` at or before `start` means the next day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeRange {
    #[schema(value_type = String, example = "12:00:00")]
    pub start: NaiveTime,
    #[schema(value_type = String, example = "13:00:00")]
    pub end: NaiveTime,
}

/// A named shift of a roster (勤務パターン / 班次). An end at or before the start is on the next
/// day; an end equal to the start makes a 24-hour duty (隔日勤務).
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

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Schedule {
    /// The same hours on the same weekdays.
    Fixed {
        #[schema(value_type = String, example = "09:00:00")]
        start: NaiveTime,
        #[schema(value_type = String, example = "18:00:00")]
        end: NaiveTime,
        #[serde(default)]
        breaks: Vec<TimeRange>,
        #[schema(value_type = Vec<String>, example = json!(["Mon", "Tue", "Wed", "Thu", "Fri"]))]
        workdays: Vec<Weekday>,
    },
    /// Hours come from the roster: a shift assigned per day; no shift means a day off.
    Shift,
    /// Flextime: no daily overtime; overtime is settled over the month against the legal
    /// total (40 h × days of the month ÷ 7). Lateness is measured against the core time.
    Flex {
        core: Option<TimeRange>,
        #[schema(value_type = Vec<String>, example = json!(["Mon", "Tue", "Wed", "Thu", "Fri"]))]
        workdays: Vec<Weekday>,
    },
}

/// Rounding of punch times. Per-day rounding shortens recorded time and is off unless an
/// organisation chooses it; the monthly 30-minute rule rounds only the month's premium totals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rounding {
    /// Round clock-in up and clock-out down to this many minutes.
    pub per_day_minutes: Option<u32>,
    /// Month totals: under 30 minutes of an hour dropped, 30 or more raised to the hour.
    #[serde(default)]
    pub monthly_30_minute_rule: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkRule {
    pub jurisdiction: Jurisdiction,
    #[serde(with = "tz_name")]
    #[schema(value_type = String, example = "Asia/Tokyo")]
    pub timezone: chrono_tz::Tz,
    /// When one working day ends and the next begins (default 05:00), so a night shift
    /// belongs to the day it started.
    #[schema(value_type = String, example = "05:00:00")]
    pub day_boundary: NaiveTime,
    pub schedule: Schedule,
    #[schema(value_type = String, example = "Mon")]
    pub week_start: Weekday,
    /// 法定休日 (Japan): the weekly legal holiday.
    #[schema(value_type = String, example = "Sun")]
    pub legal_holiday: Weekday,
    pub pairing: Pairing,
    #[serde(default)]
    pub rounding: Rounding,
    /// Top punched breaks up to the statutory minimum (over 6 h → 45 min, over 8 h → 60 min).
    #[serde(default)]
    pub auto_break: bool,
    /// First month of the 36協定 year (1 to 12).
    pub agreement_year_start_month: u32,
    /// How working time is counted (standard, exempt manager, 1-month variable, China's
    /// comprehensive or flexible systems).
    #[serde(default)]
    pub system: WorkingTimeSystem,
    /// The statutory week: 40 h, or 44 h at a 特例措置対象事業場 (労基則25条の2: commerce,
    /// cinemas, health care and hospitality with under 10 workers).
    #[serde(default = "forty")]
    pub weekly_limit_hours: u32,
    /// Lateness and early leave of up to this many minutes are not counted; beyond it they are
    /// counted in full. Worked time is never shortened by it.
    #[serde(default)]
    pub grace_minutes: u32,
    /// China: rest-day work is paid at 200 % (`pay`) or given back as 补休 (`compensatory_leave`,
    /// 劳动法44条2项: then no premium is owed).
    #[serde(default)]
    pub cn_rest_day_work: RestDayWork,
    /// China: whether rest-day and holiday work count toward the 36-hour monthly cap (劳动法41条
    /// speaks of 延长工作时间; local practice differs, so the company decides; on by default).
    #[serde(default = "yes")]
    pub cn_cap_counts_rest_days: bool,
    /// Lay the jurisdiction's national calendar (国民の祝日 / 法定节假日 and 调休) under the
    /// organisation's own days. Off for companies that work on national holidays.
    #[serde(default = "yes")]
    pub national_holidays: bool,
    /// The settlement period in months: フレックスタイム制's 清算期間 (1 to 3, 労基法32条の3),
    /// the 対象期間 of the 1-year variable system (2 to 12, 32条の4) or China's comprehensive
    /// period (1, 3 or 12 usually). Periods are whole months and tile the year, so the length
    /// divides 12. Other systems settle monthly (1).
    #[serde(default = "one")]
    pub period_months: u32,
    /// The month (1 to 12) a settlement period starts (起算日 on its first day).
    #[serde(default = "april")]
    pub period_start_month: u32,
}

fn yes() -> bool {
    true
}

fn forty() -> u32 {
    40
}

fn one() -> u32 {
    1
}

fn april() -> u32 {
    4
}

/// The working-time systems companies really use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorkingTimeSystem {
    /// 8 h a day and the statutory week.
    #[default]
    Standard,
    /// 管理監督者 (労基法41条2号): the hours, breaks and rest days of the Act do not apply, so no
    /// overtime or holiday premium and no 36協定 alerts; late-night work is still owed (37条4項).
    ExemptManager,
    /// 1か月単位の変形労働時間制 (労基法32条の2): rostered days and weeks may run over 8 h and the
    /// statutory week. Overtime is counted per day beyond the roster where it exceeds 8 h (else
    /// beyond 8 h), per week likewise, then per month beyond the frame statutory week × days ÷ 7.
    MonthlyVariable,
    /// 1年単位の変形労働時間制 (労基法32条の4): a roster over a period of more than a month and at
    /// most a year (`period_months`), at most 10 h a day and 52 h a week (労基則12条の4第4項).
    /// Overtime per day and week as under the 1-month system, then at the period's end beyond
    /// the frame 40 h × days of the period ÷ 7 (the 44-hour week does not apply, 労基則25条の2第4項).
    YearlyVariable,
    /// 综合计算工时工作制 (劳部发〔1994〕503号): hours are settled over the period; work beyond the
    /// period's standard hours is paid at 150 %, statutory holidays still at 300 %. The standard is
    /// 250 working days a year × 8 h (劳社部发〔2008〕3号): 10,000 min a month, 500 h a quarter,
    /// 2,000 h a year.
    Comprehensive,
    /// 不定时工作制 (same measures): no working-day or rest-day overtime; statutory-holiday work is
    /// still recorded at 300 % where local rules require it.
    Unfixed,
}

/// What a Chinese company gives for rest-day work.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RestDayWork {
    /// 200 % pay (劳动法44条2项).
    #[default]
    Pay,
    /// 补休: time off in lieu, recorded as rest-day minutes without a premium.
    CompensatoryLeave,
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
            system: WorkingTimeSystem::Standard,
            weekly_limit_hours: 40,
            grace_minutes: 0,
            cn_rest_day_work: RestDayWork::Pay,
            cn_cap_counts_rest_days: true,
            national_holidays: true,
            period_months: 1,
            period_start_month: 4,
        }
    }

    /// Checks what the types alone cannot: ranges, and settings that only make sense together.
    pub fn check(&self) -> Result<(), String> {
        use WorkingTimeSystem as S;
        if !(1..=12).contains(&self.agreement_year_start_month) {
            return Err("agreement_year_start_month must be 1 to 12".into());
        }
        if let Schedule::Fixed { workdays, .. } = &self.schedule {
            if workdays.is_empty() {
                return Err("a fixed schedule needs at least one workday".into());
            }
        }
        if !matches!(self.weekly_limit_hours, 40 | 44) {
            return Err("weekly_limit_hours must be 40, or 44 at a 特例措置対象事業場".into());
        }
        if self.weekly_limit_hours == 44 && self.jurisdiction == Jurisdiction::China {
            return Err("weekly_limit_hours 44 exists only under Japanese law".into());
        }
        if self.grace_minutes > 60 {
            return Err("grace_minutes must be 0 to 60".into());
        }
        if self.rounding.per_day_minutes.is_some_and(|m| !(1..=60).contains(&m)) {
            return Err("rounding.per_day_minutes must be 1 to 60".into());
        }
        let japanese = matches!(self.system, S::ExemptManager | S::MonthlyVariable | S::YearlyVariable);
        let chinese = matches!(self.system, S::Comprehensive | S::Unfixed);
        if japanese && self.jurisdiction != Jurisdiction::Japan || chinese && self.jurisdiction != Jurisdiction::China {
            return Err("this working-time system belongs to the other jurisdiction's law".into());
        }
        if !(1..=12).contains(&self.period_start_month) {
            return Err("period_start_month must be 1 to 12".into());
        }
        let months = self.period_months;
        if months == 0 || 12 % months != 0 {
            return Err("period_months must divide the year: 1, 2, 3, 4, 6 or 12".into());
        }
        let flex = matches!(self.schedule, Schedule::Flex { .. });
        if flex && matches!(self.system, S::MonthlyVariable | S::YearlyVariable | S::Comprehensive) {
            return Err("flextime is a working-time system of its own: use system standard with it".into());
        }
        let allowed = match self.system {
            S::YearlyVariable => months >= 2,
            S::Comprehensive => true,
            _ if flex => months <= 3,
            _ => months == 1,
        };
        if !allowed {
            return Err(match self.system {
                S::YearlyVariable => "yearly_variable needs period_months of 2 or more (up to 12)",
                _ if flex => "a flextime settlement period is 1 to 3 months",
                _ => "period_months other than 1 needs flextime, yearly_variable or comprehensive",
            }
            .into());
        }
        if self.weekly_limit_hours == 44 && (self.system == S::YearlyVariable || flex && months > 1) {
            return Err("the 44-hour week does not apply to yearly_variable or flextime over one month".into());
        }
        Ok(())
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
    /// A working day on what would be a day off (China's 调休 make-up working day; in Japan a
    /// 法定休日 swapped away in advance, 振替休日の事前指定).
    Workday,
    /// Japan: the day a 法定休日 was swapped to in advance (振替): work on it is legal-holiday
    /// work, and the weekday it replaces is ordinary.
    LegalHoliday,
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
                let weekly = date.weekday() == rule.legal_holiday && entry != Some(CalendarKind::Workday);
                if weekly || entry == Some(CalendarKind::LegalHoliday) {
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
                Some(CalendarKind::Company | CalendarKind::LegalHoliday) => DayKind::RestDay,
                Some(CalendarKind::Workday) => DayKind::Workday,
                None if scheduled => DayKind::Workday,
                None => DayKind::RestDay,
            },
        }
    }
}
