//! Wire shapes of the API. Domain types stay free of HTTP concerns; these mirror them.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use dakoku_domain::{Department, Employee, Punch, User};
use dakoku_service::integrations::IntegrationView;
use dakoku_service::paging::Listed;
use dakoku_service::view::{ApiToken, AuditEntry, Job, Link};
use dakoku_service::webhooks::WebhookView;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// `{"items": [...], "next_cursor": "..." | null}`; pass `cursor` back for the next page.
#[derive(Serialize, ToSchema)]
pub struct List<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> List<T> {
    pub fn from<U>(listed: Listed<U>, map: impl Fn(U) -> T) -> Self {
        Self { items: listed.items.into_iter().map(map).collect(), next_cursor: listed.next_cursor }
    }
}

#[derive(Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    pub cursor: Option<String>,
    /// 1 to 500, default 50.
    pub limit: Option<i64>,
}

/// Distinguishes a missing field (`None`) from an explicit `null` (`Some(None)`).
pub fn double_option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Serialize, ToSchema)]
pub struct EmployeeDto {
    pub id: String,
    pub code: String,
    pub name: String,
    pub email: Option<String>,
    pub mobile: Option<String>,
    /// IANA zone; `null` means the organisation's.
    pub timezone: Option<String>,
    pub department_id: Option<String>,
    /// `active` or `retired`.
    pub status: String,
    pub retired_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
}

impl From<Employee> for EmployeeDto {
    fn from(e: Employee) -> Self {
        Self {
            id: e.id.to_string(),
            code: e.code,
            name: e.name,
            email: e.email,
            mobile: e.mobile,
            timezone: e.timezone.map(|tz| tz.name().to_owned()),
            department_id: e.department_id.map(|d| d.to_string()),
            status: e.status.as_str().to_owned(),
            retired_on: e.retired_on,
            created_at: e.created_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEmployee {
    pub code: String,
    pub name: String,
    pub email: Option<String>,
    pub mobile: Option<String>,
    pub timezone: Option<String>,
    pub department_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEmployee {
    pub code: Option<String>,
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub mobile: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub timezone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub department_id: Option<Option<String>>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RetireEmployee {
    /// The last day of employment; today if not given.
    #[serde(default, deserialize_with = "dakoku_domain::plausible::optional_date")]
    pub on: Option<NaiveDate>,
}

/// The outcome of a connection test: `ok` only when every check passed.
#[derive(Serialize, ToSchema)]
pub struct ConnectionReportDto {
    pub ok: bool,
    #[schema(value_type = Vec<Object>)]
    pub checks: Vec<dakoku_service::platform::ConnectionCheck>,
}

impl From<dakoku_service::platform::ConnectionReport> for ConnectionReportDto {
    fn from(r: dakoku_service::platform::ConnectionReport) -> Self {
        Self { ok: r.ok, checks: r.checks }
    }
}

/// The time range of a pull of platform punch records: [from, to).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PullPunches {
    #[serde(deserialize_with = "dakoku_domain::plausible::instant")]
    pub from: DateTime<FixedOffset>,
    #[serde(deserialize_with = "dakoku_domain::plausible::instant")]
    pub to: DateTime<FixedOffset>,
}

/// Runs an org sync with the platform's directory, or with `dry_run` only shows what it would
/// change. `direction` (read: dakoku follows the platform; write: the platform follows dakoku)
/// defaults to the integration's `org_sync` setting.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgSync {
    #[serde(default)]
    pub dry_run: bool,
    #[schema(value_type = Option<String>)]
    pub direction: Option<dakoku_service::org_sync::Direction>,
}

/// A one-time code to send to a chat bot; shown once.
#[derive(Serialize, ToSchema)]
pub struct LinkCodeDto {
    pub employee_id: String,
    pub code: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct DepartmentDto {
    pub id: String,
    pub name: String,
    pub code: Option<String>,
    pub parent_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<Department> for DepartmentDto {
    fn from(d: Department) -> Self {
        Self {
            id: d.id.to_string(),
            name: d.name,
            code: d.code,
            parent_id: d.parent_id.map(|p| p.to_string()),
            created_at: d.created_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDepartment {
    pub name: String,
    pub code: Option<String>,
    pub parent_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDepartment {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub code: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub parent_id: Option<Option<String>>,
}

#[derive(Serialize, ToSchema)]
pub struct PunchDto {
    pub id: String,
    pub employee_id: String,
    /// `clock_in`, `clock_out`, `break_start` or `break_end`.
    pub kind: String,
    pub at: DateTime<Utc>,
    /// `api`, `web`, `lineworks`, `wecom`, `dingtalk` or `import`.
    pub source: String,
    /// `user:<id>`, `integration:<id>` or `cli`.
    pub recorded_by: String,
    pub note: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub location: Option<dakoku_domain::Location>,
    pub integration_id: Option<String>,
    pub external_event_id: Option<String>,
    /// The punch this entry replaces (an approved correction).
    pub supersedes: Option<String>,
    /// True for a cancellation entry, which counts for nothing.
    pub voids: bool,
    pub correction_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<Punch> for PunchDto {
    fn from(p: Punch) -> Self {
        Self {
            id: p.id.to_string(),
            employee_id: p.employee_id.to_string(),
            kind: p.kind.as_str().to_owned(),
            at: p.at,
            source: p.source.as_str().to_owned(),
            recorded_by: p.recorded_by.to_db(),
            note: p.note,
            location: p.location,
            integration_id: p.integration_id.map(|i| i.to_string()),
            external_event_id: p.external_event_id,
            supersedes: p.supersedes.map(|s| s.to_string()),
            voids: p.voids,
            correction_id: p.correction_id,
            created_at: p.created_at,
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePunch {
    pub employee_id: String,
    #[schema(value_type = String, example = "clock_in")]
    pub kind: dakoku_domain::PunchKind,
    /// RFC 3339 with offset; now if omitted.
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "dakoku_domain::plausible::optional_instant")]
    pub at: Option<DateTime<FixedOffset>>,
    pub note: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub location: Option<dakoku_domain::Location>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PunchQuery {
    pub employee_id: Option<String>,
    /// Inclusive, RFC 3339.
    #[param(value_type = Option<String>)]
    #[serde(default, deserialize_with = "dakoku_domain::plausible::optional_instant")]
    pub from: Option<DateTime<FixedOffset>>,
    /// Exclusive, RFC 3339.
    #[param(value_type = Option<String>)]
    #[serde(default, deserialize_with = "dakoku_domain::plausible::optional_instant")]
    pub to: Option<DateTime<FixedOffset>>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EmployeeQuery {
    /// `active` or `retired`.
    pub status: Option<String>,
    pub department_id: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct UserDto {
    pub id: String,
    pub email: String,
    pub role: String,
    pub employee_id: Option<String>,
    pub manages_department_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<User> for UserDto {
    fn from(u: User) -> Self {
        Self {
            id: u.id.to_string(),
            email: u.email,
            role: u.role.as_str().to_owned(),
            employee_id: u.employee_id.map(|e| e.to_string()),
            manages_department_id: u.manages_department_id.map(|d| d.to_string()),
            created_at: u.created_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub email: String,
    #[schema(value_type = String, example = "employee")]
    pub role: dakoku_domain::Role,
    pub employee_id: Option<String>,
    pub manages_department_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenDto {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiToken> for TokenDto {
    fn from(t: ApiToken) -> Self {
        Self {
            id: t.id.to_string(),
            user_id: t.user_id.to_string(),
            name: t.name,
            role: t.role.as_str().to_owned(),
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct IssuedTokenDto {
    /// The secret, shown only in this answer.
    pub token: String,
    #[serde(flatten)]
    pub record: TokenDto,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    pub name: String,
    /// Another user's id (admins only); yourself if omitted.
    pub user_id: Option<String>,
    #[schema(value_type = Option<String>)]
    pub role: Option<dakoku_domain::Role>,
}

#[derive(Serialize, ToSchema)]
pub struct IntegrationDto {
    pub id: String,
    pub platform: String,
    pub name: String,
    /// The secret URL to enter in the platform's console.
    pub callback_url: String,
    #[schema(value_type = Object)]
    pub settings: serde_json::Map<String, serde_json::Value>,
    pub secrets_set: Vec<String>,
    /// Secrets dakoku generated on request (a setting given as "generate"), shown in this
    /// answer only, to enter in the platform's console.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub generated: Option<serde_json::Map<String, serde_json::Value>>,
    pub created_at: DateTime<Utc>,
}

impl From<IntegrationView> for IntegrationDto {
    fn from(v: IntegrationView) -> Self {
        Self {
            id: v.id.to_string(),
            platform: v.platform.as_str().to_owned(),
            name: v.name,
            callback_url: v.callback_url,
            settings: v.settings,
            secrets_set: v.secrets_set,
            generated: v.generated,
            created_at: v.created_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIntegration {
    #[schema(value_type = String, example = "lineworks")]
    pub platform: dakoku_domain::Platform,
    pub name: String,
    #[schema(value_type = Object)]
    pub settings: serde_json::Map<String, serde_json::Value>,
}

/// Changes to an integration: settings are merged, `null` removes one.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateIntegration {
    pub name: Option<String>,
    #[schema(value_type = Object)]
    #[serde(default)]
    pub settings: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize, ToSchema)]
pub struct LinkDto {
    pub integration_id: String,
    pub employee_id: String,
    pub external_user_id: String,
    pub created_at: DateTime<Utc>,
}

impl From<Link> for LinkDto {
    fn from(l: Link) -> Self {
        Self {
            integration_id: l.integration_id.to_string(),
            employee_id: l.employee_id.to_string(),
            external_user_id: l.external_user_id,
            created_at: l.created_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLink {
    pub employee_id: String,
    pub external_user_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookDto {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// The signing secret, present only in the answer to creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<WebhookView> for WebhookDto {
    fn from(w: WebhookView) -> Self {
        Self {
            id: w.id.to_string(),
            url: w.url,
            events: w.events,
            created_at: w.created_at,
            disabled_at: w.disabled_at,
            secret: None,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    pub url: String,
    /// Event types, e.g. `punch.created`.
    pub events: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditDto {
    pub id: String,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    #[schema(value_type = Value)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Value)]
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
}

impl From<AuditEntry> for AuditDto {
    fn from(e: AuditEntry) -> Self {
        Self {
            id: e.id.to_string(),
            at: e.at,
            actor: e.actor,
            action: e.action,
            object_type: e.object_type,
            object_id: e.object_id,
            before: e.before,
            after: e.after,
            request_id: e.request_id,
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub action: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct JobDto {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<Job> for JobDto {
    fn from(j: Job) -> Self {
        Self {
            id: j.id.to_string(),
            kind: j.kind,
            status: j.status.as_str().to_owned(),
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            run_at: j.run_at,
            last_error: j.last_error,
            created_at: j.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MeDto {
    pub user_id: String,
    pub organization_id: String,
    pub organization_name: String,
    pub organization_timezone: String,
    pub role: String,
    pub employee_id: Option<String>,
    pub managed_department_id: Option<String>,
}
