//! Delivery of outgoing webhooks. Each request is signed so the receiver can check it came
//! from dakoku: `Dakoku-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
//! Receivers dedupe on `Dakoku-Event-Id`: a delivery cut off mid-call is sent again.

use crate::{BoxFuture, JobHandler, Outcome};
use dakoku_service::webhooks::{Delivery, DELIVERY_JOB};
use dakoku_service::Service;
use dakoku_store::jobs::Job;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;

pub struct WebhookDelivery {
    service: Service,
    client: reqwest::Client,
}

impl WebhookDelivery {
    pub fn new(service: Service) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("dakoku/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("a default HTTP client builds");
        Self { service, client }
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
            Err(e) => Outcome::Retry { error: format!("could not reach receiver: {e}"), after: None },
        }
    }
}

impl JobHandler for WebhookDelivery {
    fn kind(&self) -> &'static str {
        DELIVERY_JOB
    }

    fn run<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, Outcome> {
        Box::pin(self.deliver(job))
    }
}
