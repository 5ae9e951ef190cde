//! Login rate limits per client IP and per account (governor keyed limiters).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>;

/// Per-IP and per-account login attempt limits.
pub struct LoginLimiter {
    per_ip: Keyed<IpAddr>,
    per_account: Keyed<String>,
    clock: DefaultClock,
}

impl std::fmt::Debug for LoginLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginLimiter").finish_non_exhaustive()
    }
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

impl LoginLimiter {
    pub fn new(per_ip_per_minute: u32, per_account_per_minute: u32) -> Self {
        Self {
            per_ip: RateLimiter::keyed(per_minute(per_ip_per_minute)),
            per_account: RateLimiter::keyed(per_minute(per_account_per_minute)),
            clock: DefaultClock::default(),
        }
    }

    /// Records one attempt; `Err(wait)` when the IP or the account is over its limit.
    pub fn check(&self, ip: IpAddr, account: &str) -> Result<(), Duration> {
        let account = account.trim().to_lowercase();
        let now = self.clock.now();
        if let Err(nu) = self.per_ip.check_key(&ip) {
            return Err(nu.wait_time_from(now));
        }
        if let Err(nu) = self.per_account.check_key(&account) {
            return Err(nu.wait_time_from(now));
        }
        Ok(())
    }

    /// Forgets keys whose limits have fully replenished (call periodically).
    pub fn retain_recent(&self) {
        self.per_ip.retain_recent();
        self.per_account.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_account_and_per_ip() {
        let l = LoginLimiter::new(10, 3);
        let ip: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..3 {
            assert!(l.check(ip, "A@x.io").is_ok());
        }
        let wait = l
            .check(ip, "a@x.io")
            .expect_err("4th attempt on one account");
        assert!(wait > Duration::ZERO);
        // other accounts from the same IP still pass until the IP limit
        for i in 0..6 {
            assert!(l.check(ip, &format!("u{i}@x.io")).is_ok(), "attempt {i}");
        }
        assert!(l.check(ip, "fresh@x.io").is_err(), "IP limit reached");
        assert!(l.check([10, 0, 0, 2].into(), "fresh@x.io").is_ok());
    }
}
