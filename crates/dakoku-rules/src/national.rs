//! National calendars, so nobody types holidays by hand: Japan's 国民の祝日 computed from the law
//! for any year from 1980 to 2099, and China's 法定节假日 with their 调休 days as the State
//! Council announced them, year by year (they cannot be computed). An organisation's own days
//! are laid over these.

use crate::rule::{CalendarEntry, CalendarKind, Jurisdiction};
use chrono::{Datelike, Duration, NaiveDate, Weekday};
use std::collections::BTreeMap;

/// The years Japan's calendar is computed for: the equinox formula below agrees with the
/// Cabinet Office's notices from 1980 to 2099.
pub const JAPAN_YEARS: std::ops::RangeInclusive<i32> = 1980..=2099;

/// 国民の祝日に関する法律 as amended over the years, for one year: the holidays it names, then
/// 振替休日 (3条2項) and 国民の休日 (3条3項), with the Cabinet Office's names.
pub fn japan_holidays(year: i32) -> Vec<(NaiveDate, String)> {
    if !JAPAN_YEARS.contains(&year) {
        return Vec::new();
    }
    let mut named: BTreeMap<NaiveDate, &'static str> = BTreeMap::new();
    let mut add = |month: u32, day: u32, name: &'static str| {
        if let Some(date) = NaiveDate::from_ymd_opt(year, month, day) {
            named.insert(date, name);
        }
    };
    add(1, 1, "元日");
    if year < 2000 {
        add(1, 15, "成人の日");
    } else {
        add(1, nth_monday(year, 1, 2), "成人の日");
    }
    add(2, 11, "建国記念の日");
    match year {
        ..=1988 => add(4, 29, "天皇誕生日"),
        1989..=2018 => add(12, 23, "天皇誕生日"),
        2019 => {}
        _ => add(2, 23, "天皇誕生日"),
    }
    add(3, vernal_equinox(year), "春分の日");
    match year {
        1989..=2006 => add(4, 29, "みどりの日"),
        2007.. => add(4, 29, "昭和の日"),
        _ => {}
    }
    add(5, 3, "憲法記念日");
    if year >= 2007 {
        add(5, 4, "みどりの日");
    }
    add(5, 5, "こどもの日");
    match year {
        1996..=2002 => add(7, 20, "海の日"),
        // 平成32年東京オリンピック特別措置法 and its 2020 amendment moved three holidays.
        2020 => add(7, 23, "海の日"),
        2021 => add(7, 22, "海の日"),
        2003.. => add(7, nth_monday(year, 7, 3), "海の日"),
        _ => {}
    }
    match year {
        2020 => add(8, 10, "山の日"),
        2021 => add(8, 8, "山の日"),
        2016.. => add(8, 11, "山の日"),
        _ => {}
    }
    if year < 2003 {
        add(9, 15, "敬老の日");
    } else {
        add(9, nth_monday(year, 9, 3), "敬老の日");
    }
    add(9, autumnal_equinox(year), "秋分の日");
    match year {
        ..=1999 => add(10, 10, "体育の日"),
        2000..=2018 => add(10, nth_monday(year, 10, 2), "体育の日"),
        // Renamed by the 2018 amendment, in force from 2020; the 2019 list already shows both.
        2019 => add(10, nth_monday(year, 10, 2), "体育の日（スポーツの日）"),
        2020 => add(7, 24, "スポーツの日"),
        2021 => add(7, 23, "スポーツの日"),
        _ => add(10, nth_monday(year, 10, 2), "スポーツの日"),
    }
    add(11, 3, "文化の日");
    add(11, 23, "勤労感謝の日");
    // Days the Diet made holidays once, by their own laws.
    match year {
        1989 => add(2, 24, "大喪の礼"),
        1990 => add(11, 12, "即位礼正殿の儀"),
        1993 => add(6, 9, "結婚の儀"),
        2019 => {
            add(5, 1, "休日（祝日扱い）");
            add(10, 22, "休日（祝日扱い）");
        }
        _ => {}
    }

    let mut days: BTreeMap<NaiveDate, String> = named.iter().map(|(d, n)| (*d, (*n).to_owned())).collect();
    // 振替休日: a holiday on a Sunday gives the next day off; from 2007 the next day that is
    // not itself a holiday.
    for (date, name) in named.iter().filter(|(d, _)| d.weekday() == Weekday::Sun) {
        let mut next = *date + Duration::days(1);
        while year >= 2007 && named.contains_key(&next) {
            next += Duration::days(1);
        }
        if !named.contains_key(&next) {
            days.insert(next, format!("{name} 振替休日"));
        }
    }
    // 国民の休日: a day between two 国民の祝日 is a holiday (from 1986; until 2006 not a Sunday).
    if year >= 1986 {
        for date in named.keys() {
            let between = *date + Duration::days(1);
            let sunday_excluded = year < 2007 && between.weekday() == Weekday::Sun;
            if named.contains_key(&(between + Duration::days(1))) && !days.contains_key(&between) && !sunday_excluded {
                days.insert(between, "休日".to_owned());
            }
        }
    }
    days.into_iter().filter(|(d, _)| d.year() == year).collect()
}

/// The day of the `nth` Monday of a month (Happy Monday, 2000 and 2003 amendments).
fn nth_monday(year: i32, month: u32, nth: u32) -> u32 {
    NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Mon, nth as u8).map_or(1, |d| d.day())
}

/// 春分日: the day the Cabinet Office fixes from the equinox; this approximation of the
/// astronomical date agrees with its notices for 1980–2099.
fn vernal_equinox(year: i32) -> u32 {
    equinox_day(year, 20.8431)
}

fn autumnal_equinox(year: i32) -> u32 {
    equinox_day(year, 23.2488)
}

fn equinox_day(year: i32, base: f64) -> u32 {
    let since = f64::from(year - 1980);
    (base + 0.242194 * since - (since / 4.0).floor()).floor() as u32
}

/// One day of China's calendar data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChinaDay {
    pub date: NaiveDate,
    pub kind: CalendarKind,
    pub name: String,
}

/// China's days of every year shipped (`data/china_holidays.csv`): statutory holidays,
/// weekdays made rest days and weekend days made working days.
pub fn china_days() -> &'static [ChinaDay] {
    static DAYS: std::sync::OnceLock<Vec<ChinaDay>> = std::sync::OnceLock::new();
    DAYS.get_or_init(|| {
        include_str!("../data/china_holidays.csv")
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .filter_map(|line| {
                let mut fields = line.split(',');
                let date = NaiveDate::parse_from_str(fields.next()?, "%Y-%m-%d").ok()?;
                let kind = match fields.next()? {
                    "statutory" => CalendarKind::Statutory,
                    "rest" => CalendarKind::Company,
                    "workday" => CalendarKind::Workday,
                    _ => return None,
                };
                Some(ChinaDay { date, kind, name: fields.next()?.to_owned() })
            })
            .collect()
    })
}

/// The years China's data covers.
pub fn china_years() -> Vec<i32> {
    let mut years: Vec<i32> = china_days().iter().map(|d| d.date.year()).collect();
    years.dedup();
    years
}

/// The national days of a jurisdiction between two dates, as calendar entries: Japan's holidays
/// are days off (`statutory`, counted like other company days off; the weekly 法定休日 is the
/// rule's), China's keep their three kinds.
pub fn national_calendar(
    jurisdiction: Jurisdiction,
    from: NaiveDate,
    to: NaiveDate,
) -> BTreeMap<NaiveDate, CalendarEntry> {
    let mut entries = BTreeMap::new();
    match jurisdiction {
        Jurisdiction::Japan => {
            for year in from.year()..=to.year() {
                for (date, name) in japan_holidays(year) {
                    entries.insert(date, CalendarEntry { kind: CalendarKind::Statutory, name });
                }
            }
        }
        Jurisdiction::China => {
            for day in china_days() {
                entries.insert(day.date, CalendarEntry { kind: day.kind, name: day.name.clone() });
            }
        }
    }
    entries.retain(|date, _| (from..=to).contains(date));
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Vec<Vec<&str>> {
        text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).map(|l| l.split(',').collect()).collect()
    }

    /// Every year from 1980 to 2027 exactly as the Cabinet Office lists it (syukujitsu.csv,
    /// shipped as test data from the PyPI package holiday-jp, which agrees with PyPI holidays).
    #[test]
    fn japan_matches_the_cabinet_office_list() {
        let listed = rows(include_str!("../testdata/jp_cabinet_office.csv"));
        let mut expected: BTreeMap<i32, Vec<(NaiveDate, String)>> = BTreeMap::new();
        for row in &listed {
            let date = NaiveDate::parse_from_str(row[0], "%Y-%m-%d").expect("date");
            expected.entry(date.year()).or_default().push((date, row[1].to_owned()));
        }
        assert_eq!(expected.keys().copied().collect::<Vec<_>>(), (1980..=2027).collect::<Vec<_>>());
        // The list names a substitute day after one holiday or another (2008: こどもの日, 2020:
        // 憲法記念日 for the same kind of May); only "振替休日" itself is compared there.
        let label =
            |name: &str| if name.ends_with("振替休日") { "振替休日".to_owned() } else { name.to_owned() };
        for (year, days) in expected {
            let ours: Vec<_> = japan_holidays(year).into_iter().map(|(d, n)| (d, label(&n))).collect();
            let listed: Vec<_> = days.into_iter().map(|(d, n)| (d, label(&n))).collect();
            assert_eq!(ours, listed, "{year}");
        }
    }

    #[test]
    fn japan_later_years_keep_the_laws_shape() {
        for year in 2028..=2099 {
            let days = japan_holidays(year);
            assert!((16..=21).contains(&days.len()), "{year}: {} days", days.len());
            let equinoxes: Vec<_> =
                days.iter().filter(|(_, n)| n.ends_with("分の日")).map(|(d, _)| (d.month(), d.day())).collect();
            assert!(
                matches!(equinoxes[0], (3, 19..=21)) && matches!(equinoxes[1], (9, 22..=24)),
                "{year}: {equinoxes:?}"
            );
        }
        assert!(japan_holidays(1979).is_empty() && japan_holidays(2100).is_empty());
    }

    /// Each shipped year as two independent PyPI packages transcribe the State Council's notices:
    /// the statutory days, every day off of the holiday blocks and the make-up working days.
    #[test]
    fn china_matches_the_notices_for_each_year_shipped() {
        let independent = rows(include_str!("../testdata/cn_independent.csv"));
        let of = |kind: &str| -> Vec<NaiveDate> {
            independent
                .iter()
                .filter(|r| r[1] == kind)
                .map(|r| NaiveDate::parse_from_str(r[0], "%Y-%m-%d").expect("date"))
                .collect()
        };
        let ours = |kind: CalendarKind| -> Vec<NaiveDate> {
            china_days().iter().filter(|d| d.kind == kind).map(|d| d.date).collect()
        };
        assert_eq!(ours(CalendarKind::Statutory), of("statutory"));
        assert_eq!(ours(CalendarKind::Workday), of("workday"));
        // A day off is a statutory day, a weekday made a rest day, or a weekend inside the block.
        for off in of("off") {
            let weekend = matches!(off.weekday(), Weekday::Sat | Weekday::Sun);
            let listed = china_days().iter().any(|d| d.date == off && d.kind != CalendarKind::Workday);
            assert!(weekend || listed, "{off} is a day off in the notice");
        }
        assert_eq!(china_years(), (2021..=2026).collect::<Vec<_>>());
        // 13 statutory days from 2025 (State Council decision of 2024-11-12), 11 before.
        for year in china_years() {
            let statutory =
                china_days().iter().filter(|d| d.date.year() == year && d.kind == CalendarKind::Statutory).count();
            assert_eq!(statutory, if year >= 2025 { 13 } else { 11 }, "{year}");
        }
    }
}
