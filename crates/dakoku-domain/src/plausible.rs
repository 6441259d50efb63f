//! The span of dates dakoku accepts from anyone: 2000-01-01 to 2100-12-31. Attendance outside
//! it is a typo or an attack (year 0, 9999, a leap second), never a record; refusing it at the
//! edge keeps both backends and every date computation inside ordinary ranges.
//!
//! The `serde` functions are for request fields: `#[serde(deserialize_with = "...")]`.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Timelike};
use serde::{Deserialize, Deserializer};

pub const FIRST_YEAR: i32 = 2000;
pub const LAST_YEAR: i32 = 2100;

/// What a refused value is told.
pub fn range_text() -> String {
    format!("must be between {FIRST_YEAR}-01-01 and {LAST_YEAR}-12-31")
}

pub fn is_plausible_date(date: NaiveDate) -> bool {
    (FIRST_YEAR..=LAST_YEAR).contains(&date.year())
}

/// An instant within the span, and not a leap second (`23:59:60`), which chrono accepts as
/// a second of 1,000 ms or more and nothing else in dakoku expects.
pub fn is_plausible_instant(at: &DateTime<FixedOffset>) -> bool {
    is_plausible_date(at.naive_utc().date())
        && is_plausible_date(at.naive_local().date())
        && at.nanosecond() < 1_000_000_000
}

fn refused<E: serde::de::Error>(what: &str) -> E {
    E::custom(format!("{what} {}", range_text()))
}

pub fn date<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    let date = NaiveDate::deserialize(d)?;
    if is_plausible_date(date) {
        Ok(date)
    } else {
        Err(refused("a date"))
    }
}

pub fn optional_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    match Option::<NaiveDate>::deserialize(d)? {
        Some(date) if !is_plausible_date(date) => Err(refused("a date")),
        other => Ok(other),
    }
}

pub fn instant<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<FixedOffset>, D::Error> {
    let at = DateTime::<FixedOffset>::deserialize(d)?;
    if is_plausible_instant(&at) {
        Ok(at)
    } else {
        Err(refused("a time"))
    }
}

pub fn optional_instant<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<FixedOffset>>, D::Error> {
    match Option::<DateTime<FixedOffset>>::deserialize(d)? {
        Some(at) if !is_plausible_instant(&at) => Err(refused("a time")),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct At {
        #[serde(deserialize_with = "instant")]
        #[allow(dead_code)]
        at: DateTime<FixedOffset>,
    }

    #[derive(Deserialize)]
    struct On {
        #[serde(default, deserialize_with = "optional_date")]
        #[allow(dead_code)]
        on: Option<NaiveDate>,
    }

    /// Finding 10 of the hardening review: year 0, negative years, 9999 and 23:59:60 were stored.
    #[test]
    fn implausible_dates_and_leap_seconds_are_refused() {
        let at = |text: &str| serde_json::from_str::<At>(&format!(r#"{{"at": "{text}"}}"#)).is_ok();
        assert!(at("2026-12-02T09:00:00+09:00"));
        assert!(at("2000-01-01T00:00:00Z"));
        for bad in [
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "1999-12-31T23:59:59Z",
            "2026-12-31T23:59:60Z",
            "2101-01-01T00:00:00+09:00",
        ] {
            assert!(!at(bad), "{bad}");
        }
        let on = |text: &str| serde_json::from_str::<On>(text).is_ok();
        assert!(on(r#"{"on": "2026-12-02"}"#));
        assert!(on("{}"));
        assert!(!on(r#"{"on": "+10000-01-01"}"#));
        assert!(!on(r#"{"on": "-0001-01-01"}"#));
        assert!(!on(r#"{"on": "2101-01-01"}"#));
    }
}
