//! The Cloud API's send limits as pure data structures: a per phone number
//! sliding window (throughput, 130429) and a per (phone number, recipient)
//! token bucket (pair rate, 131056). Time is passed in as milliseconds, so
//! everything is testable without sleeping. Checking and recording are
//! separate: a send refused for another reason consumes nothing.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// "No more than `limit` events in any `window_ms` window", per key.
///
/// An event at `t` is admitted only if fewer than `limit` recorded events lie
/// in `(t - window_ms, t]`; hence for the recorded events, sorted, `e[i + limit]
/// - e[i] >= window_ms` always holds.
#[derive(Debug, Clone)]
pub struct SlidingWindow<K> {
    limit: u32,
    window_ms: u64,
    events: HashMap<K, VecDeque<u64>>,
}

impl<K: Eq + Hash + Clone> SlidingWindow<K> {
    /// `limit` events per `window_ms`; a limit of 0 means unlimited.
    pub fn new(limit: u32, window_ms: u64) -> Self {
        Self {
            limit,
            window_ms,
            events: HashMap::new(),
        }
    }

    /// The configured limit (0 = unlimited).
    pub fn limit(&self) -> u32 {
        self.limit
    }

    fn prune(&mut self, key: &K, now_ms: u64) -> usize {
        let Some(q) = self.events.get_mut(key) else {
            return 0;
        };
        while let Some(&front) = q.front() {
            if now_ms.saturating_sub(front) >= self.window_ms {
                q.pop_front();
            } else {
                break;
            }
        }
        q.len()
    }

    /// Events of `key` in the window ending at `now_ms`.
    pub fn count(&mut self, key: &K, now_ms: u64) -> usize {
        self.prune(key, now_ms)
    }

    /// Whether one more event at `now_ms` fits.
    pub fn allows(&mut self, key: &K, now_ms: u64) -> bool {
        self.limit == 0 || self.prune(key, now_ms) < self.limit as usize
    }

    /// Records an event (call after `allows` said yes).
    pub fn record(&mut self, key: &K, now_ms: u64) {
        if self.limit == 0 {
            return;
        }
        self.events
            .entry(key.clone())
            .or_default()
            .push_back(now_ms);
    }

    /// Milliseconds until one more event would fit (0 if it fits now).
    pub fn retry_after_ms(&mut self, key: &K, now_ms: u64) -> u64 {
        if self.allows(key, now_ms) {
            return 0;
        }
        self.events
            .get(key)
            .and_then(|q| q.front())
            .map_or(0, |&front| (front + self.window_ms).saturating_sub(now_ms))
    }
}

/// The largest number of timestamps that fall in any half-open window of
/// `window_ms` (`[t, t + window_ms)`). Timestamps need not be sorted. Used to
/// check "never more than N in any 1 s window" over recorded sends.
pub fn max_in_any_window(timestamps_ms: &[u64], window_ms: u64) -> usize {
    let mut ts = timestamps_ms.to_vec();
    ts.sort_unstable();
    let mut best = 0;
    let mut start = 0;
    for end in 0..ts.len() {
        while ts[end] - ts[start] >= window_ms {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last_ms: u64,
}

/// A token bucket per key: `capacity` tokens, one refilled every
/// `interval_ms` (pair rate: 45 burst, one per 6 s by default).
#[derive(Debug, Clone)]
pub struct TokenBuckets<K> {
    capacity: f64,
    interval_ms: u64,
    buckets: HashMap<K, Bucket>,
}

impl<K: Eq + Hash + Clone> TokenBuckets<K> {
    /// A bucket of `capacity` (at least 1) refilled one token per `interval_ms`;
    /// an interval of 0 means unlimited.
    pub fn new(capacity: u32, interval_ms: u64) -> Self {
        Self {
            capacity: f64::from(capacity.max(1)),
            interval_ms,
            buckets: HashMap::new(),
        }
    }

    /// Tokens available to `key` at `now_ms`.
    pub fn available(&mut self, key: &K, now_ms: u64) -> f64 {
        if self.interval_ms == 0 {
            return self.capacity;
        }
        let capacity = self.capacity;
        let interval = self.interval_ms as f64;
        match self.buckets.get_mut(key) {
            None => capacity,
            Some(b) => {
                let elapsed = now_ms.saturating_sub(b.last_ms) as f64;
                b.tokens = (b.tokens + elapsed / interval).min(capacity);
                b.last_ms = b.last_ms.max(now_ms);
                b.tokens
            }
        }
    }

    /// Whether `key` may send at `now_ms`.
    pub fn allows(&mut self, key: &K, now_ms: u64) -> bool {
        self.available(key, now_ms) >= 1.0
    }

    /// Takes a token (call after `allows` said yes).
    pub fn take(&mut self, key: &K, now_ms: u64) {
        if self.interval_ms == 0 {
            return;
        }
        let tokens = self.available(key, now_ms);
        self.buckets.insert(
            key.clone(),
            Bucket {
                tokens: (tokens - 1.0).max(0.0),
                last_ms: now_ms,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_admits_limit_then_refuses_until_oldest_leaves() {
        let mut w = SlidingWindow::new(3, 1000);
        let k = "p".to_string();
        for t in [0, 10, 20] {
            assert!(w.allows(&k, t));
            w.record(&k, t);
        }
        assert!(!w.allows(&k, 30));
        assert!(!w.allows(&k, 999));
        assert_eq!(w.retry_after_ms(&k, 999), 1);
        assert!(w.allows(&k, 1000));
        w.record(&k, 1000);
        assert!(!w.allows(&k, 1009));
        assert!(w.allows(&k, 1010));
        // other keys are independent
        assert!(w.allows(&"q".to_string(), 30));
        assert_eq!(w.count(&k, 1010), 2);
    }

    #[test]
    fn refused_events_are_not_counted() {
        let mut w = SlidingWindow::new(1, 1000);
        let k = 1u8;
        assert!(w.allows(&k, 0));
        w.record(&k, 0);
        for t in 1..1000 {
            assert!(!w.allows(&k, t));
        }
        assert!(w.allows(&k, 1000));
    }

    #[test]
    fn window_invariant_holds_under_a_flood() {
        let mut w = SlidingWindow::new(80, 1000);
        let k = ();
        let mut accepted = Vec::new();
        // one attempt every 3 ms for 5 s
        for t in (0..5000).step_by(3) {
            if w.allows(&k, t) {
                w.record(&k, t);
                accepted.push(t);
            }
        }
        assert_eq!(max_in_any_window(&accepted, 1000), 80);
        assert!(accepted.len() >= 5 * 80 - 1);
    }

    #[test]
    fn unlimited_window() {
        let mut w = SlidingWindow::new(0, 1000);
        for _ in 0..1000 {
            assert!(w.allows(&(), 0));
            w.record(&(), 0);
        }
    }

    #[test]
    fn max_in_any_window_counts_half_open() {
        assert_eq!(max_in_any_window(&[], 1000), 0);
        assert_eq!(max_in_any_window(&[0, 999], 1000), 2);
        assert_eq!(max_in_any_window(&[0, 1000], 1000), 1);
        assert_eq!(max_in_any_window(&[5, 0, 500, 1200, 1300, 1400], 1000), 4);
    }

    #[test]
    fn bucket_bursts_then_refills() {
        let mut b = TokenBuckets::new(3, 6000);
        let k = ("p", "u");
        for _ in 0..3 {
            assert!(b.allows(&k, 0));
            b.take(&k, 0);
        }
        assert!(!b.allows(&k, 0));
        assert!(!b.allows(&k, 5999));
        assert!(b.allows(&k, 6000));
        b.take(&k, 6000);
        assert!(!b.allows(&k, 6001));
        // refill caps at capacity
        assert!((b.available(&k, 1_000_000) - 3.0).abs() < f64::EPSILON);
        // other pairs are independent
        assert!(b.allows(&("p", "v"), 6001));
    }

    #[test]
    fn bucket_unlimited_with_zero_interval() {
        let mut b = TokenBuckets::new(1, 0);
        for _ in 0..100 {
            assert!(b.allows(&1, 0));
            b.take(&1, 0);
        }
    }
}
