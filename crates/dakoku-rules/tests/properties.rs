//! Invariants of the rule engine on random punch sequences.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use dakoku_domain::PunchKind;
use dakoku_rules::{
    compute_days, Calendar, CalendarEntry, CalendarKind, DayRecord, Pairing, PunchEvent, Schedule, WorkRule,
    WorkingTimeSystem,
};
use proptest::prelude::*;
use std::collections::BTreeMap;

const KINDS: [PunchKind; 4] = [PunchKind::ClockIn, PunchKind::ClockOut, PunchKind::BreakStart, PunchKind::BreakEnd];

fn month_start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 10, 1).expect("date")
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).single().expect("instant")
}

/// Punches as (minutes after 2026-09-28 00:00 Tokyo, kind), within five weeks.
fn punches() -> impl Strategy<Value = Vec<(i64, usize)>> {
    prop::collection::vec((0i64..(35 * 24 * 60), 0usize..4), 0..60)
}

fn events(raw: &[(i64, usize)]) -> Vec<PunchEvent> {
    let origin =
        chrono_tz::Asia::Tokyo.with_ymd_and_hms(2026, 9, 28, 0, 0, 0).single().expect("origin").with_timezone(&Utc);
    let mut out: Vec<PunchEvent> = raw
        .iter()
        .enumerate()
        .map(|(i, (minute, kind))| PunchEvent {
            id: format!("p{i:03}"),
            kind: KINDS[*kind],
            at: origin + Duration::minutes(*minute),
        })
        .collect();
    out.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
    out
}

fn rules() -> impl Strategy<Value = WorkRule> {
    let systems = [
        WorkingTimeSystem::Standard,
        WorkingTimeSystem::ExemptManager,
        WorkingTimeSystem::MonthlyVariable,
        WorkingTimeSystem::YearlyVariable,
        WorkingTimeSystem::Comprehensive,
        WorkingTimeSystem::Unfixed,
    ];
    (any::<bool>(), any::<bool>(), any::<bool>(), 0u32..3, 0u32..24, prop::sample::select(systems.to_vec()), 0u32..10)
        .prop_map(|(china, each_pair, auto_break, schedule, boundary, system, grace)| {
            let mut rule = if china {
                WorkRule::china_default(chrono_tz::Asia::Tokyo)
            } else {
                WorkRule::japan_default(chrono_tz::Asia::Tokyo)
            };
            rule.pairing = if each_pair { Pairing::EachPair } else { Pairing::FirstInLastOut };
            rule.auto_break = auto_break;
            rule.day_boundary = chrono::NaiveTime::from_hms_opt(boundary, 0, 0).expect("time");
            rule.system = system;
            rule.grace_minutes = grace;
            if system == WorkingTimeSystem::YearlyVariable {
                rule.period_months = 12;
            }
            if schedule == 1 {
                rule.schedule =
                    Schedule::Flex { core: None, workdays: vec![chrono::Weekday::Mon, chrono::Weekday::Tue] };
                rule.period_months = 3;
            }
            rule
        })
}

fn calendar() -> Calendar {
    let mut c = Calendar::default();
    for (day, kind) in [(12, CalendarKind::Statutory), (14, CalendarKind::Company), (17, CalendarKind::Workday)] {
        c.entries
            .insert(NaiveDate::from_ymd_opt(2026, 10, day).expect("date"), CalendarEntry { kind, name: String::new() });
    }
    c
}

fn month(rule: &WorkRule, punches: &[PunchEvent]) -> Vec<DayRecord> {
    compute_days(
        rule,
        &calendar(),
        &BTreeMap::new(),
        punches,
        month_start(),
        NaiveDate::from_ymd_opt(2026, 10, 31).expect("date"),
        now(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn worked_is_in_office_minus_breaks(rule in rules(), raw in punches()) {
        for day in month(&rule, &events(&raw)) {
            prop_assert_eq!(day.worked_minutes + day.break_minutes, day.in_office_minutes, "{:?}", day.explanation);
            prop_assert!(day.worked_minutes >= 0 && day.break_minutes >= 0);
        }
    }

    #[test]
    fn no_minute_is_in_two_exclusive_classes(rule in rules(), raw in punches()) {
        for day in month(&rule, &events(&raw)) {
            prop_assert!(day.overtime_minutes >= 0 && day.holiday_minutes >= 0);
            prop_assert!(day.regular_minutes() >= 0, "regular + overtime + holiday exceeds worked: {:?}", day);
            prop_assert_eq!(day.overtime_minutes, day.daily_overtime_minutes + day.weekly_overtime_minutes);
            prop_assert!(day.late_night_minutes <= day.worked_minutes);
        }
    }

    /// The cache keeps days and, after a new punch, recomputes that day to the end of its
    /// week. Doing so must give exactly what a full recompute gives.
    #[test]
    fn recomputing_from_the_changed_day_equals_a_full_recompute(rule in rules(), raw in punches(), extra in (0i64..(35 * 24 * 60), 0usize..4)) {
        let before = month(&rule, &events(&raw));
        let mut changed_raw = raw.clone();
        changed_raw.push(extra);
        let changed = events(&changed_raw);
        let full = month(&rule, &changed);
        let added = changed.iter().find(|p| p.id == format!("p{:03}", raw.len())).expect("the new punch");
        let (day, week_end) = dakoku_rules::affected_days(&rule, added.at);
        let last = NaiveDate::from_ymd_opt(2026, 10, 31).expect("date");
        let mut spliced = before.clone();
        if day <= last && week_end >= month_start() {
            let from = day.max(month_start());
            let to = week_end.min(last);
            let partial = compute_days(&rule, &calendar(), &BTreeMap::new(), &changed, from, to, now());
            for record in partial {
                let slot = spliced.iter_mut().find(|r| r.date == record.date).expect("day of the month");
                *slot = record;
            }
        }
        prop_assert_eq!(spliced, full);
    }

    /// Whatever the day boundary, every minute between a clock-in and its clock-out is counted
    /// on exactly one day: none is lost where a shift crosses the boundary or midnight.
    #[test]
    fn no_minute_is_lost_at_the_day_boundary(
        rule in rules(),
        periods in prop::collection::vec((0i64..(24 * 60), 1i64..(24 * 60)), 1..12),
    ) {
        let mut rule = rule;
        rule.pairing = Pairing::EachPair;
        rule.auto_break = false;
        let origin = chrono_tz::Asia::Tokyo.with_ymd_and_hms(2026, 10, 2, 0, 0, 0).single().expect("origin").with_timezone(&Utc);
        let mut events = Vec::new();
        let mut at = origin;
        let mut expected = 0;
        for (i, (gap, length)) in periods.iter().enumerate() {
            at += Duration::minutes(*gap);
            // Ids in punching order: the engine orders punches of one instant by id.
            events.push(PunchEvent { id: format!("{:03}", 2 * i), kind: PunchKind::ClockIn, at });
            at += Duration::minutes(*length);
            events.push(PunchEvent { id: format!("{:03}", 2 * i + 1), kind: PunchKind::ClockOut, at });
            expected += length;
        }
        let days = month(&rule, &events);
        let counted: i64 = days.iter().map(|d| d.in_office_minutes).sum();
        let worked_and_breaks: i64 = days.iter().map(|d| d.worked_minutes + d.break_minutes).sum();
        prop_assert_eq!(counted, expected);
        prop_assert_eq!(worked_and_breaks, expected);
        prop_assert!(days.iter().all(|d| !d.anomalies.contains(&dakoku_rules::Anomaly::MissingClockOut)));
    }

    #[test]
    fn one_day_alone_equals_that_day_in_the_month(rule in rules(), raw in punches(), pick in 0usize..31) {
        let all = events(&raw);
        let full = month(&rule, &all);
        let date = month_start() + Duration::days(pick as i64);
        let alone = compute_days(&rule, &calendar(), &BTreeMap::new(), &all, date, date, now());
        prop_assert_eq!(alone.len(), 1);
        prop_assert_eq!(&alone[0], full.iter().find(|r| r.date == date).expect("day"));
    }
}
