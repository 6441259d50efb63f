//! Attendance both ways. Pull: DingTalk's punch results (`attendance/list`: at most 50 users
//! and 7 working days per query, 50 rows a page, `hasMore`) become `dingtalk` punches keyed by
//! DingTalk's record id; results other than Normal (Late, Early, SeriousLate, Absenteeism,
//! Outside) are kept in the note, and the rows of a slot nobody punched (NotSigned) are no
//! punch. Push: a punch made in dakoku is uploaded as a raw record
//! (`topapi/attendance/record/upload`, one per call). DingTalk has no idempotency key, so a
//! retried upload first looks for the record (`attendance/listRecord`) and uploads only if it
//! is not there: each punch reaches DingTalk once, even when an instance died mid-call.

use super::api::{Credentials, DingTalk, Payload};
use crate::error::ApiError;
use crate::records::{PullReport, Records};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use dakoku_domain::{Location, PunchKind};
use dakoku_service::integrations::OpenIntegration;
use dakoku_service::platform_punches::{ExternalPunch, PullRequest, PushRequest};
use dakoku_service::{Service, ServiceError};
use dakoku_worker::BoxFuture;
use serde_json::{json, Value};

pub const USERS_PER_CALL: usize = 50;
pub const DAYS_PER_CALL: i64 = 7;
pub const ROWS_PER_PAGE: i64 = 50;
/// How dakoku's uploads name their device.
const DEVICE: &str = "dakoku";

/// A number DingTalk may send as a number or as a string.
fn number(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A DingTalk result row as a punch, or `None` for rows that are not punches.
pub fn to_punch(row: &Value) -> Option<ExternalPunch> {
    let text = |name: &str| row.get(name).and_then(Value::as_str).unwrap_or_default();
    let kind = match text("checkType") {
        "OnDuty" => PunchKind::ClockIn,
        "OffDuty" => PunchKind::ClockOut,
        _ => return None,
    };
    if text("timeResult") == "NotSigned" || text("sourceType") == "SYSTEM" {
        return None;
    }
    let user = text("userId");
    let at = Utc.timestamp_millis_opt(number(row.get("userCheckTime"))?).single()?;
    let id = number(row.get("recordId")).or_else(|| number(row.get("id")))?;
    if user.is_empty() {
        return None;
    }
    let flags: Vec<&str> =
        [text("timeResult"), text("locationResult")].into_iter().filter(|r| !r.is_empty() && *r != "Normal").collect();
    let note = (!flags.is_empty()).then(|| format!("DingTalk: {}", flags.join(", ")));
    let location =
        match (row.get("userLatitude").and_then(Value::as_f64), row.get("userLongitude").and_then(Value::as_f64)) {
            (Some(latitude), Some(longitude)) => Some(Location {
                latitude: Some(latitude),
                longitude: Some(longitude),
                label: row.get("userAddress").and_then(Value::as_str).map(str::to_owned),
            }),
            _ => None,
        };
    Some(ExternalPunch { user_id: user.to_owned(), kind, at, record_id: format!("record:{id}"), note, location })
}

/// The working days of [from, to) in DingTalk's zone, cut into spans of at most 7 days
/// (both ends inclusive, as `workDateFrom` / `workDateTo` take them).
pub fn day_windows(from: DateTime<Utc>, to: DateTime<Utc>, zone: chrono_tz::Tz) -> Vec<(NaiveDate, NaiveDate)> {
    if from >= to {
        return Vec::new();
    }
    let first = from.with_timezone(&zone).date_naive();
    let last = (to - Duration::milliseconds(1)).with_timezone(&zone).date_naive();
    let mut spans = Vec::new();
    let mut start = first;
    while start <= last {
        let end = (start + Duration::days(DAYS_PER_CALL - 1)).min(last);
        spans.push((start, end));
        start = end + Duration::days(1);
    }
    spans
}

fn day_text(date: NaiveDate) -> String {
    format!("{} 00:00:00", date.format("%Y-%m-%d"))
}

impl DingTalk {
    /// Pulls the linked members' (or the request's) punch results of the range into the ledger.
    pub async fn pull_attendance(
        &self,
        service: &Service,
        integration: &OpenIntegration,
        request: &PullRequest,
    ) -> Result<PullReport, ApiError> {
        let creds = Credentials::of(integration)?;
        let store = |e: ServiceError| ApiError::Unavailable(format!("store: {e}"));
        let users = service.linked_users(integration, request.users.as_deref()).await.map_err(store)?;
        let mut report = PullReport::default();
        for chunk in users.chunks(USERS_PER_CALL) {
            for (first, last) in day_windows(request.from, request.to, creds.timezone) {
                let mut offset = 0;
                loop {
                    let body = json!({
                        "workDateFrom": day_text(first),
                        "workDateTo": day_text(last),
                        "userIdList": chunk,
                        "offset": offset,
                        "limit": ROWS_PER_PAGE,
                    });
                    let answer = self
                        .call(service, &integration.stored.id, &creds, "/attendance/list", Payload::Json(&body))
                        .await?;
                    report.calls += 1;
                    let rows = answer.get("recordresult").and_then(Value::as_array);
                    let punches: Vec<ExternalPunch> = rows
                        .map(|rows| rows.iter().filter_map(to_punch).collect::<Vec<_>>())
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|p| p.at >= request.from && p.at < request.to)
                        .collect();
                    let summary = service.import_platform_punches(integration, punches).await.map_err(store)?;
                    report.summary.add(&summary);
                    let more = answer.get("hasMore").and_then(Value::as_bool).unwrap_or(false);
                    if !more || rows.is_none_or(Vec::is_empty) {
                        break;
                    }
                    offset += ROWS_PER_PAGE;
                }
            }
        }
        Ok(report)
    }

    /// Whether DingTalk already holds a raw record of this user at this instant.
    async fn has_record(
        &self,
        service: &Service,
        integration: &OpenIntegration,
        creds: &Credentials,
        user: &str,
        at_ms: i64,
    ) -> Result<bool, ApiError> {
        let at = Utc
            .timestamp_millis_opt(at_ms)
            .single()
            .ok_or_else(|| ApiError::Setup("punch time out of range".into()))?;
        let local = |t: DateTime<Utc>| t.with_timezone(&creds.timezone).format("%Y-%m-%d %H:%M:%S").to_string();
        let body = json!({
            "userIds": [user],
            "checkDateFrom": local(at - Duration::seconds(1)),
            "checkDateTo": local(at + Duration::seconds(1)),
            "isI18n": false,
        });
        let answer =
            self.call(service, &integration.stored.id, creds, "/attendance/listRecord", Payload::Json(&body)).await?;
        let rows = answer.get("recordresult").and_then(Value::as_array).cloned().unwrap_or_default();
        Ok(rows.iter().any(|r| number(r.get("userCheckTime")) == Some(at_ms)))
    }
}

impl Records for DingTalk {
    fn pull_kind(&self) -> dakoku_domain::JobKind {
        dakoku_domain::JobKind::DingTalkPull
    }

    fn push_kind(&self) -> dakoku_domain::JobKind {
        dakoku_domain::JobKind::DingTalkPush
    }

    fn pull<'a>(
        &'a self,
        service: &'a Service,
        integration: &'a OpenIntegration,
        request: &'a PullRequest,
    ) -> BoxFuture<'a, Result<PullReport, ApiError>> {
        Box::pin(self.pull_attendance(service, integration, request))
    }

    fn push<'a>(
        &'a self,
        service: &'a Service,
        integration: &'a OpenIntegration,
        request: &'a PushRequest,
        retried: bool,
    ) -> BoxFuture<'a, Result<(), ApiError>> {
        Box::pin(async move {
            let creds = Credentials::of(integration)?;
            let at_ms = request.at.timestamp_millis();
            if retried && self.has_record(service, integration, &creds, &request.user_id, at_ms).await? {
                return Ok(());
            }
            let body = json!({
                "userid": request.user_id,
                "device_name": DEVICE,
                "device_id": DEVICE,
                "user_check_time": at_ms,
            });
            let path = "/topapi/attendance/record/upload";
            self.call(service, &integration.stored.id, &creds, path, Payload::Json(&body)).await.map(|_| ())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_rows_become_punches() {
        let late = json!({"id": 1, "recordId": 77, "userId": "u1", "checkType": "OnDuty", "timeResult": "Late", "locationResult": "Normal", "userCheckTime": 1_700_000_000_000_i64, "sourceType": "USER"});
        let punch = to_punch(&late).expect("a punch");
        assert_eq!((punch.kind, punch.record_id.as_str()), (PunchKind::ClockIn, "record:77"));
        assert_eq!(punch.note.as_deref(), Some("DingTalk: Late"));
        let outside = json!({"recordId": "78", "userId": "u1", "checkType": "OffDuty", "timeResult": "Normal", "locationResult": "Outside", "userCheckTime": "1700030000000"});
        assert_eq!(to_punch(&outside).and_then(|p| p.note).as_deref(), Some("DingTalk: Outside"));
        let missed = json!({"id": 2, "userId": "u1", "checkType": "OnDuty", "timeResult": "NotSigned", "locationResult": "NotSigned", "sourceType": "SYSTEM", "baseCheckTime": 1_700_000_000_000_i64});
        assert!(to_punch(&missed).is_none());
        assert!(to_punch(&json!({"checkType": "OnDuty"})).is_none());
    }

    #[test]
    fn windows_are_seven_local_days_at_most() {
        let zone = chrono_tz::Asia::Shanghai;
        // October 2026 in Shanghai: 31 days, in spans of 7.
        let from = zone.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).single().expect("from").with_timezone(&Utc);
        let to = zone.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).single().expect("to").with_timezone(&Utc);
        let spans = day_windows(from, to, zone);
        assert_eq!(spans.len(), 5);
        assert_eq!(
            spans[0],
            (NaiveDate::from_ymd_opt(2026, 10, 1).expect("d"), NaiveDate::from_ymd_opt(2026, 10, 7).expect("d"))
        );
        assert_eq!(spans[4].1, NaiveDate::from_ymd_opt(2026, 10, 31).expect("d"));
        assert!(day_windows(to, to, zone).is_empty());
    }
}
