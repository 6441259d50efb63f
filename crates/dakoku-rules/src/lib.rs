//! The labour-rule engine. Everything here is a pure function of its arguments: the punches
//! of a period, the work rule in force, the calendar and, where it matters, "now". The
//! ledger stays the source of truth; day records and month totals are derived and can be
//! recomputed at any time.
//!
//! Minutes fall into exclusive classes (regular, overtime, holiday work) whose sum is the
//! worked time; late-night minutes are an additional premium that overlaps them.

mod day;
pub mod leave;
mod month;
pub mod national;
mod rule;
mod spans;

pub use day::{
    affected_days, attribute_punches, compute_days, day_plan, local_instant, punch_margin, week_start, work_date,
    Anomaly, DayInput, DayRecord, Plan, PunchEvent, MAX_WORK_PERIOD_HOURS,
};
pub use month::{settlement_period, summarize_month, Alert, MonthHistory, MonthSummary, Premiums, Totals, Unrounded};
pub use rule::{
    Calendar, CalendarEntry, CalendarKind, DayKind, Jurisdiction, Pairing, RestDayWork, Rounding, Schedule, ShiftDef,
    TimeRange, WorkRule, WorkingTimeSystem,
};
