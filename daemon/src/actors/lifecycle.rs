//! The conversation lifecycle as pure rules: which statuses exist and which
//! moves between them are allowed. The conversation actor applies them and
//! persists every move with who and why.

use std::fmt;

/// Where a conversation stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    async_graphql::Enum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// A chatbot flow is talking to the customer.
    Bot,
    /// Waiting for an agent.
    Queued,
    /// An agent owns it.
    Assigned,
    /// Put aside until a time (or the customer's next message).
    Snoozed,
    /// Done; a new message within the reopen window reopens it.
    Resolved,
}

impl Status {
    /// The stored `conversations.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Bot => "bot",
            Status::Queued => "queued",
            Status::Assigned => "assigned",
            Status::Snoozed => "snoozed",
            Status::Resolved => "resolved",
        }
    }

    /// Parses a stored status.
    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "bot" => Status::Bot,
            "queued" => Status::Queued,
            "assigned" => Status::Assigned,
            "snoozed" => Status::Snoozed,
            "resolved" => Status::Resolved,
            _ => return None,
        })
    }

    /// Whether the conversation is open (everything but resolved).
    pub fn is_open(self) -> bool {
        self != Status::Resolved
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A requested change of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Give it to an agent (from bot, queued, snoozed or another agent).
    Assign { user_id: i64 },
    /// Take it from its agent and put it back in the queue.
    Unassign,
    /// The bot hands over to a human.
    Handoff,
    /// Close it.
    Resolve,
    /// Put it aside until `until`.
    Snooze {
        until: chrono::DateTime<chrono::Utc>,
    },
    /// Open a resolved conversation again (by hand; inbound reopening is the writer's).
    Reopen,
}

/// Why a command cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    #[error("a {from} conversation cannot be {action}")]
    NotAllowed { from: Status, action: &'static str },
    #[error("it is already assigned to that agent")]
    AlreadyAssigned,
    #[error("snooze until a time in the future")]
    SnoozeInPast,
}

/// The outcome of a command: the new status and assignee, and the reason
/// recorded with the transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    pub to: Status,
    pub assignee: Option<i64>,
    pub reason: &'static str,
}

/// Applies `cmd` to a conversation in `from` with `assignee`, at `now`.
pub fn apply(
    from: Status,
    assignee: Option<i64>,
    cmd: &Command,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Move, LifecycleError> {
    let not = |action| LifecycleError::NotAllowed { from, action };
    match cmd {
        Command::Assign { user_id } => {
            if from == Status::Resolved {
                return Err(not("assigned"));
            }
            if from == Status::Assigned && assignee == Some(*user_id) {
                return Err(LifecycleError::AlreadyAssigned);
            }
            Ok(Move {
                to: Status::Assigned,
                assignee: Some(*user_id),
                reason: if from == Status::Assigned {
                    "transferred"
                } else {
                    "assigned"
                },
            })
        }
        Command::Unassign => match from {
            Status::Assigned => Ok(Move {
                to: Status::Queued,
                assignee: None,
                reason: "unassigned",
            }),
            _ => Err(not("unassigned")),
        },
        Command::Handoff => match from {
            Status::Bot => Ok(Move {
                to: Status::Queued,
                assignee: None,
                reason: "bot_handoff",
            }),
            _ => Err(not("handed off by the bot")),
        },
        Command::Resolve => match from {
            Status::Resolved => Err(not("resolved")),
            _ => Ok(Move {
                to: Status::Resolved,
                assignee,
                reason: "resolved",
            }),
        },
        Command::Snooze { until } => {
            if *until <= now {
                return Err(LifecycleError::SnoozeInPast);
            }
            match from {
                Status::Queued | Status::Assigned | Status::Snoozed => Ok(Move {
                    to: Status::Snoozed,
                    assignee,
                    reason: "snoozed",
                }),
                _ => Err(not("snoozed")),
            }
        }
        Command::Reopen => match from {
            Status::Resolved => Ok(Move {
                to: back_from_pause(assignee),
                assignee,
                reason: "reopened",
            }),
            _ => Err(not("reopened")),
        },
    }
}

/// Where a snoozed or reopened conversation goes: back to its agent, or to the queue.
pub fn back_from_pause(assignee: Option<i64>) -> Status {
    if assignee.is_some() {
        Status::Assigned
    } else {
        Status::Queued
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Utc};

    #[test]
    fn statuses_round_trip() {
        for s in [
            Status::Bot,
            Status::Queued,
            Status::Assigned,
            Status::Snoozed,
            Status::Resolved,
        ] {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("open"), None);
        assert!(!Status::Resolved.is_open());
        assert!(Status::Snoozed.is_open());
    }

    #[test]
    fn the_happy_path_bot_queued_assigned_resolved() {
        let now = Utc::now();
        let m = apply(Status::Bot, None, &Command::Handoff, now).expect("handoff");
        assert_eq!((m.to, m.reason), (Status::Queued, "bot_handoff"));
        let m = apply(m.to, None, &Command::Assign { user_id: 7 }, now).expect("assign");
        assert_eq!((m.to, m.assignee), (Status::Assigned, Some(7)));
        let m = apply(m.to, m.assignee, &Command::Resolve, now).expect("resolve");
        assert_eq!((m.to, m.assignee), (Status::Resolved, Some(7)));
        let m = apply(m.to, m.assignee, &Command::Reopen, now).expect("reopen");
        assert_eq!((m.to, m.reason), (Status::Assigned, "reopened"));
    }

    #[test]
    fn transfers_and_refusals() {
        let now = Utc::now();
        let m = apply(
            Status::Assigned,
            Some(1),
            &Command::Assign { user_id: 2 },
            now,
        )
        .expect("transfer");
        assert_eq!(m.reason, "transferred");
        assert_eq!(
            apply(
                Status::Assigned,
                Some(1),
                &Command::Assign { user_id: 1 },
                now
            ),
            Err(LifecycleError::AlreadyAssigned)
        );
        assert!(apply(Status::Resolved, None, &Command::Assign { user_id: 1 }, now).is_err());
        assert!(apply(Status::Resolved, None, &Command::Resolve, now).is_err());
        assert!(apply(Status::Queued, None, &Command::Unassign, now).is_err());
        assert!(apply(Status::Queued, None, &Command::Handoff, now).is_err());
        assert!(apply(Status::Queued, None, &Command::Reopen, now).is_err());
        assert_eq!(
            apply(
                Status::Queued,
                None,
                &Command::Snooze {
                    until: now - Duration::minutes(1)
                },
                now
            ),
            Err(LifecycleError::SnoozeInPast)
        );
        assert!(
            apply(
                Status::Bot,
                None,
                &Command::Snooze {
                    until: now + Duration::minutes(1)
                },
                now
            )
            .is_err(),
            "the bot's conversations are not snoozed"
        );
        let m = apply(
            Status::Assigned,
            Some(3),
            &Command::Snooze {
                until: now + Duration::hours(1),
            },
            now,
        )
        .expect("snooze");
        assert_eq!((m.to, m.assignee), (Status::Snoozed, Some(3)));
        assert_eq!(back_from_pause(Some(3)), Status::Assigned);
        assert_eq!(back_from_pause(None), Status::Queued);
    }
}
