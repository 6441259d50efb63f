//! Typed identifiers. Every id is a UUIDv7 in text form: sortable by creation time, which is
//! what cursor pagination orders by.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7().to_string())
            }
            /// Accepts only the canonical UUID text form; anything else is no id of ours.
            pub fn parse(text: &str) -> Option<Self> {
                uuid::Uuid::try_parse(text).ok().map(|u| Self(u.hyphenated().to_string()))
            }
            /// Wraps a value read back from the database, which only ever holds ids we made.
            pub fn from_db(text: String) -> Self {
                Self(text)
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}

id_type!(
    /// An organisation (tenant).
    OrgId,
    DepartmentId,
    EmployeeId,
    /// A login account; may be tied to an employee.
    UserId,
    TokenId,
    PunchId,
    IntegrationId,
    WebhookId,
    JobId,
    AuditId,
    /// A correction request.
    CorrectionId,
    /// One call made to a chat platform (the operation log).
    PlatformCallId,
);
