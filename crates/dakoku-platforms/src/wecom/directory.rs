//! The WeCom org directory for org sync. Reading uses the calls WeCom still allows every
//! self-built app since 2022 (`department/simplelist`, `department/get`, `user/simplelist`
//! per department, which does not recurse); members' e-mails and mobiles are not readable.
//! Writing (`department/create|update|delete`, `user/create|update|delete`) is allowed only
//! with the 通讯录同步 (contact sync) secret, so an integration that writes holds that secret.
//!
//! WeCom's root department (id 1) is the company itself: its children are dakoku's top-level
//! departments, and a member directly in it has no department in dakoku.

use super::api::{Credentials, WeCom};
use crate::error::ApiError;
use dakoku_service::integrations::OpenIntegration;
use dakoku_service::org_sync::{Directory, DirectoryWrite, RemoteDepartment, RemoteMember};
use dakoku_service::Service;
use serde_json::{json, Value};
use std::collections::HashSet;

const ROOT: &str = "1";

fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// WeCom's parent id as dakoku's: the root (or a department outside the visible range) is none.
fn parent_of(parent: Option<String>, visible: &HashSet<String>) -> Option<String> {
    parent.filter(|p| p != ROOT && visible.contains(p))
}

/// A department id as WeCom's JSON wants it (a number).
fn number(id: &str) -> Value {
    id.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::from(id))
}

impl WeCom {
    pub async fn read_directory(
        &self,
        service: &Service,
        integration: &OpenIntegration,
    ) -> Result<Directory, ApiError> {
        let creds = Credentials::of(integration)?;
        let id = &integration.stored.id;
        let listed = self.get(service, id, &creds, "/department/simplelist", &[]).await?;
        let ids: Vec<String> = listed
            .get("department_id")
            .and_then(Value::as_array)
            .map(|items| items.iter().filter_map(|d| d.get("id").and_then(id_text)).collect())
            .unwrap_or_default();
        let visible: HashSet<String> = ids.iter().cloned().collect();
        let mut directory = Directory::default();
        // The root is the company itself: its details are not needed.
        for department in ids.iter().filter(|d| *d != ROOT) {
            let answer = self.get(service, id, &creds, "/department/get", &[("id", department)]).await?;
            let detail = answer.get("department").cloned().unwrap_or(Value::Null);
            let name = detail.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
            let parent = detail.get("parentid").and_then(id_text);
            directory.departments.push(RemoteDepartment {
                id: department.clone(),
                name,
                parent_id: parent_of(parent, &visible),
            });
        }
        let mut seen = HashSet::new();
        for department in &ids {
            let query = [("department_id", department.as_str()), ("fetch_child", "0")];
            let answer = self.get(service, id, &creds, "/user/simplelist", &query).await?;
            for user in answer.get("userlist").and_then(Value::as_array).into_iter().flatten() {
                let Some(user_id) = user.get("userid").and_then(Value::as_str) else { continue };
                if !seen.insert(user_id.to_owned()) {
                    continue;
                }
                // The first department listed is the member's main one.
                let main = user.get("department").and_then(Value::as_array).and_then(|d| d.first()).and_then(id_text);
                directory.members.push(RemoteMember {
                    user_id: user_id.to_owned(),
                    name: user.get("name").and_then(Value::as_str).unwrap_or_default().to_owned(),
                    department_id: parent_of(main, &visible),
                    email: None,
                    mobile: None,
                });
            }
        }
        Ok(directory)
    }

    pub async fn write_directory(
        &self,
        service: &Service,
        integration: &OpenIntegration,
        write: &DirectoryWrite,
    ) -> Result<Option<String>, ApiError> {
        let creds = Credentials::of(integration)?;
        let id = &integration.stored.id;
        let parent = |p: &Option<String>| number(p.as_deref().unwrap_or(ROOT));
        match write {
            DirectoryWrite::CreateDepartment { name, parent_id } => {
                let body = json!({"name": name, "parentid": parent(parent_id)});
                let answer = self.call(service, id, &creds, "/department/create", &body).await?;
                Ok(answer.get("id").and_then(id_text))
            }
            DirectoryWrite::UpdateDepartment { id: department, name, parent_id } => {
                let body = json!({"id": number(department), "name": name, "parentid": parent(parent_id)});
                self.call(service, id, &creds, "/department/update", &body).await.map(|_| None)
            }
            DirectoryWrite::DeleteDepartment { id: department } => {
                self.get(service, id, &creds, "/department/delete", &[("id", department)]).await.map(|_| None)
            }
            DirectoryWrite::CreateMember { user_id, name, department_id, email, .. } => {
                let mut body = json!({"userid": user_id, "name": name, "department": [parent(department_id)]});
                if let Some(email) = email {
                    body["email"] = json!(email);
                }
                self.call(service, id, &creds, "/user/create", &body).await.map(|_| None)
            }
            DirectoryWrite::UpdateMember { user_id, name, department_id, .. } => {
                let body = json!({"userid": user_id, "name": name, "department": [parent(department_id)]});
                self.call(service, id, &creds, "/user/update", &body).await.map(|_| None)
            }
            DirectoryWrite::DeleteMember { user_id } => {
                self.get(service, id, &creds, "/user/delete", &[("userid", user_id)]).await.map(|_| None)
            }
        }
    }
}
