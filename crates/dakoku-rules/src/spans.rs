//! Arithmetic on lists of spans of instants (at work, on break, late night, legal holiday):
//! what the day computation intersects and cuts.

use chrono::{DateTime, Duration, Utc};

/// Total length of the parts of `a` that lie inside `b` (both lists of disjoint spans).
pub(crate) fn overlap(a: &[(DateTime<Utc>, DateTime<Utc>)], b: &[(DateTime<Utc>, DateTime<Utc>)]) -> Duration {
    let mut total = Duration::zero();
    for (s1, e1) in a {
        for (s2, e2) in b {
            let start = (*s1).max(*s2);
            let end = (*e1).min(*e2);
            if end > start {
                total += end - start;
            }
        }
    }
    total
}

/// Cuts the parts of `spans` that `holes` cover.
pub(crate) fn subtract(
    spans: &[(DateTime<Utc>, DateTime<Utc>)],
    holes: &[(DateTime<Utc>, DateTime<Utc>)],
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut out = spans.to_vec();
    for (hs, he) in holes {
        let mut next = Vec::new();
        for (s, e) in out {
            if *he <= s || *hs >= e {
                next.push((s, e));
                continue;
            }
            if *hs > s {
                next.push((s, *hs));
            }
            if *he < e {
                next.push((*he, e));
            }
        }
        out = next;
    }
    out
}

pub(crate) fn clip(
    spans: &[(DateTime<Utc>, DateTime<Utc>)],
    within: &[(DateTime<Utc>, DateTime<Utc>)],
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut out = Vec::new();
    for (s1, e1) in spans {
        for (s2, e2) in within {
            let start = (*s1).max(*s2);
            let end = (*e1).min(*e2);
            if end > start {
                out.push((start, end));
            }
        }
    }
    out
}
