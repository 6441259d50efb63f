//! Which work rule applies: the built-in defaults per jurisdiction, the stored layers of the
//! organisation, its departments and the employee in the versions in force on a date, merged
//! and checked; one at a time (`rule_on`) or for a whole close from one read (`RuleBook`).

use crate::ServiceResult;
use chrono::{DateTime, NaiveDate, Utc};
use dakoku_domain::{Employee, Organization};
use dakoku_rules::WorkRule;
use dakoku_store::timesheets as store;
use dakoku_store::{departments, Conn, StoreError};
use serde_json::Value;
use std::collections::HashMap;

const CHINA_ZONES: &[&str] =
    &["Asia/Shanghai", "Asia/Chongqing", "Asia/Harbin", "Asia/Urumqi", "Asia/Hong_Kong", "Asia/Macau", "PRC"];

/// The built-in rule for an organisation before any setting: Chinese law for a Chinese time
/// zone, Japanese otherwise.
pub fn default_rule(org: &Organization) -> WorkRule {
    if CHINA_ZONES.contains(&org.timezone.name()) {
        WorkRule::china_default(org.timezone.0)
    } else {
        WorkRule::japan_default(org.timezone.0)
    }
}

/// A work rule layer is a few dozen fields; anything far larger is a mistake or an attack.
pub(crate) const MAX_RULE_BYTES: usize = 16 * 1024;

/// Lays partial rule objects over a full rule, key by key, and checks the result.
pub fn merge_rule(base: &WorkRule, layers: &[Value]) -> Result<WorkRule, String> {
    let mut merged = serde_json::to_value(base).map_err(|e| e.to_string())?;
    for layer in layers {
        let (Value::Object(target), Value::Object(layer)) = (&mut merged, layer) else {
            return Err("a work rule must be a JSON object".into());
        };
        for (key, value) in layer {
            target.insert(key.clone(), value.clone());
        }
    }
    let rule: WorkRule = serde_json::from_value(merged).map_err(|e| e.to_string())?;
    rule.check()?;
    Ok(rule)
}

pub(crate) fn parse_layer(text: &str) -> ServiceResult<Value> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("stored work rule: {e}")).into())
}

/// The organisation's date at `now`: which rule versions are "current".
pub(crate) fn org_today(org: &Organization, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&org.timezone.0).date_naive()
}

/// The scopes whose rules and calendar days a department (or its employees) inherits,
/// outermost first: the organisation, then each department from the top of the tree down.
pub(crate) async fn scopes_of(
    conn: &mut Conn,
    org: &Organization,
    department: Option<&dakoku_domain::DepartmentId>,
) -> ServiceResult<Vec<String>> {
    let mut scopes = vec!["org".to_owned()];
    if let Some(id) = department {
        let chain = departments::ancestry(conn, &org.id, id).await?;
        scopes.extend(chain.iter().rev().map(|d| format!("department:{d}")));
    }
    Ok(scopes)
}

/// The rule built from the layers of `scopes` in force on `on`, over the built-in defaults.
pub(crate) async fn layered_rule(
    conn: &mut Conn,
    org: &Organization,
    scopes: &[String],
    base: WorkRule,
    on: NaiveDate,
) -> ServiceResult<WorkRule> {
    merge_layers(&base, &store::rule_layers(conn, &org.id, scopes, on).await?)
}

fn merge_layers(base: &WorkRule, layers: &[(String, String)]) -> ServiceResult<WorkRule> {
    let layers = layers.iter().map(|(_, text)| parse_layer(text)).collect::<ServiceResult<Vec<_>>>()?;
    merge_rule(base, &layers).map_err(|e| StoreError::Corrupt(format!("stored work rule: {e}")).into())
}

/// An employee's rule from the stored layers of their scopes (organisation, departments from
/// the top down, their own): the defaults in their own time zone, which also wins over any
/// layer's.
fn employee_rule(org: &Organization, employee: &Employee, layers: &[(String, String)]) -> ServiceResult<WorkRule> {
    let mut base = default_rule(org);
    if let Some(tz) = employee.timezone {
        base.timezone = tz.0;
    }
    let mut rule = merge_layers(&base, layers)?;
    if let Some(tz) = employee.timezone {
        rule.timezone = tz.0;
    }
    Ok(rule)
}

/// Everything resolving many employees' rules for one date needs, read once: every rule
/// version in force and the department tree (the monthly close resolves thousands).
pub(crate) struct RuleBook {
    versions: store::RuleVersions,
    parents: HashMap<dakoku_domain::DepartmentId, Option<dakoku_domain::DepartmentId>>,
}

impl RuleBook {
    pub(crate) async fn load(conn: &mut Conn, org: &Organization, on: NaiveDate) -> ServiceResult<Self> {
        let versions = store::rule_versions(conn, &org.id, on).await?;
        let parents = departments::all(conn, &org.id).await?.into_iter().map(|d| (d.id, d.parent_id)).collect();
        Ok(Self { versions, parents })
    }

    /// The same rule as [`rule_on`] for the date the book was read for.
    pub(crate) fn rule_of(&self, org: &Organization, employee: &Employee) -> ServiceResult<WorkRule> {
        let mut chain = Vec::new();
        let mut next = employee.department_id.clone();
        while let Some(id) = next.filter(|id| !chain.contains(id) && chain.len() < 64) {
            next = self.parents.get(&id).cloned().flatten();
            chain.push(id);
        }
        let mut scopes = vec!["org".to_owned()];
        scopes.extend(chain.iter().rev().map(|d| format!("department:{d}")));
        scopes.push(format!("employee:{}", employee.id));
        employee_rule(org, employee, &self.versions.layers(&scopes))
    }
}

/// The rule in force for an employee on the organisation's date at `now`.
pub(crate) async fn rule_for(
    conn: &mut Conn,
    org: &Organization,
    employee: &Employee,
    now: DateTime<Utc>,
) -> ServiceResult<WorkRule> {
    rule_on(conn, org, employee, org_today(org, now)).await
}

/// The rule in force for an employee on a date: built-in defaults, then the organisation's
/// settings, then each department from the top of the tree down to theirs, then their own,
/// each in the version that had taken effect by then.
pub(crate) async fn rule_on(
    conn: &mut Conn,
    org: &Organization,
    employee: &Employee,
    on: NaiveDate,
) -> ServiceResult<WorkRule> {
    let mut scopes = scopes_of(conn, org, employee.department_id.as_ref()).await?;
    scopes.push(format!("employee:{}", employee.id));
    employee_rule(org, employee, &store::rule_layers(conn, &org.id, &scopes, on).await?)
}
