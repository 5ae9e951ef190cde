//! Conversation timers as pure functions of the stored conversation and a
//! time: which are due now and when the next one is. Nothing here keeps time
//! itself, so the rules are tested with any clock, and an actor rebuilt after
//! a restart computes the same deadlines from the same row. Each one-shot
//! timer has a "fired" column, so none fires twice.

use chrono::{DateTime, Duration, Utc};
use entity::conversations;

use super::lifecycle::Status;
use crate::config::ConversationSettings;

/// A timer of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimerKind {
    /// The customer-service window closes soon (warning).
    WindowClosing,
    /// The customer-service window closed: templates only from now on.
    WindowClosed,
    /// Nobody answered the conversation's first message in time.
    FirstResponseSla,
    /// Nobody answered the customer's latest message in time.
    NextResponseSla,
    /// Silence after our last reply: resolve.
    AutoResolve,
    /// A snoozed conversation's time is up.
    SnoozeWake,
    /// A resolved conversation's retention ran out: erase its message contents.
    Retention,
}

impl TimerKind {
    /// Whether firing it only sets its "fired" column and publishes one
    /// event (window and SLA timers); the others change the conversation
    /// (status, contents) and are fired by its actor.
    pub fn is_mark(self) -> bool {
        matches!(
            self,
            TimerKind::WindowClosing
                | TimerKind::WindowClosed
                | TimerKind::FirstResponseSla
                | TimerKind::NextResponseSla
        )
    }

    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            TimerKind::WindowClosing => "window_closing",
            TimerKind::WindowClosed => "window_closed",
            TimerKind::FirstResponseSla => "first_response_sla",
            TimerKind::NextResponseSla => "next_response_sla",
            TimerKind::AutoResolve => "auto_resolve",
            TimerKind::SnoozeWake => "snooze_wake",
            TimerKind::Retention => "retention",
        }
    }
}

/// Timer durations; `None` turns a timer off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub first_response: Option<Duration>,
    pub next_response: Option<Duration>,
    pub window_warning: Option<Duration>,
    pub auto_resolve: Option<Duration>,
    /// How long a resolved conversation's message contents are kept.
    pub retention: Option<Duration>,
}

impl From<&ConversationSettings> for Policy {
    fn from(s: &ConversationSettings) -> Self {
        let secs = |n: u64| {
            (n > 0).then(|| Duration::seconds(i64::try_from(n).unwrap_or(i64::MAX / 1000)))
        };
        let mins = |n: u32| (n > 0).then(|| Duration::minutes(i64::from(n)));
        Self {
            first_response: secs(s.first_response_sla_seconds),
            next_response: secs(s.next_response_sla_seconds),
            window_warning: mins(s.window_warning_minutes),
            auto_resolve: mins(s.auto_resolve_after_minutes),
            retention: (s.retention_days > 0).then(|| Duration::days(i64::from(s.retention_days))),
        }
    }
}

/// Every pending timer of `c` with its deadline, fired or not yet due.
fn pending(c: &conversations::Model, p: &Policy) -> Vec<(TimerKind, DateTime<Utc>)> {
    let Some(status) = Status::parse(&c.status) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    // a snoozed conversation is put aside: no SLA or auto-resolve runs
    if status == Status::Snoozed
        && let Some(until) = c.snoozed_until
    {
        out.push((TimerKind::SnoozeWake, until));
    }
    if status == Status::Resolved {
        // the retention hook: contents go once the conversation has been
        // resolved for the retention period (a reopen moves the deadline)
        if let (Some(keep), Some(resolved)) = (p.retention, c.resolved_at)
            && c.content_erased_at.is_none_or(|erased| erased < resolved)
        {
            out.push((TimerKind::Retention, resolved + keep));
        }
        return out;
    }
    if !status.is_open() {
        return out;
    }
    if let Some(expires) = c.window_expires_at {
        if let Some(w) = p.window_warning
            && c.window_warned_at.is_none()
            && c.window_closed_at.is_none()
        {
            out.push((TimerKind::WindowClosing, expires - w));
        }
        if c.window_closed_at.is_none() {
            out.push((TimerKind::WindowClosed, expires));
        }
    }
    if status == Status::Snoozed || status == Status::Bot {
        // the bot answers for itself; SLAs measure humans
        return out;
    }
    if let Some(since) = c.awaiting_reply_since {
        if c.first_response_at.is_none() {
            if let Some(sla) = p.first_response
                && c.first_response_breached_at.is_none()
            {
                out.push((TimerKind::FirstResponseSla, since + sla));
            }
        } else if let Some(sla) = p.next_response
            && c.next_response_breached_at.is_none()
        {
            out.push((TimerKind::NextResponseSla, since + sla));
        }
    } else if let (Some(after), Some(last_reply)) = (p.auto_resolve, c.last_outbound_at) {
        // our reply was the last word: resolve after a quiet period
        let last = c.last_inbound_at.map_or(last_reply, |i| i.max(last_reply));
        out.push((TimerKind::AutoResolve, last + after));
    }
    out
}

/// The timers of `c` due at `now`, earliest first.
pub fn due(c: &conversations::Model, p: &Policy, now: DateTime<Utc>) -> Vec<TimerKind> {
    let mut d: Vec<_> = pending(c, p)
        .into_iter()
        .filter(|(_, at)| *at <= now)
        .collect();
    d.sort_by_key(|(_, at)| *at);
    d.into_iter().map(|(k, _)| k).collect()
}

/// When the next timer of `c` is due (`None`: nothing pending).
pub fn next_deadline(c: &conversations::Model, p: &Policy) -> Option<DateTime<Utc>> {
    pending(c, p).into_iter().map(|(_, at)| at).min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(mins: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).expect("time") + Duration::minutes(mins)
    }

    fn policy() -> Policy {
        Policy {
            first_response: Some(Duration::minutes(5)),
            next_response: Some(Duration::minutes(15)),
            window_warning: Some(Duration::minutes(60)),
            auto_resolve: Some(Duration::minutes(120)),
            retention: None,
        }
    }

    /// A queued conversation opened by a message at t(0).
    fn conv() -> conversations::Model {
        crate::store::conversations::queued(1, t(0))
    }

    #[test]
    fn first_response_sla_fires_once_after_its_deadline() {
        let c = conv();
        let p = policy();
        assert_eq!(next_deadline(&c, &p), Some(t(5)));
        assert!(due(&c, &p, t(4)).is_empty());
        assert_eq!(due(&c, &p, t(5)), vec![TimerKind::FirstResponseSla]);
        let fired = conversations::Model {
            first_response_breached_at: Some(t(5)),
            ..c
        };
        assert!(due(&fired, &p, t(6)).is_empty(), "fires once");
        assert_eq!(
            next_deadline(&fired, &p),
            Some(t(23 * 60)),
            "then the window warning"
        );
    }

    #[test]
    fn a_reply_stops_the_sla_and_starts_auto_resolve() {
        let c = conversations::Model {
            first_response_at: Some(t(3)),
            last_outbound_at: Some(t(3)),
            awaiting_reply_since: None,
            ..conv()
        };
        let p = policy();
        assert_eq!(next_deadline(&c, &p), Some(t(123)));
        assert_eq!(due(&c, &p, t(123)), vec![TimerKind::AutoResolve]);
        // the customer writes again: the next-response SLA runs, auto-resolve does not
        let waiting = conversations::Model {
            last_inbound_at: Some(t(10)),
            awaiting_reply_since: Some(t(10)),
            ..c
        };
        assert_eq!(next_deadline(&waiting, &p), Some(t(25)));
        assert_eq!(
            due(&waiting, &p, t(200)).first(),
            Some(&TimerKind::NextResponseSla)
        );
        assert!(!due(&waiting, &p, t(200)).contains(&TimerKind::AutoResolve));
    }

    #[test]
    fn window_warning_then_closing_each_once() {
        let c = conversations::Model {
            awaiting_reply_since: None,
            ..conv()
        };
        let p = Policy {
            auto_resolve: None,
            ..policy()
        };
        assert_eq!(due(&c, &p, t(23 * 60)), vec![TimerKind::WindowClosing]);
        assert_eq!(
            due(&c, &p, t(24 * 60)),
            vec![TimerKind::WindowClosing, TimerKind::WindowClosed],
            "earliest first"
        );
        let warned = conversations::Model {
            window_warned_at: Some(t(23 * 60)),
            ..c.clone()
        };
        assert_eq!(due(&warned, &p, t(24 * 60)), vec![TimerKind::WindowClosed]);
        let closed = conversations::Model {
            window_closed_at: Some(t(24 * 60)),
            ..warned
        };
        assert_eq!(next_deadline(&closed, &p), None);
    }

    #[test]
    fn snoozed_wakes_and_runs_no_sla_resolved_runs_nothing() {
        let p = policy();
        let snoozed = conversations::Model {
            status: "snoozed".into(),
            snoozed_until: Some(t(30)),
            ..conv()
        };
        assert_eq!(due(&snoozed, &p, t(30)), vec![TimerKind::SnoozeWake]);
        assert!(!due(&snoozed, &p, t(30)).contains(&TimerKind::FirstResponseSla));
        let resolved = conversations::Model {
            status: "resolved".into(),
            ..conv()
        };
        assert_eq!(next_deadline(&resolved, &p), None);
        let bot = conversations::Model {
            status: "bot".into(),
            ..conv()
        };
        assert_eq!(
            next_deadline(&bot, &p),
            Some(t(23 * 60)),
            "the bot's conversations have the window but no SLA"
        );
    }

    #[test]
    fn zero_turns_timers_off() {
        let p = Policy::from(&ConversationSettings {
            reopen_window_minutes: 0,
            first_response_sla_seconds: 0,
            next_response_sla_seconds: 0,
            window_warning_minutes: 0,
            auto_resolve_after_minutes: 0,
            retention_days: 0,
        });
        assert_eq!(
            next_deadline(&conv(), &p),
            Some(t(24 * 60)),
            "only the window closing"
        );
    }

    #[test]
    fn retention_erases_a_resolved_conversation_once_after_its_period() {
        let p = Policy {
            retention: Some(Duration::days(30)),
            ..policy()
        };
        let resolved = conversations::Model {
            status: "resolved".into(),
            resolved_at: Some(t(60)),
            ..conv()
        };
        assert_eq!(
            next_deadline(&resolved, &p),
            Some(t(60) + Duration::days(30))
        );
        assert!(due(&resolved, &p, t(61)).is_empty());
        assert_eq!(
            due(&resolved, &p, t(60) + Duration::days(30)),
            vec![TimerKind::Retention]
        );
        let erased = conversations::Model {
            content_erased_at: Some(t(60) + Duration::days(30)),
            ..resolved.clone()
        };
        assert_eq!(next_deadline(&erased, &p), None, "fires once");
        // erased, reopened, resolved again: what came since goes too
        let again = conversations::Model {
            resolved_at: Some(t(60) + Duration::days(40)),
            ..erased
        };
        assert_eq!(next_deadline(&again, &p), Some(t(60) + Duration::days(70)));
        assert_eq!(
            next_deadline(&resolved, &policy()),
            None,
            "kept forever without a period"
        );
        // an open conversation is never erased
        assert!(!due(&conv(), &p, t(60) + Duration::days(90)).contains(&TimerKind::Retention));
    }
}
