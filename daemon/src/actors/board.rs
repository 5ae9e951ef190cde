//! What a tenant actor knows, as pure data: the waiting queue of every
//! department (who waits, in which order) and the agent roster (presence,
//! capacity, and the conversations each agent holds). The tenant actor feeds
//! it the current state of the conversations and agents that changed; the
//! board never reads the database, so the routing policies to come can be
//! pure functions over it.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};

/// A conversation as the board needs it (from its stored row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvState {
    pub id: i64,
    pub status: String,
    pub department_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub priority: i32,
    /// When it last entered the queue (its latest transition to `queued`).
    pub queued_at: Option<DateTime<Utc>>,
}

/// An agent as the board needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentState {
    pub user_id: i64,
    /// `online` | `away` | `offline`.
    pub presence: String,
    pub capacity: i32,
    pub departments: Vec<i64>,
}

/// Queue order: higher priority first, then who entered first, then id.
type QueueKey = (Reverse<i32>, DateTime<Utc>, i64);

/// One waiting conversation and its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    /// 1 for the next to be served.
    pub position: usize,
    pub conversation_id: i64,
    pub priority: i32,
    pub queued_at: DateTime<Utc>,
}

/// The size of one department's queue (`department_id` None: not routed yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSummary {
    pub department_id: Option<i64>,
    pub waiting: usize,
    pub oldest_queued_at: Option<DateTime<Utc>>,
}

/// An agent's load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentLoad {
    pub user_id: i64,
    pub presence: String,
    pub capacity: i32,
    pub departments: Vec<i64>,
    /// Conversations assigned to the agent now.
    pub active: usize,
    /// More conversations the agent could take now (0 unless online).
    pub free: usize,
}

#[derive(Debug, Default)]
pub struct Board {
    queues: HashMap<Option<i64>, BTreeSet<QueueKey>>,
    /// Where each queued conversation sits.
    queued: HashMap<i64, (Option<i64>, QueueKey)>,
    /// Which agent holds each assigned conversation.
    holder: HashMap<i64, i64>,
    /// Conversations held, per agent (agents not in the roster included, so a
    /// conversation of a deleted user still counts until it moves).
    held: HashMap<i64, HashSet<i64>>,
    agents: HashMap<i64, AgentState>,
}

impl Board {
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets conversation `id` wherever it sits (it moved, or is gone).
    pub fn forget(&mut self, id: i64) {
        if let Some((dept, key)) = self.queued.remove(&id)
            && let Some(q) = self.queues.get_mut(&dept)
        {
            q.remove(&key);
            if q.is_empty() {
                self.queues.remove(&dept);
            }
        }
        if let Some(agent) = self.holder.remove(&id)
            && let Some(set) = self.held.get_mut(&agent)
        {
            set.remove(&id);
            if set.is_empty() {
                self.held.remove(&agent);
            }
        }
    }

    /// Puts a conversation where its current state says: in its department's
    /// queue when `queued`, with its agent when `assigned`, nowhere otherwise.
    pub fn observe(&mut self, c: &ConvState) {
        self.forget(c.id);
        match c.status.as_str() {
            "queued" => {
                // a queued conversation without a recorded entry (older data)
                // waits from the start of time: it was there before any other
                let at = c.queued_at.unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
                let key = (Reverse(c.priority), at, c.id);
                self.queues.entry(c.department_id).or_default().insert(key);
                self.queued.insert(c.id, (c.department_id, key));
            }
            "assigned" => {
                if let Some(agent) = c.assignee_id {
                    self.holder.insert(c.id, agent);
                    self.held.entry(agent).or_default().insert(c.id);
                }
            }
            _ => {}
        }
    }

    /// Replaces the whole roster (after a directory change).
    pub fn set_agents(&mut self, agents: Vec<AgentState>) {
        self.agents = agents.into_iter().map(|a| (a.user_id, a)).collect();
    }

    /// Updates one agent (presence or capacity changed); `None`: gone.
    pub fn set_agent(&mut self, user_id: i64, agent: Option<AgentState>) {
        match agent {
            Some(a) => {
                self.agents.insert(user_id, a);
            }
            None => {
                self.agents.remove(&user_id);
            }
        }
    }

    /// Every non-empty queue, unrouted first, then by department id.
    pub fn queues(&self) -> Vec<QueueSummary> {
        let mut out: Vec<QueueSummary> = self
            .queues
            .iter()
            .map(|(d, q)| QueueSummary {
                department_id: *d,
                waiting: q.len(),
                oldest_queued_at: q.iter().map(|k| k.1).min(),
            })
            .collect();
        out.sort_by_key(|s| s.department_id);
        out
    }

    /// How many wait in `department`'s queue, and the first `first` of
    /// them in serving order.
    pub fn queue(&self, department: Option<i64>, first: usize) -> (usize, Vec<Waiting>) {
        let Some(q) = self.queues.get(&department) else {
            return (0, Vec::new());
        };
        let head = q
            .iter()
            .take(first)
            .enumerate()
            .map(|(i, k)| Waiting {
                position: i + 1,
                conversation_id: k.2,
                priority: k.0.0,
                queued_at: k.1,
            })
            .collect();
        (q.len(), head)
    }

    /// Every agent of the roster with their load, by user id.
    pub fn roster(&self) -> Vec<AgentLoad> {
        let mut out: Vec<AgentLoad> = self
            .agents
            .values()
            .map(|a| {
                let active = self.held.get(&a.user_id).map_or(0, HashSet::len);
                let free = if a.presence == "online" {
                    usize::try_from(a.capacity)
                        .unwrap_or(0)
                        .saturating_sub(active)
                } else {
                    0
                };
                AgentLoad {
                    user_id: a.user_id,
                    presence: a.presence.clone(),
                    capacity: a.capacity,
                    departments: a.departments.clone(),
                    active,
                    free,
                }
            })
            .collect();
        out.sort_by_key(|a| a.user_id);
        out
    }

    /// How many agents are online.
    pub fn online(&self) -> usize {
        self.agents
            .values()
            .filter(|a| a.presence == "online")
            .count()
    }

    /// How many conversations wait in all queues.
    pub fn waiting(&self) -> usize {
        self.queued.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
    }

    fn conv(id: i64, status: &str, dept: Option<i64>, assignee: Option<i64>) -> ConvState {
        ConvState {
            id,
            status: status.into(),
            department_id: dept,
            assignee_id: assignee,
            priority: 0,
            queued_at: Some(at(id)),
        }
    }

    fn agent(user_id: i64, presence: &str, capacity: i32) -> AgentState {
        AgentState {
            user_id,
            presence: presence.into(),
            capacity,
            departments: vec![1],
        }
    }

    #[test]
    fn queue_serves_higher_priority_then_first_come() {
        let mut b = Board::new();
        b.observe(&conv(3, "queued", Some(1), None));
        b.observe(&conv(1, "queued", Some(1), None));
        b.observe(&ConvState {
            priority: 5,
            ..conv(9, "queued", Some(1), None)
        });
        let (total, head) = b.queue(Some(1), 10);
        let order: Vec<(usize, i64)> = head
            .iter()
            .map(|w| (w.position, w.conversation_id))
            .collect();
        assert_eq!(total, 3);
        assert_eq!(order, vec![(1, 9), (2, 1), (3, 3)]);
        assert_eq!(b.queue(Some(1), 2), (3, head[..2].to_vec()));
        assert_eq!(b.queue(Some(2), 10), (0, vec![]));
    }

    #[test]
    fn a_conversation_sits_in_one_place_only() {
        let mut b = Board::new();
        b.observe(&conv(1, "queued", Some(1), None));
        b.observe(&conv(1, "queued", Some(2), None)); // moved department
        assert_eq!(b.queue(Some(1), 10), (0, vec![]));
        assert_eq!(b.queue(Some(2), 10).0, 1);
        b.observe(&conv(1, "assigned", Some(2), Some(7)));
        assert_eq!(b.waiting(), 0);
        assert!(b.queues().is_empty());
        b.set_agents(vec![agent(7, "online", 3)]);
        assert_eq!(b.roster()[0].active, 1);
        assert_eq!(b.roster()[0].free, 2);
        b.observe(&conv(1, "assigned", Some(2), Some(8))); // moved to another agent
        assert_eq!(b.roster()[0].active, 0);
        b.observe(&conv(1, "resolved", Some(2), Some(8)));
        b.set_agents(vec![agent(7, "online", 3), agent(8, "online", 3)]);
        assert!(b.roster().iter().all(|a| a.active == 0));
        assert_eq!(b.waiting(), 0);
    }

    #[test]
    fn observing_the_same_state_twice_changes_nothing() {
        let mut b = Board::new();
        let c = conv(4, "queued", None, None);
        b.observe(&c);
        b.observe(&c);
        assert_eq!(
            b.queues(),
            vec![QueueSummary {
                department_id: None,
                waiting: 1,
                oldest_queued_at: Some(at(4)),
            }]
        );
    }

    #[test]
    fn bot_and_snoozed_conversations_are_neither_queued_nor_held() {
        let mut b = Board::new();
        b.observe(&conv(1, "bot", None, None));
        b.observe(&conv(2, "snoozed", Some(1), Some(7)));
        b.set_agents(vec![agent(7, "online", 2)]);
        assert_eq!(b.waiting(), 0);
        assert_eq!(b.roster()[0].active, 0);
    }

    #[test]
    fn only_online_agents_have_free_slots_and_never_below_zero() {
        let mut b = Board::new();
        b.set_agents(vec![agent(1, "away", 5), agent(2, "online", 1)]);
        b.observe(&conv(10, "assigned", None, Some(2)));
        b.observe(&conv(11, "assigned", None, Some(2)));
        let r = b.roster();
        assert_eq!(b.online(), 1);
        assert_eq!((r[0].active, r[0].free), (0, 0));
        assert_eq!((r[1].active, r[1].free), (2, 0));
        b.set_agent(2, Some(agent(2, "online", 4)));
        assert_eq!(b.roster()[1].free, 2);
        b.set_agent(2, None);
        assert_eq!(b.roster().len(), 1);
    }

    #[test]
    fn queues_are_listed_unrouted_first_with_their_oldest_wait() {
        let mut b = Board::new();
        b.observe(&conv(5, "queued", Some(2), None));
        b.observe(&conv(6, "queued", Some(2), None));
        b.observe(&conv(7, "queued", None, None));
        let q = b.queues();
        assert_eq!(q.len(), 2);
        assert_eq!(q[0].department_id, None);
        assert_eq!((q[1].waiting, q[1].oldest_queued_at), (2, Some(at(5))));
        b.forget(5);
        assert_eq!(b.queues()[1].oldest_queued_at, Some(at(6)));
    }
}
