//! Applying a plan: each step against the store or the platform, committed on its own with
//! its base, and the report.

use super::*;
/// Department pairings as they stand during an apply, both ways.
#[derive(Default)]
pub(super) struct Pairings {
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
pub(super) enum StepError {
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
        let job = dakoku_store::jobs::NewJob::now(dakoku_domain::JobKind::OrgSync, Some(ctx.org().clone()), payload);
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
        let mut job = dakoku_store::jobs::NewJob::now(
            dakoku_domain::JobKind::OrgSync,
            Some(integration.stored.org_id.clone()),
            payload,
        );
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
                crate::platform_punches::enqueue_periodic(
                    &mut conn,
                    &stored,
                    dakoku_domain::JobKind::OrgSync,
                    every,
                    now,
                    payload,
                )
                .await?,
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
        for b in local.base.iter().filter(|b| b.kind == Item::Department.as_str()) {
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
        match (change.target, change.kind, change.action) {
            (_, Item::Department, Action::Link) => {}
            (Target::Dakoku, Item::Department, Action::Create) => {
                let parent_id = pairings.local_parent(&shape.parent).map_err(StepError::Skip)?;
                let input = crate::departments::NewDepartment { name: shape.name.clone(), code: None, parent_id };
                let created = self.create_department(&ctx, input).await?;
                self.base(id, Item::Department, &remote_id, created.id.as_str(), &shape).await?;
                pairings.pair(created.id.as_str(), &remote_id);
                return Ok(());
            }
            (Target::Dakoku, Item::Department, Action::Update) => {
                let patch = crate::departments::DepartmentPatch {
                    name: Some(shape.name.clone()),
                    code: None,
                    parent_id: Some(pairings.local_parent(&shape.parent).map_err(StepError::Skip)?),
                };
                self.update_department(&ctx, &DepartmentId::from_db(local_id.clone()), patch).await?;
            }
            (Target::Dakoku, Item::Department, Action::Delete) => {
                self.delete_department(&ctx, &DepartmentId::from_db(local_id.clone())).await?;
                forget = true;
            }
            (Target::Dakoku, Item::Member, Action::Create) => {
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
                self.base(id, Item::Member, &remote_id, created.id.as_str(), &shape).await?;
                return Ok(());
            }
            (Target::Dakoku, Item::Member, Action::Update) => {
                let patch = crate::employees::EmployeePatch {
                    name: Some(shape.name.clone()),
                    department_id: Some(pairings.local_parent(&shape.parent).map_err(StepError::Skip)?),
                    mobile: shape.mobile.clone().map(Some),
                    ..Default::default()
                };
                self.update_employee(&ctx, &EmployeeId::from_db(local_id.clone()), patch).await?;
            }
            (Target::Dakoku, Item::Member, Action::Retire) => {
                self.retire_employee(&ctx, &EmployeeId::from_db(local_id.clone()), None).await?;
                let mut conn = self.db.conn().await.map_err(ServiceError::from)?;
                integrations::remove_link(&mut conn, id, &remote_id).await?;
                forget = true;
            }
            (_, Item::Member, Action::Link) => self.link(&ctx, id, &local_id, &remote_id).await?,
            (Target::Platform, Item::Department, Action::Create) => {
                let parent_id = pairings.remote_parent(&shape.parent).map_err(StepError::Skip)?;
                let write = DirectoryWrite::CreateDepartment { name: shape.name.clone(), parent_id: parent_id.clone() };
                let created = port.write_directory(self, integration, &write).await?;
                remote_id =
                    created.ok_or_else(|| StepError::Skip("the platform gave no id for the department".into()))?;
                shape.parent = parent_id;
                pairings.pair(&local_id, &remote_id);
            }
            (Target::Platform, Item::Department, Action::Update) => {
                shape.parent = pairings.remote_parent(&shape.parent).map_err(StepError::Skip)?;
                let write = DirectoryWrite::UpdateDepartment {
                    id: remote_id.clone(),
                    name: shape.name.clone(),
                    parent_id: shape.parent.clone(),
                };
                port.write_directory(self, integration, &write).await?;
            }
            (Target::Platform, Item::Department, Action::Delete) => {
                port.write_directory(self, integration, &DirectoryWrite::DeleteDepartment { id: remote_id.clone() })
                    .await?;
                forget = true;
            }
            (Target::Platform, Item::Member, Action::Create) => {
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
            (Target::Platform, Item::Member, Action::Update) => {
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
                    base_store::remove(&mut conn, id, Item::Member.as_str(), &remote_id).await?;
                    drop(conn);
                    remote_id = recreated;
                    self.link(&ctx, id, &local_id, &remote_id).await?;
                }
            }
            (Target::Platform, Item::Member, Action::Delete) => {
                port.write_directory(self, integration, &DirectoryWrite::DeleteMember { user_id: remote_id.clone() })
                    .await?;
                let mut conn = self.db.conn().await.map_err(ServiceError::from)?;
                integrations::remove_link(&mut conn, id, &remote_id).await?;
                forget = true;
            }
            (target, kind, action) => {
                return Err(StepError::Skip(format!(
                    "{action:?} of a {} on {target:?} is not a sync step",
                    kind.as_str()
                )));
            }
        }
        if forget {
            let mut conn = self.db.conn().await.map_err(ServiceError::from)?;
            base_store::remove(&mut conn, id, change.kind.as_str(), &remote_id).await?;
            if change.kind == Item::Department {
                pairings.forget_remote(&remote_id);
            }
            return Ok(());
        }
        if change.kind == Item::Department {
            pairings.pair(&local_id, &remote_id);
        }
        self.base(id, change.kind, &remote_id, &local_id, &shape).await?;
        Ok(())
    }

    async fn base(
        &self,
        id: &IntegrationId,
        kind: Item,
        remote: &str,
        local: &str,
        shape: &Shape,
    ) -> ServiceResult<()> {
        let mut conn = self.db.conn().await?;
        let item = BaseItem {
            kind: kind.as_str().to_owned(),
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
