//! Org sync with a platform's directory (WeCom, DingTalk), in the direction the admin chose:
//! `read` makes dakoku's departments and employees follow the platform's, `write` makes the
//! platform follow dakoku. Each sync compares three states of every department and member:
//! dakoku's, the platform's, and the base (both sides as the last sync left them, in
//! `org_sync_base`). A change made on the side being followed is carried over; a change made on
//! the side being written is a conflict, reported and left alone, so nobody's edit is silently
//! overwritten. Items only the other side has and that no sync made are left alone too.
//!
//! Every applied step commits on its own and records its base at once, so a sync cut short (a
//! crash, a throttled platform) is simply run again: what is already equal is skipped.

use crate::integrations::{require_admin, OpenIntegration};
use crate::platform::PortError;
use crate::platform_punches::integration_ctx;
use crate::{audit, Ctx, Service, ServiceError, ServiceResult};
use chrono::{DateTime, Utc};
use dakoku_domain::{Department, DepartmentId, Employee, EmployeeId, EmployeeStatus, IntegrationId, JobId};
use dakoku_store::org_sync::{self as base_store, BaseItem};
use dakoku_store::{departments, employees, integrations, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// The job kind that runs a sync (payload [`OrgSyncRequest`]).
pub const JOB: &str = "org.sync";
const DEPARTMENT: &str = "department";
const MEMBER: &str = "member";
/// Where the report of the last sync is kept (integration state).
const LAST_REPORT: &str = "org_sync.last";

/// A department as the platform has it. `parent_id` is `None` at the top (under the root).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteDepartment {
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
}

/// A member as the platform has it, in its main department (`None`: the root).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteMember {
    pub user_id: String,
    pub name: String,
    pub department_id: Option<String>,
    pub email: Option<String>,
    pub mobile: Option<String>,
}

/// The platform's org chart, the root department left out.
#[derive(Clone, Debug, Default)]
pub struct Directory {
    pub departments: Vec<RemoteDepartment>,
    pub members: Vec<RemoteMember>,
    /// The platform keys members by mobile number and reports it (DingTalk): mobiles are then
    /// compared and synced, and pair members with employees.
    pub keyed_by_mobile: bool,
}

/// What a platform adapter is asked to change in its directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DirectoryWrite {
    /// Answers with the new department's id.
    CreateDepartment {
        name: String,
        parent_id: Option<String>,
    },
    UpdateDepartment {
        id: String,
        name: String,
        parent_id: Option<String>,
    },
    DeleteDepartment {
        id: String,
    },
    CreateMember {
        user_id: String,
        name: String,
        department_id: Option<String>,
        email: Option<String>,
        mobile: Option<String>,
    },
    /// Answers with the member's new user id if the platform had to create them again (a
    /// changed mobile on a platform keyed by mobile).
    UpdateMember {
        user_id: String,
        name: String,
        department_id: Option<String>,
        mobile: Option<String>,
    },
    DeleteMember {
        user_id: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// dakoku follows the platform.
    Read,
    /// The platform follows dakoku.
    Write,
}

impl Direction {
    /// The direction an integration's `org_sync` setting names, if any.
    pub fn of(settings: &serde_json::Map<String, Value>) -> Option<Self> {
        match settings.get("org_sync").and_then(Value::as_str) {
            Some("read") => Some(Direction::Read),
            Some("write") => Some(Direction::Write),
            _ => None,
        }
    }
}

/// Which side a change is made on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Dakoku,
    Platform,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    /// Pair two records that are already the same department or person.
    Link,
    Delete,
    /// An employee who left the platform's directory: retired in dakoku, history kept.
    Retire,
}

/// A department's or member's name and place: the department above it (or the member's
/// department) as a platform id, or `local:<id>` for a dakoku department the platform lacks.
#[derive(Clone, Debug, Eq, Serialize, Deserialize)]
pub struct Shape {
    pub name: String,
    pub parent: Option<String>,
    /// For members of a platform keyed by mobile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub target: Target,
    pub action: Action,
    pub kind: String,
    pub remote_id: Option<String>,
    pub local_id: Option<String>,
    /// The shape the change gives the record (for deletions: the shape it had).
    pub shape: Shape,
    /// For updates: the shape before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub was: Option<Shape>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A record changed on the side being written since the last sync: left alone and reported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub kind: String,
    pub remote_id: Option<String>,
    pub local_id: Option<String>,
    pub name: String,
    pub reason: String,
    pub dakoku: Option<Shape>,
    pub platform: Option<Shape>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SyncPlan {
    pub direction: Direction,
    pub changes: Vec<Change>,
    pub conflicts: Vec<Conflict>,
    /// Pairs that are already the same on both sides.
    pub unchanged: u64,
    /// Records on one side only that this direction does not carry over.
    pub untouched: u64,
    /// Equal pairs whose base is stale: recorded when the plan is applied.
    #[serde(skip)]
    refresh: Vec<BaseItem>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Failure {
    pub change: Change,
    pub error: String,
}

/// What a sync found and did.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SyncReport {
    pub integration_id: IntegrationId,
    pub dry_run: bool,
    /// "request", "schedule" or "event".
    pub trigger: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub plan: SyncPlan,
    pub applied: u64,
    pub failed: Vec<Failure>,
    /// Why the sync stopped before the end (the platform throttled or could not be reached).
    pub interrupted: Option<String>,
}

/// The payload of an [`JOB`] job.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OrgSyncRequest {
    pub integration_id: IntegrationId,
    /// `None`: the integration's `org_sync` setting.
    pub direction: Option<Direction>,
    pub trigger: String,
}

/// Why a sync job did not finish.
#[derive(Debug)]
pub enum SyncStop {
    /// Try again later (after the platform's wait, if it named one).
    Retry { error: String, after: Option<std::time::Duration> },
    /// Nothing to retry: the integration or its setting does not allow a sync.
    Refused(String),
}

/// dakoku's side of the comparison.
pub struct LocalOrg {
    pub departments: Vec<Department>,
    /// Retired employees included: a retired employee still linked is someone who left.
    pub employees: Vec<Employee>,
    /// Employee → platform user, from the integration's links.
    pub links: HashMap<EmployeeId, String>,
    pub base: Vec<BaseItem>,
}

enum Decision {
    Same,
    Carry,
    Conflict(&'static str),
}

/// The three-way rule for one paired record: carry over what changed on the followed side
/// only; a change on the written side (since the base) is a conflict.
fn decide(direction: Direction, local: Option<&Shape>, remote: Option<&Shape>, base: Option<&Shape>) -> Decision {
    match (direction, local, remote) {
        (_, Some(l), Some(r)) if l == r => Decision::Same,
        (_, None, None) => Decision::Same,
        (Direction::Read, Some(l), Some(r)) => match base {
            None => Decision::Carry,
            Some(b) if b == l => Decision::Carry,
            Some(b) if b == r => Decision::Conflict("changed in dakoku since the last sync"),
            Some(_) => Decision::Conflict("changed both in dakoku and on the platform since the last sync"),
        },
        (Direction::Write, Some(l), Some(r)) => match base {
            None => Decision::Carry,
            Some(b) if b == r => Decision::Carry,
            Some(b) if b == l => Decision::Conflict("changed on the platform since the last sync"),
            Some(_) => Decision::Conflict("changed both in dakoku and on the platform since the last sync"),
        },
        (Direction::Read, Some(l), None) => match base {
            Some(b) if b != l => {
                Decision::Conflict("deleted on the platform but changed in dakoku since the last sync")
            }
            _ => Decision::Carry,
        },
        (Direction::Write, Some(_), None) => Decision::Conflict(
            "deleted on the platform; delete it in dakoku too, or remove the pairing to create it again",
        ),
        (Direction::Read, None, Some(_)) => {
            Decision::Conflict("deleted in dakoku; delete it on the platform too, or it stays unpaired")
        }
        (Direction::Write, None, Some(r)) => match base {
            Some(b) if b != r => {
                Decision::Conflict("deleted in dakoku but changed on the platform since the last sync")
            }
            _ => Decision::Carry,
        },
    }
}

/// Depth of each node of a forest given by parent links (a cycle is cut).
fn depths(parents: &HashMap<String, Option<String>>) -> HashMap<String, usize> {
    parents
        .keys()
        .map(|id| {
            let mut depth = 0;
            let mut at = id;
            while let Some(Some(up)) = parents.get(at) {
                depth += 1;
                at = up;
                if depth > parents.len() {
                    break;
                }
            }
            (id.clone(), depth)
        })
        .collect()
}

/// The digits of a mobile number, so "+86 138-0000-0000" and "8613800000000" match.
fn digits(mobile: Option<&str>) -> String {
    mobile.unwrap_or_default().chars().filter(char::is_ascii_digit).collect()
}

/// Two ways of writing one number: the same digits, or one with a country code (up to three
/// digits) in front of the other.
pub fn same_number(a: Option<&str>, b: Option<&str>) -> bool {
    let (a, b) = (digits(a), digits(b));
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    long == short || (short.len() >= 7 && long.len() - short.len() <= 3 && long.ends_with(&short))
}

/// Shapes are the same when names and places are, and mobiles are the same number.
impl PartialEq for Shape {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.parent == other.parent
            && match (&self.mobile, &other.mobile) {
                (None, None) => true,
                (Some(a), Some(b)) => same_number(Some(a), Some(b)),
                _ => false,
            }
    }
}

/// Employee codes are what a member's platform user id becomes in dakoku.
fn usable_code(user_id: &str) -> bool {
    let mut errors = dakoku_domain::ValidationErrors::default();
    dakoku_domain::validate::code(&mut errors, "code", user_id);
    errors.is_empty() && user_id.trim() == user_id
}

struct Planner<'a> {
    direction: Direction,
    keyed_by_mobile: bool,
    local: &'a LocalOrg,
    plan: SyncPlan,
    /// dakoku department id → platform department id, as paired so far.
    local_to_remote: HashMap<String, String>,
}

impl Planner<'_> {
    fn remote_ref(&self, local: Option<&DepartmentId>) -> Option<String> {
        local.map(|id| self.local_to_remote.get(id.as_str()).cloned().unwrap_or_else(|| format!("local:{id}")))
    }

    fn department_shape(&self, d: &Department) -> Shape {
        Shape { name: d.name.clone(), parent: self.remote_ref(d.parent_id.as_ref()), mobile: None }
    }

    fn member_shape(&self, e: &Employee) -> Shape {
        let mobile = e.mobile.clone().filter(|_| self.keyed_by_mobile);
        Shape { name: e.name.clone(), parent: self.remote_ref(e.department_id.as_ref()), mobile }
    }

    fn push(&mut self, target: Target, action: Action, kind: &str, ids: (Option<&str>, Option<&str>), shape: Shape) {
        self.plan.changes.push(Change {
            target,
            action,
            kind: kind.to_owned(),
            remote_id: ids.0.map(str::to_owned),
            local_id: ids.1.map(str::to_owned),
            shape,
            was: None,
            email: None,
        });
    }

    fn conflict(
        &mut self,
        kind: &str,
        ids: (Option<&str>, Option<&str>),
        reason: &str,
        l: Option<Shape>,
        r: Option<Shape>,
    ) {
        let name = l.as_ref().or(r.as_ref()).map(|s| s.name.clone()).unwrap_or_default();
        self.plan.conflicts.push(Conflict {
            kind: kind.to_owned(),
            remote_id: ids.0.map(str::to_owned),
            local_id: ids.1.map(str::to_owned),
            name,
            reason: reason.to_owned(),
            dakoku: l,
            platform: r,
        });
    }

    /// One paired record (l: dakoku's shape, r: the platform's, b: the base). `removal` is the
    /// action that takes it off the written side.
    fn pair(&mut self, kind: &str, ids: (&str, &str), shapes: [Option<Shape>; 3], removal: Action) {
        let [l, r, b] = shapes;
        let (target, was, now) = match self.direction {
            Direction::Read => (Target::Dakoku, l.clone(), r.clone()),
            Direction::Write => (Target::Platform, r.clone(), l.clone()),
        };
        let both = (Some(ids.0), Some(ids.1));
        match decide(self.direction, l.as_ref(), r.as_ref(), b.as_ref()) {
            Decision::Same => {
                self.plan.unchanged += 1;
                if let Some(shape) = l.filter(|s| b.as_ref() != Some(s)) {
                    self.plan.refresh.push(BaseItem {
                        kind: kind.to_owned(),
                        remote_id: ids.0.to_owned(),
                        local_id: ids.1.to_owned(),
                        name: shape.name,
                        parent: shape.parent,
                        mobile: shape.mobile,
                    });
                }
            }
            Decision::Conflict(reason) => self.conflict(kind, both, reason, l, r),
            Decision::Carry => match (was, now) {
                (Some(was), Some(now)) => {
                    self.push(target, Action::Update, kind, both, now);
                    if let Some(change) = self.plan.changes.last_mut() {
                        change.was = Some(was);
                    }
                }
                (Some(was), None) => self.push(target, removal, kind, both, was),
                _ => {}
            },
        }
    }

    /// Departments: pairs first, then new ones parents first; deletions are returned to go
    /// last (after members moved out), deepest first.
    fn departments(&mut self, remote: &[RemoteDepartment]) -> Vec<Change> {
        let local = self.local;
        let by_id: HashMap<&str, &Department> = local.departments.iter().map(|d| (d.id.as_str(), d)).collect();
        let remote_by_id: HashMap<&str, &RemoteDepartment> = remote.iter().map(|d| (d.id.as_str(), d)).collect();
        let local_parents: HashMap<String, Option<String>> =
            local.departments.iter().map(|d| (d.id.to_string(), d.parent_id.as_ref().map(|p| p.to_string()))).collect();
        let remote_parents: HashMap<String, Option<String>> =
            remote.iter().map(|d| (d.id.clone(), d.parent_id.clone())).collect();
        let (local_depth, remote_depth) = (depths(&local_parents), depths(&remote_parents));
        let bases: Vec<&BaseItem> = local.base.iter().filter(|b| b.kind == DEPARTMENT).collect();
        for b in &bases {
            if by_id.contains_key(b.local_id.as_str()) {
                self.local_to_remote.insert(b.local_id.clone(), b.remote_id.clone());
            }
        }
        let mut paired_local = HashSet::new();
        let mut paired_remote = HashSet::new();
        let mut deletions = Vec::new();
        for b in bases {
            let l = by_id.get(b.local_id.as_str()).map(|d| self.department_shape(d));
            let r = remote_by_id.get(b.remote_id.as_str()).map(|d| Shape {
                name: d.name.clone(),
                parent: d.parent_id.clone(),
                mobile: None,
            });
            paired_local.insert(b.local_id.clone());
            paired_remote.insert(b.remote_id.clone());
            let before = self.plan.changes.len();
            let base = Shape { name: b.name.clone(), parent: b.parent.clone(), mobile: None };
            self.pair(DEPARTMENT, (&b.remote_id, &b.local_id), [l, r, Some(base)], Action::Delete);
            if self.plan.changes.get(before).is_some_and(|c| c.action == Action::Delete) {
                deletions.push(self.plan.changes.remove(before));
            }
        }
        let depth_of = |c: &Change| match c.target {
            Target::Dakoku => c.local_id.as_ref().and_then(|id| local_depth.get(id)).copied().unwrap_or(0),
            Target::Platform => c.remote_id.as_ref().and_then(|id| remote_depth.get(id)).copied().unwrap_or(0),
        };
        deletions.sort_by_key(|c| std::cmp::Reverse(depth_of(c)));
        match self.direction {
            Direction::Read => {
                let mut fresh: Vec<&RemoteDepartment> =
                    remote.iter().filter(|d| !paired_remote.contains(&d.id)).collect();
                fresh.sort_by_key(|d| (remote_depth.get(&d.id).copied().unwrap_or(0), d.id.clone()));
                for r in fresh {
                    let shape = Shape { name: r.name.clone(), parent: r.parent_id.clone(), mobile: None };
                    let twin = local
                        .departments
                        .iter()
                        .find(|d| !paired_local.contains(d.id.as_str()) && self.department_shape(d) == shape);
                    let ids = (Some(r.id.as_str()), twin.map(|d| d.id.as_str()));
                    match twin {
                        Some(d) => {
                            paired_local.insert(d.id.to_string());
                            self.local_to_remote.insert(d.id.to_string(), r.id.clone());
                            self.push(Target::Dakoku, Action::Link, DEPARTMENT, ids, shape);
                        }
                        None => self.push(Target::Dakoku, Action::Create, DEPARTMENT, ids, shape),
                    }
                }
                self.plan.untouched +=
                    local.departments.iter().filter(|d| !paired_local.contains(d.id.as_str())).count() as u64;
            }
            Direction::Write => {
                let mut fresh: Vec<&Department> =
                    local.departments.iter().filter(|d| !paired_local.contains(d.id.as_str())).collect();
                fresh.sort_by_key(|d| (local_depth.get(d.id.as_str()).copied().unwrap_or(0), d.id.to_string()));
                for d in fresh {
                    let shape = self.department_shape(d);
                    let twin = remote.iter().find(|r| {
                        !paired_remote.contains(&r.id) && r.name == shape.name && r.parent_id == shape.parent
                    });
                    let ids = (twin.map(|r| r.id.as_str()), Some(d.id.as_str()));
                    match twin {
                        Some(r) => {
                            paired_remote.insert(r.id.clone());
                            self.local_to_remote.insert(d.id.to_string(), r.id.clone());
                            self.push(Target::Platform, Action::Link, DEPARTMENT, ids, shape);
                        }
                        None => self.push(Target::Platform, Action::Create, DEPARTMENT, ids, shape),
                    }
                }
                self.plan.untouched += remote.iter().filter(|r| !paired_remote.contains(&r.id)).count() as u64;
            }
        }
        deletions
    }

    /// Members: pairs by the integration's links, then the unpaired by employee code = user id.
    fn members(&mut self, remote: &[RemoteMember]) {
        let local = self.local;
        let by_id: HashMap<&str, &Employee> = local.employees.iter().map(|e| (e.id.as_str(), e)).collect();
        let remote_by_id: HashMap<&str, &RemoteMember> = remote.iter().map(|m| (m.user_id.as_str(), m)).collect();
        let bases: HashMap<&str, &BaseItem> =
            local.base.iter().filter(|b| b.kind == MEMBER).map(|b| (b.remote_id.as_str(), b)).collect();
        let keyed_by_mobile = self.keyed_by_mobile;
        let remote_shape = |m: &RemoteMember| Shape {
            name: m.name.clone(),
            parent: m.department_id.clone(),
            mobile: m.mobile.clone().filter(|_| keyed_by_mobile),
        };
        // The same person by the platform's key: the user id as employee code, or the mobile.
        let same_mobile = |e: &Employee, m: &RemoteMember| {
            keyed_by_mobile && e.mobile.is_some() && same_number(e.mobile.as_deref(), m.mobile.as_deref())
        };
        let mut paired_local = HashSet::new();
        let mut paired_remote = HashSet::new();
        let removal = match self.direction {
            Direction::Read => Action::Retire,
            Direction::Write => Action::Delete,
        };
        let mut links: Vec<(&EmployeeId, &String)> = local.links.iter().collect();
        links.sort();
        for (employee_id, user) in links {
            let Some(e) = by_id.get(employee_id.as_str()) else { continue };
            paired_local.insert(e.id.as_str());
            paired_remote.insert(user.as_str());
            let l = (e.status == EmployeeStatus::Active).then(|| self.member_shape(e));
            let r = remote_by_id.get(user.as_str()).map(|m| remote_shape(m));
            if self.direction == Direction::Read && l.is_none() {
                // Retired in dakoku first, still on the platform: dakoku is ahead; nothing to do.
                self.plan.unchanged += 1;
                continue;
            }
            let b = bases.get(user.as_str()).map(|b| Shape {
                name: b.name.clone(),
                parent: b.parent.clone(),
                mobile: b.mobile.clone(),
            });
            self.pair(MEMBER, (user, e.id.as_str()), [l, r, b], removal);
        }
        if self.direction == Direction::Read && remote.is_empty() {
            let before = self.plan.changes.len();
            self.plan.changes.retain(|c| !(c.kind == MEMBER && c.action == Action::Retire));
            if self.plan.changes.len() < before {
                let reason = "the platform listed no members at all: nobody is retired (check the app's visible range)";
                self.conflict(MEMBER, (None, None), reason, None, None);
            }
        }
        let lowercase = |s: &str| s.to_lowercase();
        match self.direction {
            Direction::Read => {
                let mut fresh: Vec<&RemoteMember> =
                    remote.iter().filter(|m| !paired_remote.contains(m.user_id.as_str())).collect();
                fresh.sort_by(|a, b| a.user_id.cmp(&b.user_id));
                for m in fresh {
                    let shape = remote_shape(m);
                    let twin = local
                        .employees
                        .iter()
                        .find(|e| lowercase(&e.code) == lowercase(&m.user_id))
                        .or_else(|| local.employees.iter().find(|e| same_mobile(e, m)));
                    let ids = (Some(m.user_id.as_str()), twin.map(|e| e.id.as_str()));
                    match twin {
                        Some(e) if !paired_local.contains(e.id.as_str()) && e.status == EmployeeStatus::Active => {
                            paired_local.insert(e.id.as_str());
                            let mine = self.member_shape(e);
                            self.push(Target::Dakoku, Action::Link, MEMBER, ids, mine.clone());
                            if mine != shape {
                                self.push(Target::Dakoku, Action::Update, MEMBER, ids, shape);
                                if let Some(change) = self.plan.changes.last_mut() {
                                    change.was = Some(mine);
                                }
                            }
                        }
                        Some(e) => {
                            let why = if e.status == EmployeeStatus::Active {
                                "an employee with this code is paired with another platform user"
                            } else {
                                "a retired employee has this code"
                            };
                            let mine = self.member_shape(e);
                            self.conflict(MEMBER, ids, why, Some(mine), Some(shape));
                        }
                        None if !usable_code(&m.user_id) => {
                            let why = "the user id cannot be an employee code (letters, digits, '-', '_', '.')";
                            self.conflict(MEMBER, ids, why, None, Some(shape));
                        }
                        None => {
                            self.push(Target::Dakoku, Action::Create, MEMBER, ids, shape);
                            if let Some(change) = self.plan.changes.last_mut() {
                                change.email = m.email.clone();
                            }
                        }
                    }
                }
                self.plan.untouched += local
                    .employees
                    .iter()
                    .filter(|e| e.status == EmployeeStatus::Active && !paired_local.contains(e.id.as_str()))
                    .count() as u64;
            }
            Direction::Write => {
                let mut fresh: Vec<&Employee> = local
                    .employees
                    .iter()
                    .filter(|e| e.status == EmployeeStatus::Active && !paired_local.contains(e.id.as_str()))
                    .collect();
                fresh.sort_by(|a, b| a.code.cmp(&b.code));
                for e in fresh {
                    let mine = self.member_shape(e);
                    let unpaired = |m: &&RemoteMember| !paired_remote.contains(m.user_id.as_str());
                    let twin = remote
                        .iter()
                        .filter(unpaired)
                        .find(|m| lowercase(&m.user_id) == lowercase(&e.code))
                        .or_else(|| remote.iter().filter(unpaired).find(|m| same_mobile(e, m)));
                    match twin {
                        Some(m) => {
                            paired_remote.insert(m.user_id.as_str());
                            let theirs = remote_shape(m);
                            let ids = (Some(m.user_id.as_str()), Some(e.id.as_str()));
                            self.push(Target::Platform, Action::Link, MEMBER, ids, theirs.clone());
                            if mine != theirs {
                                self.push(Target::Platform, Action::Update, MEMBER, ids, mine);
                                if let Some(change) = self.plan.changes.last_mut() {
                                    change.was = Some(theirs);
                                }
                            }
                        }
                        None => {
                            self.push(
                                Target::Platform,
                                Action::Create,
                                MEMBER,
                                (Some(&e.code), Some(e.id.as_str())),
                                mine,
                            );
                            if let Some(change) = self.plan.changes.last_mut() {
                                change.email = e.email.clone();
                            }
                        }
                    }
                }
                self.plan.untouched +=
                    remote.iter().filter(|m| !paired_remote.contains(m.user_id.as_str())).count() as u64;
            }
        }
    }
}

/// What a sync in `direction` would change, given both sides and the base.
pub fn plan(direction: Direction, local: &LocalOrg, remote: &Directory) -> SyncPlan {
    let mut planner = Planner {
        direction,
        keyed_by_mobile: remote.keyed_by_mobile,
        local,
        plan: SyncPlan {
            direction,
            changes: Vec::new(),
            conflicts: Vec::new(),
            unchanged: 0,
            untouched: 0,
            refresh: Vec::new(),
        },
        local_to_remote: HashMap::new(),
    };
    let deletions = planner.departments(&remote.departments);
    planner.members(&remote.members);
    // Members leave before departments go, and retirements/deletions after moves.
    let (removals, mut rest): (Vec<Change>, Vec<Change>) = planner
        .plan
        .changes
        .drain(..)
        .partition(|c| c.kind == MEMBER && matches!(c.action, Action::Retire | Action::Delete));
    rest.extend(removals);
    rest.extend(deletions);
    planner.plan.changes = rest;
    planner.plan
}

/// Department pairings as they stand during an apply, both ways.
#[derive(Default)]
struct Pairings {
    to_remote: HashMap<String, String>,
    to_local: HashMap<String, String>,
}

impl Pairings {
    fn pair(&mut self, local: &str, remote: &str) {
        self.to_remote.insert(local.to_owned(), remote.to_owned());
        self.to_local.insert(remote.to_owned(), local.to_owned());
    }

    fn forget_remote(&mut self, remote: &str) {
        if let Some(local) = self.to_local.remove(remote) {
            self.to_remote.remove(&local);
        }
    }

    /// A shape's parent as a dakoku department.
    fn local_parent(&self, parent: &Option<String>) -> Result<Option<DepartmentId>, String> {
        match parent {
            None => Ok(None),
            Some(remote) => self
                .to_local
                .get(remote)
                .map(|id| Some(DepartmentId::from_db(id.clone())))
                .ok_or_else(|| format!("platform department {remote} is not in dakoku yet")),
        }
    }

    /// A shape's parent as a platform department.
    fn remote_parent(&self, parent: &Option<String>) -> Result<Option<String>, String> {
        match parent.as_deref() {
            None => Ok(None),
            Some(reference) => match reference.strip_prefix("local:") {
                Some(local) => self
                    .to_remote
                    .get(local)
                    .map(|id| Some(id.clone()))
                    .ok_or_else(|| format!("department {local} is not on the platform yet")),
                None => Ok(Some(reference.to_owned())),
            },
        }
    }
}

/// How one step failed: skipped and reported, or the whole run stopped.
enum StepError {
    Skip(String),
    Stop(SyncStop),
}

impl From<ServiceError> for StepError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Internal(_) | ServiceError::Secret(_) => {
                StepError::Stop(SyncStop::Retry { error: e.to_string(), after: None })
            }
            other => StepError::Skip(other.to_string()),
        }
    }
}

impl From<PortError> for StepError {
    fn from(e: PortError) -> Self {
        match e {
            PortError::Retry { error, after } => StepError::Stop(SyncStop::Retry { error, after }),
            PortError::Refused(why) => StepError::Skip(why),
        }
    }
}

impl From<StoreError> for StepError {
    fn from(e: StoreError) -> Self {
        ServiceError::from(e).into()
    }
}

impl From<PortError> for SyncStop {
    fn from(e: PortError) -> Self {
        match e {
            PortError::Retry { error, after } => SyncStop::Retry { error, after },
            PortError::Refused(why) => SyncStop::Refused(why),
        }
    }
}

impl From<ServiceError> for SyncStop {
    fn from(e: ServiceError) -> Self {
        SyncStop::Retry { error: e.to_string(), after: None }
    }
}

impl From<StoreError> for SyncStop {
    fn from(e: StoreError) -> Self {
        ServiceError::from(e).into()
    }
}

impl From<SyncStop> for ServiceError {
    fn from(stop: SyncStop) -> Self {
        match stop {
            SyncStop::Retry { error, .. } => ServiceError::Upstream(error),
            SyncStop::Refused(why) => ServiceError::Unprocessable(why),
        }
    }
}

impl Service {
    /// A dry run: what a sync would change now, nothing written (admins only).
    pub async fn preview_org_sync(
        &self,
        ctx: &Ctx,
        id: &IntegrationId,
        direction: Option<Direction>,
    ) -> ServiceResult<SyncReport> {
        require_admin(ctx)?;
        let integration = self.open_integration(ctx.org(), id).await?;
        Ok(self.sync(&integration, direction, "request", true).await?)
    }

    /// Queues a sync (admins only); its report is kept as the integration's last.
    pub async fn request_org_sync(
        &self,
        ctx: &Ctx,
        id: &IntegrationId,
        direction: Option<Direction>,
    ) -> ServiceResult<JobId> {
        require_admin(ctx)?;
        let integration = self.open_integration(ctx.org(), id).await?;
        self.directory_port(&integration)?;
        if direction.or(Direction::of(&integration.stored.settings)).is_none() {
            return Err(ServiceError::invalid("direction", "give read or write, or set the org_sync setting"));
        }
        let request = OrgSyncRequest { integration_id: id.clone(), direction, trigger: "request".into() };
        let payload = serde_json::to_value(&request).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let job = dakoku_store::jobs::NewJob::now(JOB, Some(ctx.org().clone()), payload);
        let mut tx = self.db.begin().await?;
        let job_id = dakoku_store::jobs::enqueue_returning(&mut tx, &job).await?;
        audit::record(
            &mut tx,
            ctx,
            "integration.org_sync",
            "integration",
            id.as_str(),
            audit::NOTHING,
            Some(&job.payload),
        )
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(job_id)
    }

    /// The report of the integration's last sync that ran (admins only).
    pub async fn last_org_sync(&self, ctx: &Ctx, id: &IntegrationId) -> ServiceResult<Option<SyncReport>> {
        require_admin(ctx)?;
        self.open_integration(ctx.org(), id).await?;
        let Some(text) = self.integration_state(id, LAST_REPORT).await? else { return Ok(None) };
        Ok(Some(serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("sync report: {e}")))?))
    }

    /// The platform says its directory changed: with `org_sync: read`, one sync runs at the
    /// end of the current window of `org_sync_event_delay_seconds` (default 30), so a burst of
    /// events (a department moved with its people) is one sync. `true` if one was queued now.
    pub async fn org_changed(&self, integration: &OpenIntegration) -> ServiceResult<bool> {
        if Direction::of(&integration.stored.settings) != Some(Direction::Read) {
            return Ok(false);
        }
        let settings = &integration.stored.settings;
        let window = settings.get("org_sync_event_delay_seconds").and_then(Value::as_i64).unwrap_or(30).max(1);
        let now = self.clock.now().timestamp();
        let bucket = now / window;
        let request =
            OrgSyncRequest { integration_id: integration.stored.id.clone(), direction: None, trigger: "event".into() };
        let payload = serde_json::to_value(&request).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut job = dakoku_store::jobs::NewJob::now(JOB, Some(integration.stored.org_id.clone()), payload);
        job.run_at = DateTime::from_timestamp((bucket + 1) * window, 0).unwrap_or_else(Utc::now);
        job.dedupe_key = Some(format!("orgsync:{}:event:{window}:{bucket}", integration.stored.id));
        let mut conn = self.db.conn().await?;
        Ok(dakoku_store::jobs::enqueue(&mut conn, &job).await?)
    }

    /// Queues the full compare of every integration with `org_sync` set, every
    /// `org_sync_every_minutes` (default 1440, a day; 0 turns it off).
    pub async fn schedule_org_syncs(&self, now: DateTime<Utc>) -> ServiceResult<u64> {
        let mut conn = self.db.conn().await?;
        let mut queued = 0;
        for stored in integrations::all(&mut conn).await? {
            if Direction::of(&stored.settings).is_none()
                || !self.port(stored.platform).is_some_and(|p| p.has_directory())
            {
                continue;
            }
            let every = stored.settings.get("org_sync_every_minutes").and_then(Value::as_i64).unwrap_or(1440);
            let request =
                OrgSyncRequest { integration_id: stored.id.clone(), direction: None, trigger: "schedule".into() };
            let payload = serde_json::to_value(&request).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            queued += u64::from(
                crate::platform_punches::enqueue_periodic(&mut conn, &stored, JOB, every, now, payload).await?,
            );
        }
        Ok(queued)
    }

    /// Runs a queued sync and keeps its report.
    pub async fn run_org_sync(
        &self,
        org: &dakoku_domain::OrgId,
        request: &OrgSyncRequest,
    ) -> Result<SyncReport, SyncStop> {
        let integration = match self.open_integration(org, &request.integration_id).await {
            Ok(i) => i,
            Err(ServiceError::NotFound(why)) => return Err(SyncStop::Refused(why)),
            Err(e) => return Err(e.into()),
        };
        self.sync(&integration, request.direction, &request.trigger, false).await
    }

    fn directory_port(
        &self,
        integration: &OpenIntegration,
    ) -> ServiceResult<std::sync::Arc<dyn crate::platform::PlatformPort>> {
        self.port(integration.stored.platform)
            .filter(|p| p.has_directory())
            .ok_or_else(|| ServiceError::Unprocessable("this platform has no directory to sync with".into()))
    }

    async fn local_org(&self, integration: &OpenIntegration) -> ServiceResult<LocalOrg> {
        let org = &integration.stored.org_id;
        let mut conn = self.db.conn().await?;
        let links = integrations::list_links(&mut conn, org, &integration.stored.id).await?;
        Ok(LocalOrg {
            departments: departments::all(&mut conn, org).await?,
            employees: employees::all(&mut conn, org).await?,
            links: links.into_iter().map(|l| (l.employee_id, l.external_user_id)).collect(),
            base: base_store::all(&mut conn, &integration.stored.id).await?,
        })
    }

    async fn sync(
        &self,
        integration: &OpenIntegration,
        direction: Option<Direction>,
        trigger: &str,
        dry_run: bool,
    ) -> Result<SyncReport, SyncStop> {
        let started_at = self.clock.now();
        let port = self.directory_port(integration).map_err(|e| SyncStop::Refused(e.to_string()))?;
        let Some(direction) = direction.or(Direction::of(&integration.stored.settings)) else {
            return Err(SyncStop::Refused("org sync is off for this integration (setting org_sync)".into()));
        };
        let directory = port.read_directory(self, integration).await?;
        let local = self.local_org(integration).await?;
        let plan = plan(direction, &local, &directory);
        let mut report = SyncReport {
            integration_id: integration.stored.id.clone(),
            dry_run,
            trigger: trigger.to_owned(),
            started_at,
            finished_at: started_at,
            plan,
            applied: 0,
            failed: Vec::new(),
            interrupted: None,
        };
        if dry_run {
            report.finished_at = self.clock.now();
            return Ok(report);
        }
        let stopped = self.apply(integration, port.as_ref(), &local, &mut report).await;
        report.finished_at = self.clock.now();
        if let Err(SyncStop::Retry { error, .. }) = &stopped {
            report.interrupted = Some(error.clone());
        }
        self.keep_report(integration, &report).await?;
        stopped.map(|()| report)
    }

    async fn keep_report(&self, integration: &OpenIntegration, report: &SyncReport) -> Result<(), SyncStop> {
        let text = serde_json::to_string(report).map_err(|e| ServiceError::from(StoreError::Corrupt(e.to_string())))?;
        self.set_integration_state(&integration.stored.id, LAST_REPORT, Some(&text)).await?;
        let summary = serde_json::json!({
            "direction": report.plan.direction,
            "trigger": report.trigger,
            "applied": report.applied,
            "failed": report.failed.len(),
            "conflicts": report.plan.conflicts.len(),
            "interrupted": report.interrupted,
        });
        let ctx = integration_ctx(integration);
        let mut tx = self.db.begin().await?;
        audit::record(
            &mut tx,
            &ctx,
            "integration.org_sync.run",
            "integration",
            integration.stored.id.as_str(),
            audit::NOTHING,
            Some(&summary),
        )
        .await?;
        tx.commit().await.map_err(|e| ServiceError::from(StoreError::from(e)))?;
        Ok(())
    }

    async fn apply(
        &self,
        integration: &OpenIntegration,
        port: &dyn crate::platform::PlatformPort,
        local: &LocalOrg,
        report: &mut SyncReport,
    ) -> Result<(), SyncStop> {
        let mut pairings = Pairings::default();
        for b in local.base.iter().filter(|b| b.kind == DEPARTMENT) {
            pairings.pair(&b.local_id, &b.remote_id);
        }
        let changes = report.plan.changes.clone();
        for change in changes {
            match self.step(integration, port, &mut pairings, &change).await {
                Ok(()) => report.applied += 1,
                Err(StepError::Skip(error)) => report.failed.push(Failure { change, error }),
                Err(StepError::Stop(stop)) => return Err(stop),
            }
        }
        let mut conn = self.db.conn().await?;
        for item in &report.plan.refresh {
            base_store::put(&mut conn, &integration.stored.id, item).await.map_err(ServiceError::from)?;
        }
        Ok(())
    }

    /// Applies one change and records its base.
    async fn step(
        &self,
        integration: &OpenIntegration,
        port: &dyn crate::platform::PlatformPort,
        pairings: &mut Pairings,
        change: &Change,
    ) -> Result<(), StepError> {
        let ctx = integration_ctx(integration);
        let id = &integration.stored.id;
        let local_id = change.local_id.clone().unwrap_or_default();
        let mut remote_id = change.remote_id.clone().unwrap_or_default();
        let mut shape = change.shape.clone();
        let mut forget = false;
        match (change.target, change.kind.as_str(), change.action) {
            (_, DEPARTMENT, Action::Link) => {}
            (Target::Dakoku, DEPARTMENT, Action::Create) => {
                let parent_id = pairings.local_parent(&shape.parent).map_err(StepError::Skip)?;
                let input = crate::departments::NewDepartment { name: shape.name.clone(), code: None, parent_id };
                let created = self.create_department(&ctx, input).await?;
                self.base(id, DEPARTMENT, &remote_id, created.id.as_str(), &shape).await?;
                pairings.pair(created.id.as_str(), &remote_id);
                return Ok(());
            }
            (Target::Dakoku, DEPARTMENT, Action::Update) => {
                let patch = crate::departments::DepartmentPatch {
                    name: Some(shape.name.clone()),
                    code: None,
                    parent_id: Some(pairings.local_parent(&shape.parent).map_err(StepError::Skip)?),
                };
                self.update_department(&ctx, &DepartmentId::from_db(local_id.clone()), patch).await?;
            }
            (Target::Dakoku, DEPARTMENT, Action::Delete) => {
                self.delete_department(&ctx, &DepartmentId::from_db(local_id.clone())).await?;
                forget = true;
            }
            (Target::Dakoku, MEMBER, Action::Create) => {
                let department_id = pairings.local_parent(&shape.parent).map_err(StepError::Skip)?;
                // An address the platform gives that dakoku would refuse is left out, not fatal.
                let email = change.email.clone().filter(|e| {
                    let mut errors = dakoku_domain::ValidationErrors::default();
                    dakoku_domain::validate::email(&mut errors, "email", e);
                    errors.is_empty()
                });
                let input = crate::employees::NewEmployee {
                    code: remote_id.clone(),
                    name: shape.name.clone(),
                    email,
                    mobile: shape.mobile.clone(),
                    timezone: None,
                    department_id,
                };
                let created = self.create_employee(&ctx, input).await?;
                self.link(&ctx, id, created.id.as_str(), &remote_id).await?;
                self.base(id, MEMBER, &remote_id, created.id.as_str(), &shape).await?;
                return Ok(());
            }
            (Target::Dakoku, MEMBER, Action::Update) => {
                let patch = crate::employees::EmployeePatch {
                    name: Some(shape.name.clone()),
                    department_id: Some(pairings.local_parent(&shape.parent).map_err(StepError::Skip)?),
                    mobile: shape.mobile.clone().map(Some),
                    ..Default::default()
                };
                self.update_employee(&ctx, &EmployeeId::from_db(local_id.clone()), patch).await?;
            }
            (Target::Dakoku, MEMBER, Action::Retire) => {
                self.retire_employee(&ctx, &EmployeeId::from_db(local_id.clone()), None).await?;
                let mut conn = self.db.conn().await.map_err(ServiceError::from)?;
                integrations::remove_link(&mut conn, id, &remote_id).await?;
                forget = true;
            }
            (_, MEMBER, Action::Link) => self.link(&ctx, id, &local_id, &remote_id).await?,
            (Target::Platform, DEPARTMENT, Action::Create) => {
                let parent_id = pairings.remote_parent(&shape.parent).map_err(StepError::Skip)?;
                let write = DirectoryWrite::CreateDepartment { name: shape.name.clone(), parent_id: parent_id.clone() };
                let created = port.write_directory(self, integration, &write).await?;
                remote_id =
                    created.ok_or_else(|| StepError::Skip("the platform gave no id for the department".into()))?;
                shape.parent = parent_id;
                pairings.pair(&local_id, &remote_id);
            }
            (Target::Platform, DEPARTMENT, Action::Update) => {
                shape.parent = pairings.remote_parent(&shape.parent).map_err(StepError::Skip)?;
                let write = DirectoryWrite::UpdateDepartment {
                    id: remote_id.clone(),
                    name: shape.name.clone(),
                    parent_id: shape.parent.clone(),
                };
                port.write_directory(self, integration, &write).await?;
            }
            (Target::Platform, DEPARTMENT, Action::Delete) => {
                port.write_directory(self, integration, &DirectoryWrite::DeleteDepartment { id: remote_id.clone() })
                    .await?;
                forget = true;
            }
            (Target::Platform, MEMBER, Action::Create) => {
                shape.parent = pairings.remote_parent(&shape.parent).map_err(StepError::Skip)?;
                // The plan proposes the employee code as the user id.
                let write = DirectoryWrite::CreateMember {
                    user_id: remote_id.clone(),
                    name: shape.name.clone(),
                    department_id: shape.parent.clone(),
                    email: change.email.clone(),
                    mobile: shape.mobile.clone(),
                };
                // The platform may choose the id itself.
                if let Some(chosen) = port.write_directory(self, integration, &write).await? {
                    remote_id = chosen;
                }
                self.link(&ctx, id, &local_id, &remote_id).await?;
            }
            (Target::Platform, MEMBER, Action::Update) => {
                shape.parent = pairings.remote_parent(&shape.parent).map_err(StepError::Skip)?;
                let write = DirectoryWrite::UpdateMember {
                    user_id: remote_id.clone(),
                    name: shape.name.clone(),
                    department_id: shape.parent.clone(),
                    mobile: shape.mobile.clone(),
                };
                if let Some(recreated) = port.write_directory(self, integration, &write).await? {
                    // Created again under a new id (a new mobile): the old pairing goes with it.
                    let mut conn = self.db.conn().await.map_err(ServiceError::from)?;
                    integrations::remove_link(&mut conn, id, &remote_id).await?;
                    base_store::remove(&mut conn, id, MEMBER, &remote_id).await?;
                    drop(conn);
                    remote_id = recreated;
                    self.link(&ctx, id, &local_id, &remote_id).await?;
                }
            }
            (Target::Platform, MEMBER, Action::Delete) => {
                port.write_directory(self, integration, &DirectoryWrite::DeleteMember { user_id: remote_id.clone() })
                    .await?;
                let mut conn = self.db.conn().await.map_err(ServiceError::from)?;
                integrations::remove_link(&mut conn, id, &remote_id).await?;
                forget = true;
            }
            (target, kind, action) => {
                return Err(StepError::Skip(format!("{action:?} of a {kind} on {target:?} is not a sync step")));
            }
        }
        if forget {
            let mut conn = self.db.conn().await.map_err(ServiceError::from)?;
            base_store::remove(&mut conn, id, &change.kind, &remote_id).await?;
            if change.kind == DEPARTMENT {
                pairings.forget_remote(&remote_id);
            }
            return Ok(());
        }
        if change.kind == DEPARTMENT {
            pairings.pair(&local_id, &remote_id);
        }
        self.base(id, &change.kind, &remote_id, &local_id, &shape).await?;
        Ok(())
    }

    async fn base(
        &self,
        id: &IntegrationId,
        kind: &str,
        remote: &str,
        local: &str,
        shape: &Shape,
    ) -> ServiceResult<()> {
        let mut conn = self.db.conn().await?;
        let item = BaseItem {
            kind: kind.to_owned(),
            remote_id: remote.to_owned(),
            local_id: local.to_owned(),
            name: shape.name.clone(),
            parent: shape.parent.clone(),
            mobile: shape.mobile.clone(),
        };
        Ok(base_store::put(&mut conn, id, &item).await?)
    }

    async fn link(&self, ctx: &Ctx, id: &IntegrationId, employee: &str, user: &str) -> ServiceResult<()> {
        let link = integrations::Link {
            integration_id: id.clone(),
            employee_id: EmployeeId::from_db(employee.to_owned()),
            external_user_id: user.to_owned(),
            created_at: chrono::Utc::now(),
        };
        let mut conn = self.db.conn().await?;
        crate::integrations::insert_link(&mut conn, ctx, &link).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dakoku_domain::OrgId;

    fn department(id: &str, name: &str, parent: Option<&str>) -> Department {
        Department {
            id: DepartmentId::from_db(id.into()),
            org_id: OrgId::from_db("o".into()),
            name: name.into(),
            code: None,
            parent_id: parent.map(|p| DepartmentId::from_db(p.into())),
            created_at: chrono::Utc::now(),
        }
    }

    fn employee(id: &str, code: &str, name: &str, department: Option<&str>) -> Employee {
        Employee {
            id: EmployeeId::from_db(id.into()),
            org_id: OrgId::from_db("o".into()),
            code: code.into(),
            name: name.into(),
            email: None,
            timezone: None,
            department_id: department.map(|d| DepartmentId::from_db(d.into())),
            mobile: None,
            status: EmployeeStatus::Active,
            retired_on: None,
            created_at: chrono::Utc::now(),
        }
    }

    fn remote_department(id: &str, name: &str, parent: Option<&str>) -> RemoteDepartment {
        RemoteDepartment { id: id.into(), name: name.into(), parent_id: parent.map(str::to_owned) }
    }

    fn member(id: &str, name: &str, department: Option<&str>) -> RemoteMember {
        RemoteMember {
            user_id: id.into(),
            name: name.into(),
            department_id: department.map(str::to_owned),
            email: None,
            mobile: None,
        }
    }

    fn base(kind: &str, remote: &str, local: &str, name: &str, parent: Option<&str>) -> BaseItem {
        BaseItem {
            kind: kind.into(),
            remote_id: remote.into(),
            local_id: local.into(),
            name: name.into(),
            parent: parent.map(str::to_owned),
            mobile: None,
        }
    }

    fn summary(plan: &SyncPlan) -> Vec<String> {
        plan.changes.iter().map(|c| format!("{:?} {:?} {} {}", c.target, c.action, c.kind, c.shape.name)).collect()
    }

    #[test]
    fn read_creates_parents_first_and_adopts_by_code() {
        let local = LocalOrg {
            departments: vec![],
            employees: vec![employee("e1", "zhangsan", "张三", None)],
            links: HashMap::new(),
            base: vec![],
        };
        let remote = Directory {
            departments: vec![remote_department("3", "研发一组", Some("2")), remote_department("2", "研发部", None)],
            members: vec![member("ZhangSan", "张三", Some("3")), member("lisi", "李四", Some("2"))],
            keyed_by_mobile: false,
        };
        let plan = plan(Direction::Read, &local, &remote);
        assert_eq!(
            summary(&plan),
            [
                "Dakoku Create department 研发部",
                "Dakoku Create department 研发一组",
                "Dakoku Link member 张三",
                "Dakoku Update member 张三",
                "Dakoku Create member 李四",
            ]
        );
        assert!(plan.conflicts.is_empty());
    }

    #[test]
    fn a_change_on_the_written_side_is_a_conflict_not_an_overwrite() {
        let local = LocalOrg {
            departments: vec![department("d1", "営業部 (HR renamed)", None)],
            employees: vec![employee("e1", "u1", "山田", Some("d1"))],
            links: HashMap::from([(EmployeeId::from_db("e1".into()), "u1".to_owned())]),
            base: vec![base(DEPARTMENT, "2", "d1", "営業部", None), base(MEMBER, "u1", "e1", "山田", Some("2"))],
        };
        let remote = Directory {
            departments: vec![remote_department("2", "営業本部", None)],
            members: vec![member("u1", "山田太郎", Some("2"))],
            keyed_by_mobile: false,
        };
        let read = plan(Direction::Read, &local, &remote);
        assert_eq!(summary(&read), ["Dakoku Update member 山田太郎"]);
        assert_eq!(read.conflicts.len(), 1);
        assert_eq!(read.conflicts[0].kind, DEPARTMENT);
        let write = plan(Direction::Write, &local, &remote);
        assert!(write.changes.is_empty(), "{:?}", summary(&write));
        assert_eq!(write.conflicts.len(), 2);
    }

    #[test]
    fn members_gone_from_the_platform_are_retired_unless_the_list_is_empty() {
        let local = LocalOrg {
            departments: vec![],
            employees: vec![employee("e1", "u1", "A", None), employee("e2", "u2", "B", None)],
            links: HashMap::from([
                (EmployeeId::from_db("e1".into()), "u1".to_owned()),
                (EmployeeId::from_db("e2".into()), "u2".to_owned()),
            ]),
            base: vec![base(MEMBER, "u1", "e1", "A", None), base(MEMBER, "u2", "e2", "B", None)],
        };
        let one_left =
            Directory { departments: vec![], members: vec![member("u1", "A", None)], keyed_by_mobile: false };
        assert_eq!(summary(&plan(Direction::Read, &local, &one_left)), ["Dakoku Retire member B"]);
        let nobody = plan(Direction::Read, &local, &Directory::default());
        assert!(nobody.changes.is_empty());
        assert_eq!(nobody.conflicts.len(), 1);
    }

    #[test]
    fn write_creates_missing_departments_before_their_members_and_deletes_last() {
        let local = LocalOrg {
            departments: vec![department("d2", "Child", Some("d1")), department("d1", "Parent", None)],
            employees: vec![employee("e1", "u1", "A", Some("d2"))],
            links: HashMap::new(),
            base: vec![base(DEPARTMENT, "9", "gone", "Old", None)],
        };
        let remote = Directory {
            departments: vec![remote_department("9", "Old", None)],
            members: vec![],
            keyed_by_mobile: false,
        };
        let plan = plan(Direction::Write, &local, &remote);
        assert_eq!(
            summary(&plan),
            [
                "Platform Create department Parent",
                "Platform Create department Child",
                "Platform Create member A",
                "Platform Delete department Old",
            ]
        );
        assert_eq!(plan.changes[1].shape.parent.as_deref(), Some("local:d1"));
    }
}
