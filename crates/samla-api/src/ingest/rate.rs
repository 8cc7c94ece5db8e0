//! Per-organisation rate limiting: a token bucket per organisation, counted in events
//! (not requests), shared by both doors so a client cannot double its rate by using both.
//!
//! A request costs one token per item, valid or not: refused items cost the service work
//! too. A request larger than the burst is charged the whole burst, so a big batch waits
//! for a full bucket instead of being refused forever (the request size is bounded
//! separately by `max_items_per_request`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use proto_events::OrgId;

/// Events per second and burst allowed to each organisation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Sustained rate, in events per second (> 0).
    pub events_per_second: f64,
    /// The most events accepted at once after a quiet period (≥ 1).
    pub burst: u32,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// The buckets of every organisation seen (the set of organisations is bounded by the
/// credentials that exist).
#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: Option<RateLimit>,
    buckets: Mutex<HashMap<OrgId, Bucket>>,
}

impl RateLimiter {
    pub(crate) fn new(limit: Option<RateLimit>) -> Self {
        let limit = limit.filter(|limit| limit.events_per_second > 0.0 && limit.burst >= 1);
        RateLimiter {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes `events` tokens from `org`'s bucket, or says how long to wait.
    pub(crate) fn check(&self, org: &OrgId, events: usize) -> Result<(), Duration> {
        let Some(limit) = self.limit else {
            return Ok(());
        };
        let burst = f64::from(limit.burst);
        let cost = (events as f64).min(burst);
        let now = Instant::now();
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let bucket = buckets.entry(org.clone()).or_insert(Bucket {
            tokens: burst,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * limit.events_per_second).min(burst);
        bucket.updated = now;
        if bucket.tokens >= cost {
            bucket.tokens -= cost;
            return Ok(());
        }
        let wait = (cost - bucket.tokens) / limit.events_per_second;
        Err(Duration::from_secs_f64(wait.min(86_400.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_beyond_the_burst_and_says_how_long_to_wait() {
        let limiter = RateLimiter::new(Some(RateLimit {
            events_per_second: 0.5,
            burst: 3,
        }));
        let org = OrgId::new("alfa").unwrap();
        assert_eq!(limiter.check(&org, 2), Ok(()));
        assert_eq!(limiter.check(&org, 1), Ok(()));
        let wait = limiter.check(&org, 1).unwrap_err();
        assert!(
            wait > Duration::from_millis(1900) && wait <= Duration::from_secs(2),
            "{wait:?}"
        );
        // Another organisation has its own bucket.
        assert_eq!(limiter.check(&OrgId::new("bravo").unwrap(), 3), Ok(()));
    }

    #[test]
    fn no_limit_admits_everything() {
        let limiter = RateLimiter::new(None);
        assert_eq!(
            limiter.check(&OrgId::new("alfa").unwrap(), 1_000_000),
            Ok(())
        );
    }
}
