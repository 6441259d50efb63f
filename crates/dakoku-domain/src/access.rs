//! Roles and what each may reach. The HTTP layer turns a bearer token into an [`Actor`]; the
//! service layer asks the actor before every read or write.

use crate::{DepartmentId, EmployeeId, OrgId, UserId};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Themselves only.
    Employee,
    /// The department they manage and every department below it.
    Manager,
    /// The whole organisation's people and time; not its accounts, integrations or audit.
    Hr,
    /// Everything in the organisation.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Hr, Role::Manager, Role::Employee];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Hr => "hr",
            Role::Manager => "manager",
            Role::Employee => "employee",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// Which employees this role may read.
    pub fn reach(self) -> Reach {
        match self {
            Role::Admin | Role::Hr => Reach::Organization,
            Role::Manager => Reach::Subtree,
            Role::Employee => Reach::OwnRecord,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    Organization,
    Subtree,
    OwnRecord,
}

/// Who is making a request, resolved from a token. Always bound to one organisation.
#[derive(Clone, Debug)]
pub struct Actor {
    pub org_id: OrgId,
    pub user_id: UserId,
    pub role: Role,
    /// The employee record of the account, if it has one (needed to punch for oneself).
    pub employee_id: Option<EmployeeId>,
    /// For managers: the root of the subtree they manage.
    pub managed_root: Option<DepartmentId>,
    /// For managers: every department id in the subtree they manage (root included).
    pub managed_departments: HashSet<DepartmentId>,
}

impl Actor {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Admin and HR manage people, departments and links across the organisation.
    pub fn manages_people(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Hr)
    }

    pub fn is_self(&self, employee: &EmployeeId) -> bool {
        self.employee_id.as_ref() == Some(employee)
    }

    /// May this actor read the given employee and their time records?
    pub fn can_read_employee(&self, employee: &EmployeeId, department: Option<&DepartmentId>) -> bool {
        if self.is_self(employee) {
            return true;
        }
        match self.role.reach() {
            Reach::Organization => true,
            Reach::Subtree => department.is_some_and(|d| self.managed_departments.contains(d)),
            Reach::OwnRecord => false,
        }
    }

    /// May this actor record a punch for the given employee? Everyone punches for themselves;
    /// only admin and HR enter punches for others (managers go through corrections).
    pub fn can_punch_for(&self, employee: &EmployeeId) -> bool {
        self.is_self(employee) || self.manages_people()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, me: &EmployeeId, managed: &[DepartmentId]) -> Actor {
        Actor {
            org_id: OrgId::new(),
            user_id: UserId::new(),
            role,
            employee_id: Some(me.clone()),
            managed_root: managed.first().cloned(),
            managed_departments: managed.iter().cloned().collect(),
        }
    }

    #[test]
    fn reach_by_role() {
        let me = EmployeeId::new();
        let other = EmployeeId::new();
        let mine = DepartmentId::new();
        let elsewhere = DepartmentId::new();
        let manager = actor(Role::Manager, &me, std::slice::from_ref(&mine));
        assert!(manager.can_read_employee(&other, Some(&mine)));
        assert!(!manager.can_read_employee(&other, Some(&elsewhere)));
        assert!(!manager.can_read_employee(&other, None));
        assert!(manager.can_read_employee(&me, None));
        assert!(!manager.can_punch_for(&other));

        let employee = actor(Role::Employee, &me, &[]);
        assert!(!employee.can_read_employee(&other, Some(&mine)));
        assert!(employee.can_punch_for(&me));

        let hr = actor(Role::Hr, &me, &[]);
        assert!(hr.can_read_employee(&other, None));
        assert!(hr.can_punch_for(&other));
        assert!(!hr.is_admin());
    }

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
