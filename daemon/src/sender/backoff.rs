//! Retry timing: exponential backoff with full jitter, and Meta's 4^X
//! seconds for the pair rate limit. Pure.

use std::time::Duration;

/// Attempts after which a retryable failure becomes final.
pub const MAX_ATTEMPTS: i32 = 8;

/// Delay before attempt `attempt + 1` (attempt counts from 1), given a random
/// `unit` in [0, 1): uniformly between half and all of min(cap, base·2^(attempt-1)).
pub fn delay(attempt: i32, pair_rate: bool, unit: f64) -> Duration {
    let attempt = attempt.clamp(1, 30);
    let ceiling = if pair_rate {
        // Meta: retry after 4^X seconds
        4f64.powi(attempt).min(900.0)
    } else {
        (2f64.powi(attempt - 1)).min(300.0)
    };
    let unit = unit.clamp(0.0, 1.0);
    Duration::from_secs_f64(ceiling * (0.5 + 0.5 * unit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_with_jitter_and_a_cap() {
        assert_eq!(delay(1, false, 0.0), Duration::from_millis(500));
        assert_eq!(delay(1, false, 1.0), Duration::from_secs(1));
        assert_eq!(delay(4, false, 1.0), Duration::from_secs(8));
        assert!(delay(20, false, 1.0) <= Duration::from_secs(300));
        assert_eq!(delay(1, true, 1.0), Duration::from_secs(4));
        assert_eq!(delay(2, true, 1.0), Duration::from_secs(16));
        assert!(delay(9, true, 1.0) <= Duration::from_secs(900));
        for a in 1..20 {
            assert!(
                delay(a, false, 0.3) <= delay(a + 1, false, 0.3),
                "never shrinks"
            );
        }
    }
}
