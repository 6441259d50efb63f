//! Delivery of outgoing webhooks. Each request is signed so the receiver can check it came
//! from dakoku: `Dakoku-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
//! Receivers dedupe on `Dakoku-Event-Id`: a delivery cut off mid-call is sent again.

use crate::{BoxFuture, JobHandler, Outcome};
use dakoku_service::webhooks::Delivery;
use dakoku_service::Service;
use dakoku_store::jobs::Job;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub struct WebhookDelivery {
    service: Service,
    client: reqwest::Client,
    allow_private: bool,
}

/// Why a receiver is refused before any connection is made.
const INTERNAL_REFUSED: &str = "refused: the receiver's address is internal (loopback, private or link-local); \
                                the operator may allow it with DAKOKU_ALLOW_PRIVATE_WEBHOOKS";

/// Resolves receivers' names and keeps only public addresses, at connect time: a name that
/// resolved to a public address when the webhook was saved and to an internal one now
/// (DNS rebinding) is refused all the same.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> =
                found.iter().copied().filter(|a| !dakoku_domain::net::is_internal(a.ip())).collect();
            if public.is_empty() && !found.is_empty() {
                return Err(INTERNAL_REFUSED.into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

impl WebhookDelivery {
    pub fn new(service: Service) -> Self {
        let allow_private = service.policy.allow_private_webhooks;
        let mut builder = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("dakoku/", env!("CARGO_PKG_VERSION")))
            // A redirect could lead anywhere, past the address check: a receiver answers, it
            // does not send dakoku on.
            .redirect(reqwest::redirect::Policy::none());
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        let client = builder.build().expect("a default HTTP client builds");
        Self { service, client, allow_private }
    }

    async fn deliver(&self, job: &Job) -> Outcome {
        let delivery: Delivery = match serde_json::from_value(job.payload.clone()) {
            Ok(d) => d,
            Err(e) => return Outcome::Fail { error: format!("malformed delivery payload: {e}") },
        };
        let Some(org) = &job.org_id else {
            return Outcome::Fail { error: "delivery without organisation".into() };
        };
        let (url, secret) = match self.service.webhook_for_delivery(org, &delivery.webhook_id).await {
            Ok(Some(found)) => found,
            Ok(None) => return Outcome::Done, // unsubscribed since: nothing to send
            Err(e) => return Outcome::Retry { error: e.to_string(), after: None },
        };
        if !self.allow_private && dakoku_domain::net::url_names_internal_host(&url) {
            return Outcome::Fail { error: INTERNAL_REFUSED.into() };
        }
        let body = delivery.body.to_string();
        let timestamp = chrono::Utc::now().timestamp().to_string();
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&secret).expect("HMAC takes any key");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body.as_bytes());
        let signature = hex::encode(mac.finalize().into_bytes());
        let sent = self
            .client
            .post(&url)
            .header("content-type", "application/json")
            .header("dakoku-event", &delivery.event)
            .header("dakoku-event-id", &delivery.event_id)
            .header("dakoku-delivery", job.id.as_str())
            .header("dakoku-timestamp", &timestamp)
            .header("dakoku-signature", format!("v1={signature}"))
            .body(body)
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => Outcome::Done,
            Ok(response) if response.status() == reqwest::StatusCode::GONE => {
                Outcome::Fail { error: "receiver answered 410 Gone".into() }
            }
            Ok(response) => {
                let after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok())
                    .map(Duration::from_secs);
                Outcome::Retry { error: format!("receiver answered {}", response.status()), after }
            }
            // Without the URL: a receiver's URL may carry its own secret in the query.
            Err(e) if is_refused_address(&e) => Outcome::Fail { error: INTERNAL_REFUSED.into() },
            Err(e) => Outcome::Retry { error: format!("could not reach receiver: {}", e.without_url()), after: None },
        }
    }
}

/// Whether a send failed because the resolver refused every address of the receiver.
fn is_refused_address(error: &reqwest::Error) -> bool {
    let mut cause: Option<&dyn std::error::Error> = Some(error);
    while let Some(e) = cause {
        if e.to_string() == INTERNAL_REFUSED {
            return true;
        }
        cause = e.source();
    }
    false
}

impl JobHandler for WebhookDelivery {
    fn kind(&self) -> dakoku_domain::JobKind {
        dakoku_domain::JobKind::WebhookDelivery
    }

    fn run<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, Outcome> {
        Box::pin(self.deliver(job))
    }
}
