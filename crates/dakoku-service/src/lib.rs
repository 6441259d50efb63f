//! dakoku's use cases. Each public method checks who is asking, validates, runs its writes in
//! one transaction together with the audit entry and any outbox job, and returns domain
//! values. HTTP handlers, the CLI and (later) chat adapters all come through here.

pub mod audit;
pub mod auth;
pub mod chat;
pub mod corrections;
pub mod csv_rows;
pub mod departments;
pub mod employees;
pub mod error;
pub mod exports;
pub mod integrations;
pub mod jobs;
pub mod notices;
pub mod org_sync;
pub mod orgs;
pub mod paging;
pub mod platform;
pub mod platform_punches;
pub mod punches;
pub mod sessions;
pub mod timesheets;
pub mod users;
pub mod webhooks;
pub mod work_rules;

pub use error::{ServiceError, ServiceResult};

/// The records and filters the service hands to the edges (the HTTP API and the web app),
/// named here once so the edges never reach into the store.
pub mod view {
    pub use dakoku_store::audit::{AuditEntry, Filter as AuditFilter};
    pub use dakoku_store::employees::Filter as EmployeeFilter;
    pub use dakoku_store::integrations::Link;
    pub use dakoku_store::jobs::{Job, JobStatus};
    pub use dakoku_store::punches::Filter as PunchFilter;
    pub use dakoku_store::timesheets::{Correction, MonthState};
    pub use dakoku_store::users::ApiToken;
}
pub use paging::PageRequest;

use dakoku_config::Cipher;
use dakoku_domain::{Actor, OrgId, Platform, Recorder, Role, UserId};
use dakoku_store::Db;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Everything a use case needs: the database, the cipher for secrets, the public base URL.
#[derive(Clone)]
pub struct Service {
    pub db: Db,
    pub cipher: Cipher,
    pub public_url: String,
    /// What the operator allows beyond the safe defaults.
    pub policy: dakoku_config::Policy,
    /// The chat platform adapters this process has (see [`platform::PlatformPort`]).
    ports: Arc<RwLock<HashMap<Platform, Arc<dyn platform::PlatformPort>>>>,
    /// Every "now" of the use cases: the system clock, or a test's.
    pub clock: dakoku_domain::Clock,
}

impl Service {
    pub fn new(db: Db, cipher: Cipher, public_url: String) -> Self {
        Self {
            db,
            cipher,
            public_url,
            policy: Default::default(),
            ports: Arc::default(),
            clock: dakoku_domain::Clock::system(),
        }
    }

    pub fn with_clock(self, clock: dakoku_domain::Clock) -> Self {
        Self { clock, ..self }
    }

    pub fn with_policy(self, policy: dakoku_config::Policy) -> Self {
        Self { policy, ..self }
    }
}

/// Who is acting and under which request, carried into every use case and the audit log.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub actor: Actor,
    pub recorder: Recorder,
    pub request_id: Option<String>,
}

impl Ctx {
    pub fn user(actor: Actor, request_id: Option<String>) -> Self {
        let recorder = Recorder::User(actor.user_id.clone());
        Self { actor, recorder, request_id }
    }

    /// The operator at the command line: full rights within one organisation.
    pub fn cli(org_id: OrgId) -> Self {
        Self {
            actor: Actor {
                org_id,
                user_id: UserId::from_db("cli".to_owned()),
                role: Role::Admin,
                employee_id: None,
                managed_root: None,
                managed_departments: Default::default(),
            },
            recorder: Recorder::Cli,
            request_id: None,
        }
    }

    pub fn org(&self) -> &OrgId {
        &self.actor.org_id
    }
}
