//! Spacing of outgoing calls so an integration stays under a platform's per-minute limit.
//! Each process paces its own calls; with several instances the configured rate is shared by
//! choosing it below the platform's limit (LINE WORKS advises half for sustained use).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

#[derive(Default)]
pub struct Pacer {
    next_free: Mutex<HashMap<String, Instant>>,
}

impl Pacer {
    /// Waits until a call on `key` may go out at `per_minute` calls a minute, and books it.
    pub async fn wait(&self, key: &str, per_minute: u32) {
        let spacing = Duration::from_secs(60) / per_minute.max(1);
        let slot = {
            let mut next_free = self.next_free.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let now = Instant::now();
            let slot = next_free.get(key).copied().filter(|t| *t > now).unwrap_or(now);
            next_free.insert(key.to_owned(), slot + spacing);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn calls_are_spaced_per_key() {
        let pacer = Pacer::default();
        let start = Instant::now();
        for _ in 0..4 {
            pacer.wait("a", 120).await;
        }
        assert_eq!(start.elapsed(), Duration::from_millis(1500));
        let other = Instant::now();
        pacer.wait("b", 120).await;
        assert_eq!(other.elapsed(), Duration::ZERO, "another key has its own budget");
    }
}
