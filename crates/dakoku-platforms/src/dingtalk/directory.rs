//! The DingTalk org directory for org sync (`topapi/v2`): departments walked from the root
//! (`department/listsub`), members of each department paged by cursor (`user/list`, 100 a
//! page), and the writes. DingTalk knows a member by mobile number (unique in the company,
//! required to create one). A new mobile cannot be set on the same member: the member is
//! created again under the new number first and the old one deleted after, so a failure leaves
//! the old member in place; the new user id is handed back for the pairing.
//!
//! The root department (id 1) is the company: its children are dakoku's top-level departments.

use super::api::{Credentials, DingTalk, Payload};
use crate::error::ApiError;
use dakoku_service::integrations::OpenIntegration;
use dakoku_service::org_sync::{Directory, DirectoryWrite, RemoteDepartment, RemoteMember};
use dakoku_service::Service;
use serde_json::{json, Value};
use std::collections::{HashSet, VecDeque};

const ROOT: i64 = 1;
const PAGE: i64 = 100;

fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// A department id as DingTalk's JSON wants it (a number); the root for none.
fn department_number(id: Option<&str>) -> Value {
    match id {
        None => json!(ROOT),
        Some(id) => id.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::from(id)),
    }
}

impl DingTalk {
    async fn post(
        &self,
        service: &Service,
        integration: &OpenIntegration,
        creds: &Credentials,
        path: &str,
        body: Value,
    ) -> Result<Value, ApiError> {
        self.call(service, &integration.stored.id, creds, path, Payload::Json(&body)).await
    }

    pub async fn read_directory(
        &self,
        service: &Service,
        integration: &OpenIntegration,
    ) -> Result<Directory, ApiError> {
        let creds = Credentials::of(integration)?;
        let mut directory = Directory { keyed_by_mobile: true, ..Directory::default() };
        let mut walked = vec![ROOT.to_string()];
        let mut queue = VecDeque::from([ROOT.to_string()]);
        while let Some(parent) = queue.pop_front() {
            let body = json!({"dept_id": department_number(Some(&parent)), "language": "zh_CN"});
            let answer = self.post(service, integration, &creds, "/topapi/v2/department/listsub", body).await?;
            for child in answer.get("result").and_then(Value::as_array).into_iter().flatten() {
                let Some(id) = child.get("dept_id").and_then(id_text) else { continue };
                if walked.contains(&id) {
                    continue;
                }
                directory.departments.push(RemoteDepartment {
                    id: id.clone(),
                    name: child.get("name").and_then(Value::as_str).unwrap_or_default().to_owned(),
                    parent_id: Some(parent.clone()).filter(|p| *p != ROOT.to_string()),
                });
                walked.push(id.clone());
                queue.push_back(id);
            }
        }
        let mut seen = HashSet::new();
        for department in &walked {
            let mut cursor = 0;
            loop {
                let body = json!({"dept_id": department_number(Some(department)), "cursor": cursor, "size": PAGE, "language": "zh_CN"});
                let answer = self.post(service, integration, &creds, "/topapi/v2/user/list", body).await?;
                let result = answer.get("result").cloned().unwrap_or(Value::Null);
                for user in result.get("list").and_then(Value::as_array).into_iter().flatten() {
                    let Some(user_id) = user.get("userid").and_then(Value::as_str) else { continue };
                    if !seen.insert(user_id.to_owned()) {
                        continue;
                    }
                    let text = |name: &str| {
                        user.get(name).and_then(Value::as_str).filter(|v| !v.is_empty()).map(str::to_owned)
                    };
                    let main =
                        user.get("dept_id_list").and_then(Value::as_array).and_then(|d| d.first()).and_then(id_text);
                    directory.members.push(RemoteMember {
                        user_id: user_id.to_owned(),
                        name: text("name").unwrap_or_default(),
                        department_id: main.filter(|d| *d != ROOT.to_string()),
                        email: text("email").or_else(|| text("org_email")),
                        mobile: text("mobile"),
                    });
                }
                match (
                    result.get("has_more").and_then(Value::as_bool),
                    result.get("next_cursor").and_then(Value::as_i64),
                ) {
                    (Some(true), Some(next)) if next != cursor => cursor = next,
                    _ => break,
                }
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
        let result_id = |answer: &Value, name: &str| answer.get("result").and_then(|r| r.get(name)).and_then(id_text);
        match write {
            DirectoryWrite::CreateDepartment { name, parent_id } => {
                let body = json!({"name": name, "parent_id": department_number(parent_id.as_deref())});
                let answer = self.post(service, integration, &creds, "/topapi/v2/department/create", body).await?;
                Ok(result_id(&answer, "dept_id"))
            }
            DirectoryWrite::UpdateDepartment { id, name, parent_id } => {
                let body = json!({"dept_id": department_number(Some(id)), "name": name, "parent_id": department_number(parent_id.as_deref())});
                self.post(service, integration, &creds, "/topapi/v2/department/update", body).await.map(|_| None)
            }
            DirectoryWrite::DeleteDepartment { id } => {
                let body = json!({"dept_id": department_number(Some(id))});
                self.post(service, integration, &creds, "/topapi/v2/department/delete", body).await.map(|_| None)
            }
            DirectoryWrite::CreateMember { user_id, name, department_id, email, mobile } => {
                let Some(mobile) = mobile else {
                    return Err(ApiError::Refused {
                        status: 200,
                        code: "mobile".into(),
                        description: "DingTalk needs a mobile number to create a member: set the employee's mobile"
                            .into(),
                    });
                };
                let mut body = json!({
                    "userid": user_id, "name": name, "mobile": mobile,
                    "dept_id_list": department_number(department_id.as_deref()).to_string(),
                });
                if let Some(email) = email {
                    body["email"] = json!(email);
                }
                let answer = self.post(service, integration, &creds, "/topapi/v2/user/create", body).await?;
                Ok(result_id(&answer, "userid").or_else(|| Some(user_id.clone())))
            }
            DirectoryWrite::UpdateMember { user_id, name, department_id, mobile } => {
                let departments = department_number(department_id.as_deref()).to_string();
                let current =
                    self.post(service, integration, &creds, "/topapi/v2/user/get", json!({"userid": user_id})).await?;
                let current = current.get("result").cloned().unwrap_or(Value::Null);
                let old_mobile = current.get("mobile").and_then(Value::as_str);
                if mobile.is_some() && !dakoku_service::org_sync::same_number(mobile.as_deref(), old_mobile) {
                    // A new number: a new member first, then the old one goes.
                    let mut body = json!({"name": name, "mobile": mobile, "dept_id_list": departments});
                    if let Some(email) = current.get("email").and_then(Value::as_str).filter(|e| !e.is_empty()) {
                        body["email"] = json!(email);
                    }
                    let created = self.post(service, integration, &creds, "/topapi/v2/user/create", body).await?;
                    let new_id = result_id(&created, "userid")
                        .ok_or_else(|| ApiError::Unavailable("user/create answered without a userid".into()))?;
                    self.post(service, integration, &creds, "/topapi/v2/user/delete", json!({"userid": user_id}))
                        .await?;
                    tracing::info!(integration = %integration.stored.id, old = %user_id, new = %new_id, "DingTalk member created again under a new mobile");
                    return Ok(Some(new_id));
                }
                let body = json!({"userid": user_id, "name": name, "dept_id_list": departments});
                self.post(service, integration, &creds, "/topapi/v2/user/update", body).await.map(|_| None)
            }
            DirectoryWrite::DeleteMember { user_id } => self
                .post(service, integration, &creds, "/topapi/v2/user/delete", json!({"userid": user_id}))
                .await
                .map(|_| None),
        }
    }
}
