//! Where the service reads the time. `serve` runs on the system clock; tests set the clock to
//! the moment they need (a month's end, a leave year's turn) instead of waiting or back-dating
//! data.

use chrono::{DateTime, Duration, Utc};
use std::sync::{Arc, RwLock};

/// The current instant: the system's, or a fixed one that tests set and move. Clones share
/// the setting, so a test moving its clock moves the service's.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    fixed: Arc<RwLock<Option<DateTime<Utc>>>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that stands at `at` until it is moved.
    pub fn fixed(at: DateTime<Utc>) -> Self {
        Self { fixed: Arc::new(RwLock::new(Some(at))) }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self.fixed.read() {
            Ok(fixed) => fixed.unwrap_or_else(Utc::now),
            Err(poisoned) => poisoned.into_inner().unwrap_or_else(Utc::now),
        }
    }

    /// Stands the clock at `at` (a system clock becomes a fixed one).
    pub fn set(&self, at: DateTime<Utc>) {
        match self.fixed.write() {
            Ok(mut fixed) => *fixed = Some(at),
            Err(poisoned) => *poisoned.into_inner() = Some(at),
        }
    }

    /// Moves the clock forward (or back, with a negative span) from where it stands now.
    pub fn advance(&self, by: Duration) {
        self.set(self.now() + by);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_stands_still_and_moves_for_every_clone() {
        let at = DateTime::parse_from_rfc3339("2026-10-31T15:00:00Z").expect("instant").with_timezone(&Utc);
        let clock = Clock::fixed(at);
        let shared = clock.clone();
        assert_eq!(clock.now(), at);
        shared.advance(Duration::hours(9));
        assert_eq!(clock.now(), at + Duration::hours(9));
        let system = Clock::system();
        assert!((system.now() - Utc::now()).num_seconds().abs() < 5);
    }
}
