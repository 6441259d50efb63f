//! The platform access token of each integration, shared by every worker and instance through
//! the database (sealed), fetched by one task at a time per process, renewed before it expires.

use chrono::{DateTime, Duration, Utc};
use dakoku_domain::IntegrationId;
use dakoku_service::integrations::PlatformToken;
use dakoku_service::{Service, ServiceError};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

/// A token is renewed this long before it expires, so no call carries one that dies in flight.
pub const MARGIN_SECONDS: i64 = 120;

#[derive(Default)]
pub struct TokenCache {
    fetching: Mutex<HashMap<IntegrationId, Arc<tokio::sync::Mutex<()>>>>,
}

impl TokenCache {
    /// The stored token if it is good for [`MARGIN_SECONDS`] more, else one from `fetch`
    /// (the token and when it expires), which is stored for everyone.
    pub async fn get<E: std::fmt::Display, F, Fut>(
        &self,
        service: &Service,
        integration: &IntegrationId,
        store_error: impl Fn(ServiceError) -> E,
        fetch: F,
    ) -> Result<PlatformToken, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(String, DateTime<Utc>), E>>,
    {
        let margin = Duration::seconds(MARGIN_SECONDS);
        if let Some(token) = service.platform_token(integration, margin).await.map_err(&store_error)? {
            return Ok(token);
        }
        let lock = {
            let mut fetching = self.fetching.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            fetching.entry(integration.clone()).or_default().clone()
        };
        let _guard = lock.lock().await;
        // Another task may have fetched one while this one waited.
        if let Some(token) = service.platform_token(integration, margin).await.map_err(&store_error)? {
            return Ok(token);
        }
        let started = std::time::Instant::now();
        let fetched = fetch().await;
        let outcome = fetched.as_ref().map(|_| ()).map_err(|e| e.to_string());
        service.log_platform_call(integration, "token", outcome, started.elapsed()).await;
        let (token, expires_at) = fetched?;
        service.save_platform_token(integration, &token, expires_at).await.map_err(store_error)
    }
}
