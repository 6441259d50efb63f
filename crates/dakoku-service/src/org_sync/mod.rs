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

/// Where the report of the last sync is kept (integration state).
const LAST_REPORT: &str = "org_sync.last";

/// What a change, a conflict or a base entry is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Item {
    Department,
    Member,
}

impl Item {
    /// The name in reports and in the stored base.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Department => "department",
            Self::Member => "member",
        }
    }
}

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
    pub kind: Item,
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
    pub kind: Item,
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

/// The payload of an org sync job (`JobKind::OrgSync`).
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

mod apply;
mod plan;
pub use plan::{plan, same_number};

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
        plan.changes
            .iter()
            .map(|c| format!("{:?} {:?} {} {}", c.target, c.action, c.kind.as_str(), c.shape.name))
            .collect()
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
            base: vec![
                base(Item::Department.as_str(), "2", "d1", "営業部", None),
                base(Item::Member.as_str(), "u1", "e1", "山田", Some("2")),
            ],
        };
        let remote = Directory {
            departments: vec![remote_department("2", "営業本部", None)],
            members: vec![member("u1", "山田太郎", Some("2"))],
            keyed_by_mobile: false,
        };
        let read = plan(Direction::Read, &local, &remote);
        assert_eq!(summary(&read), ["Dakoku Update member 山田太郎"]);
        assert_eq!(read.conflicts.len(), 1);
        assert_eq!(read.conflicts[0].kind, Item::Department);
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
            base: vec![
                base(Item::Member.as_str(), "u1", "e1", "A", None),
                base(Item::Member.as_str(), "u2", "e2", "B", None),
            ],
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
            base: vec![base(Item::Department.as_str(), "9", "gone", "Old", None)],
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
