//! Check-in import: WeCom's own punch records (`checkin/getcheckindata`, at most 100 users and
//! 30 days per call) brought into the ledger as `wecom` punches, each keyed by user, time and
//! type so that pulling a range again stores nothing twice. Exceptions WeCom flagged (时间异常,
//! 地点异常, ...) are kept in the punch's note; a record of a missed punch (未打卡) is no punch.
//! The other way, punches made in dakoku (web, API, other chats) are written into WeCom with
//! `checkin/add_checkin_record`, one job per punch; they carry a "dakoku:" note, by which a
//! later pull knows them and does not bring them back.

use super::api::{Credentials, WeCom};
use crate::error::ApiError;
use crate::records::{PullReport, Records};
use chrono::{DateTime, Duration, TimeZone, Utc};
use dakoku_domain::{Location, PunchKind};
use dakoku_service::integrations::OpenIntegration;
use dakoku_service::platform_punches::{ExternalPunch, PullRequest, PushRequest};
use dakoku_service::{Service, ServiceError};
use dakoku_worker::BoxFuture;
use serde_json::{json, Value};

/// How punches written by dakoku are marked in WeCom.
const OUR_NOTE: &str = "dakoku:";
pub const USERS_PER_CALL: usize = 100;
pub const DAYS_PER_CALL: i64 = 30;

/// A WeCom record as a punch, or `None` for records that are not punches.
pub fn to_punch(record: &Value) -> Option<ExternalPunch> {
    let user = record.get("userid")?.as_str()?.to_owned();
    let kind = match record.get("checkin_type")?.as_str()? {
        "上班打卡" => PunchKind::ClockIn,
        "下班打卡" => PunchKind::ClockOut,
        // Field punches (外出打卡) record a visit, not working time.
        _ => return None,
    };
    let exception = record.get("exception_type").and_then(Value::as_str).unwrap_or_default();
    let ours = record.get("notes").and_then(Value::as_str).is_some_and(|n| n.starts_with(OUR_NOTE));
    if exception.contains("未打卡") || ours {
        return None;
    }
    let time = record.get("checkin_time")?.as_i64()?;
    let at = Utc.timestamp_opt(time, 0).single()?;
    let place = record.get("location_title").and_then(Value::as_str).filter(|p| !p.is_empty());
    let note = match (exception.is_empty(), place) {
        (true, None) => None,
        (true, Some(p)) => Some(format!("WeCom: {p}")),
        (false, None) => Some(format!("WeCom 异常: {exception}")),
        (false, Some(p)) => Some(format!("WeCom 异常: {exception} ({p})")),
    };
    let coordinate = |name: &str| record.get(name).and_then(Value::as_i64).filter(|v| *v != 0).map(|v| v as f64 / 1e6);
    let location = match (coordinate("lat"), coordinate("lng")) {
        (Some(latitude), Some(longitude)) => {
            Some(Location { latitude: Some(latitude), longitude: Some(longitude), label: place.map(str::to_owned) })
        }
        _ => None,
    };
    let record_id = format!("checkin:{user}:{time}:{}", kind.as_str());
    Some(ExternalPunch { user_id: user, kind, at, record_id, note, location })
}

/// [from, to) cut into spans WeCom accepts in one call.
pub fn windows(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut spans = Vec::new();
    let mut start = from;
    while start < to {
        let end = (start + Duration::days(DAYS_PER_CALL)).min(to);
        spans.push((start, end));
        start = end;
    }
    spans
}

impl WeCom {
    /// Pulls every linked member's records in [from, to) into the ledger.
    pub async fn pull_checkins(
        &self,
        service: &Service,
        integration: &OpenIntegration,
        request: &PullRequest,
    ) -> Result<PullReport, ApiError> {
        let (from, to) = (request.from, request.to);
        let creds = Credentials::of(integration)?;
        let store = |e: ServiceError| ApiError::Unavailable(format!("store: {e}"));
        let users = service.linked_users(integration, request.users.as_deref()).await.map_err(store)?;
        let mut report = PullReport::default();
        for chunk in users.chunks(USERS_PER_CALL) {
            for (start, end) in windows(from, to) {
                let body = json!({
                    "opencheckindatatype": 3,
                    "starttime": start.timestamp(),
                    // Inclusive on WeCom's side: stop a second before the next window.
                    "endtime": end.timestamp() - 1,
                    "useridlist": chunk,
                });
                let answer =
                    self.call(service, &integration.stored.id, &creds, "/checkin/getcheckindata", &body).await?;
                report.calls += 1;
                let records: Vec<ExternalPunch> = answer
                    .get("checkindata")
                    .and_then(Value::as_array)
                    .map(|items| items.iter().filter_map(to_punch).collect())
                    .unwrap_or_default();
                // WeCom may answer with records outside the window: keep only what was asked.
                let records = records.into_iter().filter(|r| r.at >= start && r.at < end).collect();
                let summary = service.import_platform_punches(integration, records).await.map_err(store)?;
                report.summary.add(&summary);
            }
        }
        Ok(report)
    }
}

/// The record `add_checkin_record` takes for a punch made in dakoku.
pub fn push_record(request: &PushRequest) -> Value {
    json!({
        "userid": request.user_id,
        "checkin_time": request.at.timestamp(),
        "notes": format!("{OUR_NOTE} {} ({})", request.kind.as_str(), request.source.as_str()),
        "device_type": 3,
        "device_detail": "dakoku",
    })
}

impl Records for WeCom {
    fn pull_kind(&self) -> dakoku_domain::JobKind {
        dakoku_domain::JobKind::WeComPull
    }

    fn push_kind(&self) -> dakoku_domain::JobKind {
        dakoku_domain::JobKind::WeComPush
    }

    fn pull<'a>(
        &'a self,
        service: &'a Service,
        integration: &'a OpenIntegration,
        request: &'a PullRequest,
    ) -> BoxFuture<'a, Result<PullReport, ApiError>> {
        Box::pin(self.pull_checkins(service, integration, request))
    }

    /// WeCom drops a record identical to one it has, so a retried write is harmless.
    fn push<'a>(
        &'a self,
        service: &'a Service,
        integration: &'a OpenIntegration,
        request: &'a PushRequest,
        _retried: bool,
    ) -> BoxFuture<'a, Result<(), ApiError>> {
        Box::pin(async move {
            let creds = Credentials::of(integration)?;
            let body = json!({ "records": [push_record(request)] });
            self.call(service, &integration.stored.id, &creds, "/checkin/add_checkin_record", &body).await.map(|_| ())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_become_punches() {
        let on = json!({"userid": "zhangsan", "checkin_type": "上班打卡", "exception_type": "", "checkin_time": 1_700_000_000, "location_title": "总部", "lat": 30_547_645, "lng": 104_063_236});
        let punch = to_punch(&on).expect("a punch");
        assert_eq!(punch.kind, PunchKind::ClockIn);
        assert_eq!(punch.record_id, "checkin:zhangsan:1700000000:clock_in");
        assert_eq!(punch.location.and_then(|l| l.latitude), Some(30.547645));
        let late = json!({"userid": "a", "checkin_type": "下班打卡", "exception_type": "地点异常", "checkin_time": 1_700_000_000});
        assert_eq!(to_punch(&late).and_then(|p| p.note), Some("WeCom 异常: 地点异常".into()));
        let missed = json!({"userid": "a", "checkin_type": "上班打卡", "exception_type": "未打卡", "checkin_time": 1_700_000_000});
        assert!(to_punch(&missed).is_none());
        let field =
            json!({"userid": "a", "checkin_type": "外出打卡", "exception_type": "", "checkin_time": 1_700_000_000});
        assert!(to_punch(&field).is_none());
        assert!(to_punch(&json!({"userid": 3})).is_none());
    }

    #[test]
    fn windows_cover_the_range_in_thirty_day_spans() {
        let from = Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).single().expect("date");
        let spans = windows(from, from + Duration::days(61));
        assert_eq!(spans.len(), 3);
        assert_eq!(spans[0].1, spans[1].0);
        assert_eq!(spans[2].1, from + Duration::days(61));
        assert!(windows(from, from).is_empty());
    }
}
