//! Writing and reading the audit trail. Entries are written in the transaction of the change.

use crate::paging::Listed;
use crate::{Ctx, PageRequest, Service, ServiceError, ServiceResult};
use chrono::Utc;
use dakoku_domain::AuditId;
use dakoku_store::audit::{self, AuditEntry, Filter};
use dakoku_store::Conn;
use serde::Serialize;

/// Appends one entry; `before`/`after` are the object's JSON (secrets already left out).
pub(crate) async fn record<B: Serialize, A: Serialize>(
    conn: &mut Conn,
    ctx: &Ctx,
    action: &str,
    object_type: &str,
    object_id: &str,
    before: Option<&B>,
    after: Option<&A>,
) -> ServiceResult<()> {
    let entry = AuditEntry {
        id: AuditId::new(),
        org_id: ctx.org().clone(),
        // The wall clock, not the service's: the trail says when a change was really made,
        // even under a test's clock.
        at: Utc::now(),
        actor: ctx.recorder.to_db(),
        action: action.to_owned(),
        object_type: object_type.to_owned(),
        object_id: object_id.to_owned(),
        before: before.map(|b| serde_json::to_value(b).unwrap_or_default()),
        after: after.map(|a| serde_json::to_value(a).unwrap_or_default()),
        request_id: ctx.request_id.clone(),
    };
    audit::insert(conn, &entry).await?;
    Ok(())
}

/// Marker for "no state" in [`record`] calls.
pub(crate) const NOTHING: Option<&()> = None;

impl Service {
    pub async fn list_audit(
        &self,
        ctx: &Ctx,
        filter: &Filter,
        page: &PageRequest,
    ) -> ServiceResult<Listed<AuditEntry>> {
        if !ctx.actor.is_admin() {
            return Err(ServiceError::Forbidden("only admins read the audit log".into()));
        }
        let mut conn = self.db.conn().await?;
        Ok(audit::list(&mut conn, ctx.org(), filter, page.after(), page.limit).await?.into())
    }
}
