//! The 24-hour customer-service window: free-form messages may be sent until
//! 24 hours after the customer's last message; afterwards only templates.

use chrono::{DateTime, Utc};

/// Whether a free-form message may be sent at `now`.
pub fn is_open(window_expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    window_expires_at.is_some_and(|exp| now < exp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_until_expiry_and_closed_without_inbound() {
        let t = DateTime::from_timestamp(1_000_000, 0).expect("time");
        assert!(is_open(Some(t), t - chrono::Duration::seconds(1)));
        assert!(!is_open(Some(t), t));
        assert!(!is_open(Some(t), t + chrono::Duration::hours(1)));
        assert!(!is_open(None, t), "a contact who never wrote has no window");
    }
}
