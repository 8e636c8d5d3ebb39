//! Per-client token buckets: a client is its customer token when it sends one, else its IP.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

pub struct RateLimiter {
    per_sec: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

/// Buckets idle this long are full again and can be dropped.
const FORGET_AFTER_SECS: f64 = 600.0;

impl RateLimiter {
    pub fn new(per_sec: f64, burst: f64) -> Self {
        Self { per_sec, burst, buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one token for `client`; false when its bucket is empty.
    pub fn allow(&self, client: &str) -> bool {
        if self.per_sec <= 0.0 {
            return true;
        }
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else { return true };
        if buckets.len() > 100_000 {
            buckets.retain(|_, (_, at)| now.duration_since(*at).as_secs_f64() < FORGET_AFTER_SECS);
        }
        let (tokens, at) = buckets.entry(client.to_string()).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.per_sec).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_the_client_waits_and_others_are_unaffected() {
        let limiter = RateLimiter::new(1.0, 3.0);
        assert!((0..3).all(|_| limiter.allow("a")));
        assert!(!limiter.allow("a"));
        assert!(limiter.allow("b"));
        assert!(RateLimiter::new(0.0, 1.0).allow("a"));
    }
}
