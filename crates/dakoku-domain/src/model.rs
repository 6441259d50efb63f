//! The records dakoku keeps. Instants are UTC; each person and organisation carries the IANA
//! time zone their days are counted in.

use crate::{DepartmentId, EmployeeId, IntegrationId, OrgId, PunchId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Declares a closed set of names stored and sent as snake_case text.
macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// What a punch says happened (出勤 / 退勤 / 休憩開始 / 休憩終了).
    PunchKind {
        ClockIn = "clock_in",
        ClockOut = "clock_out",
        BreakStart = "break_start",
        BreakEnd = "break_end",
    }
);

text_enum!(
    /// Where a punch came from.
    PunchSource {
        Api = "api",
        Web = "web",
        LineWorks = "lineworks",
        WeCom = "wecom",
        DingTalk = "dingtalk",
        Import = "import",
    }
);

text_enum!(
    /// The chat platforms dakoku connects to.
    Platform {
        LineWorks = "lineworks",
        WeCom = "wecom",
        DingTalk = "dingtalk",
    }
);

text_enum!(
    /// Every kind of background job, by its name in the jobs table.
    JobKind {
        WebhookDelivery = "webhook.deliver",
        OrgSync = "org.sync",
        LineWorksMessage = "lineworks.message",
        WeComMessage = "wecom.message",
        DingTalkMessage = "dingtalk.message",
        LineWorksRichMenuSync = "lineworks.sync",
        WeComPull = "wecom.pull",
        WeComPush = "wecom.push",
        DingTalkPull = "dingtalk.pull",
        DingTalkPush = "dingtalk.push",
    }
);

impl JobKind {
    /// The job that sends a chat message through `platform`.
    pub fn message(platform: Platform) -> Self {
        match platform {
            Platform::LineWorks => Self::LineWorksMessage,
            Platform::WeCom => Self::WeComMessage,
            Platform::DingTalk => Self::DingTalkMessage,
        }
    }
}

text_enum!(
    EmployeeStatus {
        Active = "active",
        Retired = "retired",
    }
);

impl Platform {
    /// The settings of each platform that are secrets: stored encrypted, never echoed.
    pub fn secret_settings(self) -> &'static [&'static str] {
        match self {
            Platform::LineWorks => &["client_secret", "private_key", "bot_secret"],
            Platform::WeCom => &["secret", "token", "encoding_aes_key"],
            Platform::DingTalk => &["app_secret", "token", "aes_key"],
        }
    }

    /// Every setting an integration of this platform may have; any other key is a mistake
    /// (a misspelt base URL would silently send calls to the real platform).
    pub fn known_settings(self) -> Vec<&'static str> {
        const EVERY_PLATFORM: &[&str] = &[
            "language",
            "keywords",
            "trigger_words",
            "calls_per_minute",
            "punch_reminders",
            "remind_before_minutes",
            "remind_after_minutes",
            "anomaly_notices",
            "anomaly_notice_hour",
            "approval_requests",
        ];
        const RECORDS_AND_DIRECTORY: &[&str] = &[
            "pull_every_minutes",
            "push_punches",
            "org_sync",
            "org_sync_every_minutes",
            "org_sync_event_delay_seconds",
        ];
        let own: &[&str] = match self {
            Platform::LineWorks => &["domain_id", "scopes", "rich_menu"],
            Platform::WeCom => &["corp_id", "agent_id", "member_messages_per_minute"],
            Platform::DingTalk => &["app_key", "corp_id", "agent_id", "timezone"],
        };
        let records = if self == Platform::LineWorks { &[][..] } else { RECORDS_AND_DIRECTORY };
        let mut known: Vec<&'static str> =
            [EVERY_PLATFORM, records, own, self.secret_settings(), self.host_settings()].concat();
        known.extend(self.required_settings());
        known.sort_unstable();
        known.dedup();
        known
    }

    /// Settings that send the platform calls (and with them the secrets) to another host.
    pub fn host_settings(self) -> &'static [&'static str] {
        match self {
            Platform::LineWorks => &["api_base_url", "auth_base_url"],
            Platform::WeCom => &["api_base_url"],
            Platform::DingTalk => &["oapi_base_url"],
        }
    }

    /// Settings without which the integration cannot work at all.
    pub fn required_settings(self) -> &'static [&'static str] {
        match self {
            Platform::LineWorks => {
                &["client_id", "client_secret", "service_account", "private_key", "bot_id", "bot_secret"]
            }
            Platform::WeCom => &["corp_id", "agent_id", "secret"],
            Platform::DingTalk => &["app_key", "app_secret"],
        }
    }

    pub fn punch_source(self) -> PunchSource {
        match self {
            Platform::LineWorks => PunchSource::LineWorks,
            Platform::WeCom => PunchSource::WeCom,
            Platform::DingTalk => PunchSource::DingTalk,
        }
    }
}

/// An IANA time zone name, checked against the tz database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeZone(pub chrono_tz::Tz);

impl TimeZone {
    pub fn name(&self) -> &'static str {
        self.0.name()
    }
}

impl FromStr for TimeZone {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse::<chrono_tz::Tz>()
            .map(TimeZone)
            .map_err(|_| format!("'{s}' is not an IANA time zone such as Asia/Tokyo"))
    }
}

impl Serialize for TimeZone {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Organization {
    pub id: OrgId,
    pub name: String,
    pub timezone: TimeZone,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Department {
    pub id: DepartmentId,
    pub org_id: OrgId,
    pub name: String,
    pub code: Option<String>,
    pub parent_id: Option<DepartmentId>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Employee {
    pub id: EmployeeId,
    pub org_id: OrgId,
    pub code: String,
    pub name: String,
    pub email: Option<String>,
    /// As the employee's chat platforms know it (DingTalk keys members by it).
    pub mobile: Option<String>,
    /// `None` means the organisation's zone applies.
    pub timezone: Option<TimeZone>,
    pub department_id: Option<DepartmentId>,
    pub status: EmployeeStatus,
    pub retired_on: Option<chrono::NaiveDate>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize)]
pub struct User {
    pub id: UserId,
    pub org_id: OrgId,
    pub email: String,
    pub role: crate::Role,
    pub employee_id: Option<EmployeeId>,
    /// For managers: the root of the department subtree they manage.
    pub manages_department_id: Option<DepartmentId>,
    pub created_at: DateTime<Utc>,
}

/// Who or what put a punch into the ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Recorder {
    User(UserId),
    Integration(IntegrationId),
    Cli,
}

impl Recorder {
    pub fn to_db(&self) -> String {
        match self {
            Recorder::User(id) => format!("user:{id}"),
            Recorder::Integration(id) => format!("integration:{id}"),
            Recorder::Cli => "cli".to_owned(),
        }
    }

    pub fn from_db(text: &str) -> Self {
        match text.split_once(':') {
            Some(("user", id)) => Recorder::User(UserId::from_db(id.to_owned())),
            Some(("integration", id)) => Recorder::Integration(IntegrationId::from_db(id.to_owned())),
            _ => Recorder::Cli,
        }
    }
}

/// Where the employee was when punching, if the client told us.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Free text such as a site or office name.
    pub label: Option<String>,
}

/// One immutable entry of the punch ledger.
#[derive(Clone, Debug, Serialize)]
pub struct Punch {
    pub id: PunchId,
    pub org_id: OrgId,
    pub employee_id: EmployeeId,
    pub kind: PunchKind,
    pub at: DateTime<Utc>,
    pub source: PunchSource,
    pub recorded_by: Recorder,
    pub note: Option<String>,
    pub location: Option<Location>,
    pub integration_id: Option<IntegrationId>,
    /// The platform's own id of the event that carried this punch.
    pub external_event_id: Option<String>,
    /// The punch this one replaces (an approved correction); the old one stays in the ledger.
    pub supersedes: Option<PunchId>,
    /// A cancellation: this entry removes the punch it supersedes and counts for nothing.
    pub voids: bool,
    /// The correction that produced this entry.
    pub correction_id: Option<String>,
    pub created_at: DateTime<Utc>,
}
