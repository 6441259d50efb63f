//! Chat platform integrations: settings with their secrets sealed under the master key, a
//! secret callback URL per integration, and the links from platform users to employees.

use crate::auth::hash_token;
use crate::departments::require_people_manager;
use crate::error::OrNotFound;
use crate::paging::Listed;
use crate::{audit, Ctx, PageRequest, Service, ServiceError, ServiceResult};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use chrono::{DateTime, Utc};
use dakoku_domain::{validate, EmployeeId, IntegrationId, OrgId, Platform, ValidationErrors};
use dakoku_store::integrations::{self, Link, StoredIntegration};
use dakoku_store::{chat, employees, StoreError};
use rand::RngCore;
use serde::Serialize;
use serde_json::{Map, Value};

/// What is shown of an integration. Secret settings appear by name only.
#[derive(Clone, Debug, Serialize)]
pub struct IntegrationView {
    pub id: IntegrationId,
    pub platform: Platform,
    pub name: String,
    pub callback_url: String,
    pub settings: Map<String, Value>,
    /// Names of the secret settings that are set (their values are never shown).
    pub secrets_set: Vec<String>,
    /// Secrets generated for this request, shown once (never stored in the view or audit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated: Option<Map<String, Value>>,
    pub created_at: DateTime<Utc>,
}

/// A decrypted integration, for the platform adapters.
#[derive(Clone)]
pub struct OpenIntegration {
    pub stored: StoredIntegration,
    pub secrets: Map<String, Value>,
}

impl OpenIntegration {
    /// The text with every secret value of this integration blotted out: a last guard on
    /// what an adapter says to an admin, in case a platform echoes a credential back.
    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for secret in self.secrets.values().filter_map(Value::as_str).filter(|s| s.len() >= 4) {
            text = text.replace(secret, "(secret)");
        }
        text
    }
}

fn secrets_context(id: &IntegrationId) -> String {
    format!("integration:{id}:secrets")
}

fn token_context(id: &IntegrationId) -> String {
    format!("integration:{id}:token")
}

/// A platform access token, with the sealed form it is stored under.
#[derive(Clone)]
pub struct PlatformToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    sealed: String,
}

impl std::fmt::Debug for PlatformToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlatformToken").field("token", &"(secret)").field("expires_at", &self.expires_at).finish()
    }
}

fn callback_context(id: &IntegrationId) -> String {
    format!("integration:{id}:callback")
}

/// Settings that are switches, and settings that are counts (minutes, hours, rates).
const FLAG_SETTINGS: &[&str] =
    &["push_punches", "rich_menu", "punch_reminders", "anomaly_notices", "approval_requests"];
fn is_count_setting(key: &str) -> bool {
    key.ends_with("_minutes") || key.ends_with("_seconds") || key.ends_with("_hour") || key.ends_with("_per_minute")
}

/// Checks settings and separates the secret ones, which are sealed, from the rest.
fn split_settings(
    errors: &mut ValidationErrors,
    platform: Platform,
    settings: Map<String, Value>,
) -> (Map<String, Value>, Map<String, Value>) {
    for required in platform.required_settings() {
        match settings.get(*required) {
            Some(Value::String(s)) if !s.trim().is_empty() => {}
            Some(Value::Number(_)) if !platform.secret_settings().contains(required) => {}
            _ => errors.add(&format!("settings.{required}"), "is required"),
        }
    }
    let known = platform.known_settings();
    let mut public = Map::new();
    let mut secrets = Map::new();
    for (key, value) in settings {
        let field = format!("settings.{key}");
        if !known.contains(&key.as_str()) {
            errors.add(&field, format!("is not a setting of this platform; accepted: {}", known.join(", ")));
            continue;
        }
        if let Value::String(text) = &value {
            let longest = if key.ends_with("_key") || key.ends_with("_secret") || key == "secret" { 8192 } else { 512 };
            if text.chars().any(dakoku_domain::validate::is_forbidden_control) {
                errors.add(&field, "must not contain control characters");
            } else if text.len() > longest {
                errors.add(&field, format!("must be at most {longest} bytes"));
            }
        } else if value.to_string().len() > 16 * 1024 {
            errors.add(&field, "must be at most 16 KiB of JSON");
        }
        if platform.secret_settings().contains(&key.as_str()) {
            match value.as_str() {
                None => errors.add(&field, "must be a string"),
                Some(key_text) if key == "encoding_aes_key" || key == "aes_key" => {
                    if key_text.len() != 43 || !key_text.chars().all(|c| c.is_ascii_alphanumeric()) {
                        errors.add(&field, "must be exactly 43 letters and digits, as the platform's console shows it");
                    }
                }
                Some(_) => {}
            }
            secrets.insert(key, value);
        } else {
            if key.ends_with("_url")
                && !value.as_str().is_some_and(|u| u.starts_with("https://") || u.starts_with("http://"))
            {
                errors.add(&field, "must be an http:// or https:// URL");
            }
            if FLAG_SETTINGS.contains(&key.as_str()) && !value.is_boolean() {
                errors.add(&field, "must be true or false");
            }
            if is_count_setting(&key) && value.as_u64().is_none_or(|n| n > 1_000_000) {
                errors.add(&field, "must be a whole number, 0 or more");
            }
            public.insert(key, value);
        }
    }
    (public, secrets)
}

/// Refuses a change of the host a platform's calls go to unless the operator allows such
/// overrides, and even then unless every secret of the integration is given again in the same
/// request: whoever chooses the host receives the credentials on the next call, so changing
/// it must take knowing them.
fn check_host_change(
    errors: &mut ValidationErrors,
    policy: &dakoku_config::Policy,
    platform: Platform,
    before: Option<&Map<String, Value>>,
    changes: &Map<String, Value>,
) {
    let changed: Vec<&str> = platform
        .host_settings()
        .iter()
        .copied()
        .filter(|key| {
            changes
                .get(*key)
                .filter(|v| !v.is_null())
                .is_some_and(|value| before.and_then(|b| b.get(*key)) != Some(value))
        })
        .collect();
    if !policy.allow_platform_hosts {
        for key in &changed {
            errors.add(
                &format!("settings.{key}"),
                "platform hosts cannot be changed on this server (the operator may allow it with DAKOKU_ALLOW_PLATFORM_HOSTS)",
            );
        }
    } else if !changed.is_empty() && before.is_some() {
        for secret in platform.secret_settings() {
            let given = changes.get(*secret).and_then(Value::as_str).is_some_and(|s| !s.is_empty() && s != "generate");
            if !given && platform.required_settings().contains(secret) {
                errors.add(
                    &format!("settings.{secret}"),
                    format!("must be given again when {} changes, since the new host receives it", changed.join(", ")),
                );
            }
        }
    }
}

/// Stores a link with its audit entry, in the caller's transaction.
pub(crate) async fn insert_link(conn: &mut dakoku_store::Conn, ctx: &Ctx, link: &Link) -> ServiceResult<()> {
    integrations::insert_link(conn, ctx.org(), link).await.map_err(|e| match e {
        StoreError::Conflict(_) => {
            ServiceError::Conflict("this platform user, or this employee, is already linked in this integration".into())
        }
        other => other.into(),
    })?;
    let id = link.integration_id.as_str();
    audit::record(conn, ctx, "integration.link", "integration", id, audit::NOTHING, Some(link)).await?;
    Ok(())
}

pub(crate) fn require_admin(ctx: &Ctx) -> ServiceResult<()> {
    if ctx.actor.is_admin() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden("only admins manage integrations".into()))
    }
}

impl Service {
    pub async fn create_integration(
        &self,
        ctx: &Ctx,
        platform: Platform,
        name: &str,
        settings: Map<String, Value>,
    ) -> ServiceResult<IntegrationView> {
        require_admin(ctx)?;
        let mut settings = settings;
        let generated = self.generate_settings(platform, &mut settings);
        let mut errors = ValidationErrors::default();
        check_host_change(&mut errors, &self.policy, platform, None, &settings);
        let name = validate::required_text(&mut errors, "name", name, 200);
        let (public, secrets) = split_settings(&mut errors, platform, settings);
        errors.into_result()?;

        let id = IntegrationId::new();
        let mut raw = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let callback_token = B64.encode(raw);
        let now = self.clock.now();
        let stored = StoredIntegration {
            secrets_sealed: self.cipher.encrypt(Value::Object(secrets).to_string().as_bytes(), &secrets_context(&id)),
            callback_token_sealed: self.cipher.encrypt(callback_token.as_bytes(), &callback_context(&id)),
            id,
            org_id: ctx.org().clone(),
            platform,
            name,
            settings: public,
            created_at: now,
            updated_at: now,
        };
        let view = self.view(&stored)?;
        let mut tx = self.db.begin().await?;
        integrations::insert(&mut tx, &stored, &hash_token(&callback_token)).await?;
        let audited = IntegrationView { callback_url: "(secret)".into(), ..view.clone() };
        audit::record(
            &mut tx,
            ctx,
            "integration.create",
            "integration",
            stored.id.as_str(),
            audit::NOTHING,
            Some(&audited),
        )
        .await?;
        self.enqueue_sync(&mut tx, &stored).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(IntegrationView { generated, ..view })
    }

    /// Replaces settings given as "generate" with fresh values, where the platform can make
    /// them (WeCom's callback Token and EncodingAESKey); returns what was made.
    fn generate_settings(&self, platform: Platform, settings: &mut Map<String, Value>) -> Option<Map<String, Value>> {
        let port = self.port(platform)?;
        let mut made = Map::new();
        for (key, value) in settings.iter_mut() {
            if value.as_str() == Some("generate") {
                if let Some(fresh) = port.generate_setting(key) {
                    *value = Value::String(fresh.clone());
                    made.insert(key.clone(), Value::String(fresh));
                }
            }
        }
        (!made.is_empty()).then_some(made)
    }

    /// Changes an integration's name or settings. Settings are merged: a key set to `null` is
    /// removed, other keys replace their old value, keys not given stay. Secrets stay sealed.
    pub async fn update_integration(
        &self,
        ctx: &Ctx,
        id: &IntegrationId,
        name: Option<&str>,
        changes: Map<String, Value>,
    ) -> ServiceResult<IntegrationView> {
        require_admin(ctx)?;
        let open = self.open_integration(ctx.org(), id).await?;
        let before = self.view(&open.stored)?;
        let mut merged = open.stored.settings.clone();
        merged.extend(open.secrets.clone());
        let mut changes = changes;
        let generated = self.generate_settings(open.stored.platform, &mut changes);
        let mut errors = ValidationErrors::default();
        check_host_change(&mut errors, &self.policy, open.stored.platform, Some(&open.stored.settings), &changes);
        for (key, value) in changes {
            if value.is_null() {
                merged.remove(&key);
            } else {
                merged.insert(key, value);
            }
        }
        let name = match name {
            Some(n) => validate::required_text(&mut errors, "name", n, 200),
            None => open.stored.name.clone(),
        };
        let (public, secrets) = split_settings(&mut errors, open.stored.platform, merged);
        errors.into_result()?;
        let stored = StoredIntegration {
            name,
            settings: public,
            secrets_sealed: self.cipher.encrypt(Value::Object(secrets).to_string().as_bytes(), &secrets_context(id)),
            updated_at: self.clock.now(),
            ..open.stored
        };
        let view = self.view(&stored)?;
        let mut tx = self.db.begin().await?;
        integrations::update(&mut tx, &stored).await?;
        // A token fetched with the old credentials (or from the old server) must not be used.
        chat::drop_token(&mut tx, id).await?;
        let hide = |v: &IntegrationView| IntegrationView { callback_url: "(secret)".into(), ..v.clone() };
        audit::record(
            &mut tx,
            ctx,
            "integration.update",
            "integration",
            id.as_str(),
            Some(&hide(&before)),
            Some(&hide(&view)),
        )
        .await?;
        self.enqueue_sync(&mut tx, &stored).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(IntegrationView { generated, ..view })
    }

    /// Lets the platform adapter bring the platform in line with the settings (for example
    /// LINE WORKS' rich menu), as a job after the change is committed.
    async fn enqueue_sync(&self, conn: &mut dakoku_store::Conn, stored: &StoredIntegration) -> ServiceResult<()> {
        if let Some(kind) = self.port(stored.platform).and_then(|p| p.sync_job()) {
            let payload = serde_json::json!({ "integration_id": stored.id });
            let job = dakoku_store::jobs::NewJob::now(kind, Some(stored.org_id.clone()), payload);
            dakoku_store::jobs::enqueue(conn, &job).await?;
        }
        Ok(())
    }

    /// Writes one entry of the operation log. The detail must hold no secret (adapters log the
    /// operation, the platform's code and message, never tokens or bodies).
    pub async fn log_platform_call(
        &self,
        integration: &IntegrationId,
        operation: &str,
        result: Result<(), String>,
        duration: std::time::Duration,
    ) {
        let call = chat::PlatformCall {
            id: dakoku_domain::PlatformCallId::new(),
            operation: operation.chars().take(200).collect(),
            ok: result.is_ok(),
            detail: result.err().unwrap_or_default().chars().take(1000).collect(),
            duration_ms: duration.as_millis().min(i64::MAX as u128) as i64,
            created_at: self.clock.now(),
        };
        let logged = match self.db.conn().await {
            Ok(mut conn) => chat::log_call(&mut conn, integration, &call).await,
            Err(e) => Err(e),
        };
        if let Err(e) = logged {
            tracing::warn!(%integration, error = %e, "could not write the operation log");
        }
    }

    /// The operation log of an integration, newest first (admins only).
    pub async fn platform_calls(
        &self,
        ctx: &Ctx,
        id: &IntegrationId,
        page: &PageRequest,
    ) -> ServiceResult<Listed<chat::PlatformCall>> {
        require_admin(ctx)?;
        let mut conn = self.db.conn().await?;
        integrations::get(&mut conn, ctx.org(), id).await.or_not_found(|| format!("no integration with id {id}"))?;
        let page = chat::calls(&mut conn, ctx.org(), id, page.after(), page.limit).await?;
        Ok(Listed { items: page.items, next_cursor: page.next.as_deref().map(crate::paging::encode_cursor) })
    }

    /// Binds a request signature that does not cover the body (DingTalk robots sign only the
    /// timestamp) to the first body seen with it. True when this body may go on: the first use
    /// of the signature, or the same body delivered again; false when a captured signature is
    /// being reused with another message.
    pub async fn bind_signature(
        &self,
        integration: &IntegrationId,
        signature: &str,
        body: &[u8],
    ) -> ServiceResult<bool> {
        use sha2::{Digest, Sha256};
        let signature = hex::encode(Sha256::digest(signature.as_bytes()));
        let body = hex::encode(Sha256::digest(body));
        let (signature_key, pair_key) = (format!("signature:{signature}"), format!("signature:{signature}:{body}"));
        let mut tx = self.db.begin().await?;
        let allowed = if chat::claim_event(&mut tx, integration, &signature_key).await? {
            chat::claim_event(&mut tx, integration, &pair_key).await?;
            true
        } else {
            chat::event_seen(&mut tx, integration, &pair_key).await?
        };
        tx.commit().await.map_err(StoreError::from)?;
        Ok(allowed)
    }

    /// A value the platform adapter keeps for an integration (such as the id of a menu it made).
    pub async fn integration_state(&self, id: &IntegrationId, key: &str) -> ServiceResult<Option<String>> {
        let mut conn = self.db.conn().await?;
        Ok(chat::state(&mut conn, id, key).await?)
    }

    pub async fn set_integration_state(&self, id: &IntegrationId, key: &str, value: Option<&str>) -> ServiceResult<()> {
        let mut conn = self.db.conn().await?;
        chat::put_state(&mut conn, id, key, value).await?;
        Ok(())
    }

    pub async fn integration(&self, ctx: &Ctx, id: &IntegrationId) -> ServiceResult<IntegrationView> {
        require_admin(ctx)?;
        let mut conn = self.db.conn().await?;
        let stored = integrations::get(&mut conn, ctx.org(), id)
            .await
            .or_not_found(|| format!("no integration with id {id}"))?;
        self.view(&stored)
    }

    pub async fn list_integrations(&self, ctx: &Ctx, page: &PageRequest) -> ServiceResult<Listed<IntegrationView>> {
        require_admin(ctx)?;
        let mut conn = self.db.conn().await?;
        let page = integrations::list(&mut conn, ctx.org(), page.after(), page.limit).await?;
        let items = page.items.iter().map(|i| self.view(i)).collect::<ServiceResult<Vec<_>>>()?;
        Ok(Listed { items, next_cursor: page.next.as_deref().map(crate::paging::encode_cursor) })
    }

    /// Finds the integration a webhook path token belongs to, with its secrets opened.
    pub async fn open_integration_by_callback(
        &self,
        platform: Platform,
        token: &str,
    ) -> ServiceResult<OpenIntegration> {
        let mut conn = self.db.conn().await?;
        let stored = integrations::find_by_callback(&mut conn, &hash_token(token))
            .await
            .or_not_found(|| "no such callback".to_owned())?;
        if stored.platform != platform {
            return Err(ServiceError::NotFound("no such callback".into()));
        }
        self.open(stored)
    }

    /// Opens an integration by id, for jobs that act on it (they carry their organisation).
    pub async fn open_integration(&self, org: &OrgId, id: &IntegrationId) -> ServiceResult<OpenIntegration> {
        let mut conn = self.db.conn().await?;
        let stored =
            integrations::get(&mut conn, org, id).await.or_not_found(|| format!("no integration with id {id}"))?;
        self.open(stored)
    }

    fn open(&self, stored: StoredIntegration) -> ServiceResult<OpenIntegration> {
        let plain = self.cipher.decrypt(&stored.secrets_sealed, &secrets_context(&stored.id))?;
        let secrets =
            serde_json::from_slice(&plain).map_err(|e| StoreError::Corrupt(format!("integration secrets: {e}")))?;
        Ok(OpenIntegration { stored, secrets })
    }

    /// The platform access token every instance shares, if one is stored and still good
    /// `margin` from now.
    pub async fn platform_token(
        &self,
        integration: &IntegrationId,
        margin: chrono::Duration,
    ) -> ServiceResult<Option<PlatformToken>> {
        let mut conn = self.db.conn().await?;
        let Some(stored) = chat::token(&mut conn, integration).await? else { return Ok(None) };
        if stored.expires_at <= self.clock.now() + margin {
            return Ok(None);
        }
        let plain = self.cipher.decrypt(&stored.sealed, &token_context(integration))?;
        let token = String::from_utf8(plain).map_err(|_| StoreError::Corrupt("platform token".into()))?;
        Ok(Some(PlatformToken { token, expires_at: stored.expires_at, sealed: stored.sealed }))
    }

    pub async fn save_platform_token(
        &self,
        integration: &IntegrationId,
        token: &str,
        expires_at: DateTime<Utc>,
    ) -> ServiceResult<PlatformToken> {
        let sealed = self.cipher.encrypt(token.as_bytes(), &token_context(integration));
        let mut conn = self.db.conn().await?;
        chat::put_token(&mut conn, integration, &chat::StoredToken { sealed: sealed.clone(), expires_at }).await?;
        Ok(PlatformToken { token: token.to_owned(), expires_at, sealed })
    }

    /// Drops a token the platform refused, unless another instance has replaced it already.
    pub async fn forget_platform_token(&self, integration: &IntegrationId, token: &PlatformToken) -> ServiceResult<()> {
        let mut conn = self.db.conn().await?;
        chat::forget_token(&mut conn, integration, &token.sealed).await?;
        Ok(())
    }

    pub async fn link_employee(
        &self,
        ctx: &Ctx,
        integration: &IntegrationId,
        employee: &EmployeeId,
        external_user_id: &str,
    ) -> ServiceResult<Link> {
        require_people_manager(ctx)?;
        let mut errors = ValidationErrors::default();
        let external_user_id = validate::required_text(&mut errors, "external_user_id", external_user_id, 256);
        errors.into_result()?;
        let open = self.open_integration(ctx.org(), integration).await?;
        // The platform may know the user by another name (a login e-mail): ask it.
        let external_user_id = match self.port(open.stored.platform) {
            Some(port) => port
                .resolve_user(self, &open, &external_user_id)
                .await
                .map_err(|why| ServiceError::invalid("external_user_id", why))?,
            None => external_user_id,
        };
        let mut tx = self.db.begin().await?;
        employees::get(&mut tx, ctx.org(), employee).await.map_err(|e| match e {
            StoreError::NotFound => ServiceError::invalid("employee_id", format!("no employee with id {employee}")),
            other => other.into(),
        })?;
        let link = Link {
            integration_id: integration.clone(),
            employee_id: employee.clone(),
            external_user_id,
            created_at: self.clock.now(),
        };
        insert_link(&mut tx, ctx, &link).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(link)
    }

    /// Links many employees at once from rows of (line, employee code, platform user or login
    /// e-mail). Every row is checked first (employee exists, user found on the platform, no
    /// link taken twice); nothing is written if a row fails unless `skip_invalid`.
    pub async fn import_links(
        &self,
        ctx: &Ctx,
        integration: &IntegrationId,
        rows: &[(u64, String, String)],
        skip_invalid: bool,
        progress: &(dyn Fn(u64) + Sync),
    ) -> ServiceResult<crate::employees::ImportReport> {
        require_people_manager(ctx)?;
        let open = self.open_integration(ctx.org(), integration).await?;
        let port = self.port(open.stored.platform);
        let mut report = crate::employees::ImportReport::default();
        // The rows' employees and the links already made, read first: on SQLite the one
        // connection must be free while the platform is asked about users (its token is stored).
        let mut conn = self.db.conn().await?;
        let existing = integrations::list_links(&mut conn, ctx.org(), integration).await?;
        let mut found = Vec::with_capacity(rows.len());
        for (line, code, given) in rows {
            match employees::get_by_code(&mut conn, ctx.org(), code.trim()).await {
                Ok(e) => found.push((*line, code, given.trim(), e)),
                Err(StoreError::NotFound) => report.rejected.push((*line, format!("no employee with code '{code}'"))),
                Err(e) => return Err(e.into()),
            }
        }
        drop(conn);
        let mut users: std::collections::HashSet<String> =
            existing.iter().map(|l| l.external_user_id.clone()).collect();
        let mut linked: std::collections::HashSet<EmployeeId> = existing.into_iter().map(|l| l.employee_id).collect();
        let mut valid = Vec::new();
        for (done, (line, code, given, employee)) in found.into_iter().enumerate() {
            progress(done as u64);
            if given.is_empty() {
                report.rejected.push((line, "the platform user is empty".into()));
                continue;
            }
            let user = match &port {
                Some(port) => match port.resolve_user(self, &open, given).await {
                    Ok(user) => user,
                    Err(why) => {
                        report.rejected.push((line, why));
                        continue;
                    }
                },
                None => given.to_owned(),
            };
            if !users.insert(user.clone()) {
                report.rejected.push((line, format!("the platform user {given} is already linked")));
                continue;
            }
            if !linked.insert(employee.id.clone()) {
                report.rejected.push((line, format!("employee {code} is already linked")));
                continue;
            }
            valid.push(Link {
                integration_id: integration.clone(),
                employee_id: employee.id,
                external_user_id: user,
                created_at: self.clock.now(),
            });
        }
        report.rejected.sort_by_key(|(line, _)| *line);
        if !report.rejected.is_empty() && !skip_invalid {
            return Ok(report);
        }
        let mut tx = self.db.begin().await?;
        for link in &valid {
            insert_link(&mut tx, ctx, link).await?;
        }
        tx.commit().await.map_err(StoreError::from)?;
        report.imported = valid.len() as u64;
        Ok(report)
    }

    pub async fn list_links(&self, ctx: &Ctx, integration: &IntegrationId) -> ServiceResult<Listed<Link>> {
        require_people_manager(ctx)?;
        let mut conn = self.db.conn().await?;
        integrations::get(&mut conn, ctx.org(), integration)
            .await
            .or_not_found(|| format!("no integration with id {integration}"))?;
        Ok(Listed { items: integrations::list_links(&mut conn, ctx.org(), integration).await?, next_cursor: None })
    }

    fn view(&self, stored: &StoredIntegration) -> ServiceResult<IntegrationView> {
        let token = self.cipher.decrypt(&stored.callback_token_sealed, &callback_context(&stored.id))?;
        let plain = self.cipher.decrypt(&stored.secrets_sealed, &secrets_context(&stored.id))?;
        let secrets: Map<String, Value> =
            serde_json::from_slice(&plain).map_err(|e| StoreError::Corrupt(format!("integration secrets: {e}")))?;
        Ok(IntegrationView {
            id: stored.id.clone(),
            platform: stored.platform,
            name: stored.name.clone(),
            callback_url: format!(
                "{}/hooks/{}/{}",
                self.public_url,
                stored.platform.as_str(),
                String::from_utf8_lossy(&token)
            ),
            settings: stored.settings.clone(),
            secrets_set: secrets.keys().cloned().collect(),
            generated: None,
            created_at: stored.created_at,
        })
    }
}
