//! Pure planning of one commit batch: flatten many notifications into the
//! rows to write, deduplicated (the same wamid may arrive several times in one
//! batch) and with the best status per message, so that the writer issues a
//! handful of set-based statements per batch. No I/O here.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::whatsapp::model::StatusKind;

/// Status ranks: a message's status never moves to a lower rank. The order
/// is the webhook model's ([`StatusKind::rank`]): `failed` is final, `read`
/// implies delivered; our own `pending` / `received` rank 0.
pub fn status_rank(status: &str) -> u8 {
    StatusKind::from_wire(status).rank()
}

/// `CASE <col> WHEN 'sent' THEN 1 … END`, the SQL twin of [`status_rank`].
pub fn status_rank_sql(col: &str) -> String {
    let mut sql = format!("(CASE {col}");
    for s in ["sent", "delivered", "read", "played", "failed"] {
        sql.push_str(&format!(" WHEN '{s}' THEN {}", status_rank(s)));
    }
    sql.push_str(" ELSE 0 END)");
    sql
}

/// One inbound message as received.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundRow {
    pub tenant_id: i64,
    pub number_id: i64,
    pub from: String,
    pub wamid: String,
    pub kind: String,
    /// Meta's message JSON, shared (not copied) between the webhook, the
    /// batch and the statement builder.
    pub content: Arc<serde_json::Value>,
    pub sent_at: DateTime<Utc>,
    /// Meta's media id, for image/audio/video/document/sticker messages.
    pub media_id: Option<String>,
}

/// One status notification.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusRow {
    pub tenant_id: i64,
    pub wamid: String,
    pub status: String,
    pub error_code: Option<i64>,
    pub error_title: Option<String>,
    pub at: DateTime<Utc>,
    /// Meta's status JSON, shared like [`InboundRow::content`].
    pub payload: Arc<serde_json::Value>,
}

/// A contact seen in a notification.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactRow {
    pub tenant_id: i64,
    pub wa_id: String,
    pub profile_name: Option<String>,
    pub last_inbound_at: Option<DateTime<Utc>>,
}

/// The Cloud API accepted an outbound message: record its wamid and close
/// its outbox row. Goes through the writer so that it is ordered with status
/// webhooks for the same wamid (which may arrive first).
#[derive(Debug, Clone, PartialEq)]
pub struct AcceptedRow {
    pub tenant_id: i64,
    pub message_id: i64,
    pub outbox_id: i64,
    pub attempts: i32,
    pub wamid: String,
}

/// A template status change (by Meta's template id).
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateRow {
    pub tenant_id: i64,
    pub meta_template_id: String,
    pub event: String,
    pub reason: Option<String>,
}

/// Everything one batch writes.
#[derive(Debug, Default)]
pub struct BatchPlan {
    /// One per (tenant, wa_id).
    pub contacts: Vec<ContactRow>,
    /// One per (tenant, wamid), in arrival order.
    pub inbound: Vec<InboundRow>,
    /// One per (tenant, wamid, status).
    pub status_events: Vec<StatusRow>,
    /// The best status per (tenant, wamid), plus the time of each status seen.
    pub status_updates: Vec<StatusUpdate>,
    pub templates: Vec<TemplateRow>,
    pub accepted: Vec<AcceptedRow>,
    /// Events to sequence and log (besides those the batch itself produces).
    pub events: Vec<(i64, crate::bus::EventKind)>,
    /// Inbound messages dropped as in-batch duplicates.
    pub duplicates_in_batch: usize,
}

/// How one message's status changes in this batch.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusUpdate {
    pub tenant_id: i64,
    pub wamid: String,
    pub best: String,
    pub error_code: Option<i64>,
    pub error_title: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub read_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
}

/// The raw parts of a batch, in arrival order.
#[derive(Debug, Default)]
pub struct BatchInput {
    pub contacts: Vec<ContactRow>,
    pub inbound: Vec<InboundRow>,
    pub statuses: Vec<StatusRow>,
    pub templates: Vec<TemplateRow>,
    pub accepted: Vec<AcceptedRow>,
    /// (tenant, event) to append to the tenant's event log.
    pub events: Vec<(i64, crate::bus::EventKind)>,
}

fn min_time(a: Option<DateTime<Utc>>, b: DateTime<Utc>) -> Option<DateTime<Utc>> {
    Some(a.map_or(b, |a| a.min(b)))
}

/// Deduplicates and merges a batch.
pub fn plan(input: BatchInput) -> BatchPlan {
    let mut out = BatchPlan::default();

    let mut contact_idx: HashMap<(i64, String), usize> = HashMap::new();
    for c in input.contacts {
        match contact_idx.get(&(c.tenant_id, c.wa_id.clone())) {
            Some(&i) => {
                let cur = &mut out.contacts[i];
                if c.profile_name.is_some() {
                    cur.profile_name = c.profile_name;
                }
                cur.last_inbound_at = cur.last_inbound_at.max(c.last_inbound_at);
            }
            None => {
                contact_idx.insert((c.tenant_id, c.wa_id.clone()), out.contacts.len());
                out.contacts.push(c);
            }
        }
    }
    // every inbound sender is a contact, even without a `contacts[]` entry
    let mut seen_msgs: HashMap<(i64, String), ()> = HashMap::new();
    for m in input.inbound {
        if seen_msgs
            .insert((m.tenant_id, m.wamid.clone()), ())
            .is_some()
        {
            out.duplicates_in_batch += 1;
            continue;
        }
        match contact_idx.get(&(m.tenant_id, m.from.clone())) {
            Some(&i) => {
                let cur = &mut out.contacts[i];
                cur.last_inbound_at = cur.last_inbound_at.max(Some(m.sent_at));
            }
            None => {
                contact_idx.insert((m.tenant_id, m.from.clone()), out.contacts.len());
                out.contacts.push(ContactRow {
                    tenant_id: m.tenant_id,
                    wa_id: m.from.clone(),
                    profile_name: None,
                    last_inbound_at: Some(m.sent_at),
                });
            }
        }
        out.inbound.push(m);
    }

    let mut event_seen: HashMap<(i64, String, String), ()> = HashMap::new();
    let mut update_idx: HashMap<(i64, String), usize> = HashMap::new();
    for s in input.statuses {
        let key = (s.tenant_id, s.wamid.clone());
        let i = *update_idx.entry(key).or_insert_with(|| {
            out.status_updates.push(StatusUpdate {
                tenant_id: s.tenant_id,
                wamid: s.wamid.clone(),
                best: s.status.clone(),
                error_code: None,
                error_title: None,
                sent_at: None,
                delivered_at: None,
                read_at: None,
                failed_at: None,
            });
            out.status_updates.len() - 1
        });
        if let Some(u) = out.status_updates.get_mut(i) {
            if status_rank(&s.status) > status_rank(&u.best) {
                u.best = s.status.clone();
            }
            match s.status.as_str() {
                "sent" => u.sent_at = min_time(u.sent_at, s.at),
                "delivered" => u.delivered_at = min_time(u.delivered_at, s.at),
                "read" | "played" => u.read_at = min_time(u.read_at, s.at),
                "failed" => {
                    u.failed_at = min_time(u.failed_at, s.at);
                    u.error_code = s.error_code.or(u.error_code);
                    u.error_title = s.error_title.clone().or(u.error_title.take());
                }
                _ => {}
            }
        }
        if event_seen
            .insert((s.tenant_id, s.wamid.clone(), s.status.clone()), ())
            .is_none()
        {
            out.status_events.push(s);
        }
    }
    out.templates = input.templates;
    out.accepted = input.accepted;
    out.events = input.events;
    // rows are written (and locked) in key order, so concurrent writers
    // touching the same contacts or messages wait for each other instead of
    // deadlocking
    out.contacts
        .sort_by(|a, b| (a.tenant_id, &a.wa_id).cmp(&(b.tenant_id, &b.wa_id)));
    out.status_updates
        .sort_by(|a, b| (a.tenant_id, &a.wamid).cmp(&(b.tenant_id, &b.wamid)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).expect("time")
    }

    fn msg(wamid: &str, from: &str, at: i64) -> InboundRow {
        InboundRow {
            tenant_id: 1,
            number_id: 1,
            from: from.into(),
            wamid: wamid.into(),
            kind: "text".into(),
            content: Arc::new(serde_json::json!({})),
            sent_at: t(at),
            media_id: None,
        }
    }

    fn status(wamid: &str, s: &str, at: i64) -> StatusRow {
        StatusRow {
            tenant_id: 1,
            wamid: wamid.into(),
            status: s.into(),
            error_code: (s == "failed").then_some(131026),
            error_title: None,
            at: t(at),
            payload: Arc::new(serde_json::json!({})),
        }
    }

    #[test]
    fn ranks_never_go_backwards_and_sql_agrees() {
        assert!(status_rank("read") > status_rank("delivered"));
        assert!(status_rank("delivered") > status_rank("sent"));
        assert!(status_rank("failed") > status_rank("read"));
        assert_eq!(status_rank("something_new"), 0);
        let sql = status_rank_sql("status");
        for s in ["sent", "delivered", "read", "played", "failed"] {
            assert!(sql.contains(&format!("WHEN '{s}' THEN {}", status_rank(s))));
        }
    }

    #[test]
    fn duplicates_in_a_batch_collapse() {
        let p = plan(BatchInput {
            inbound: vec![
                msg("w1", "49", 10),
                msg("w1", "49", 10),
                msg("w2", "49", 20),
            ],
            contacts: vec![ContactRow {
                tenant_id: 1,
                wa_id: "49".into(),
                profile_name: Some("Ann".into()),
                last_inbound_at: None,
            }],
            ..Default::default()
        });
        assert_eq!(p.inbound.len(), 2);
        assert_eq!(p.duplicates_in_batch, 1);
        assert_eq!(p.contacts.len(), 1);
        assert_eq!(p.contacts[0].profile_name.as_deref(), Some("Ann"));
        assert_eq!(p.contacts[0].last_inbound_at, Some(t(20)));
    }

    #[test]
    fn contacts_and_status_updates_come_in_lock_order() {
        let mut input = BatchInput::default();
        for (tenant, wa) in [(2, "b"), (1, "z"), (2, "a"), (1, "c")] {
            input.contacts.push(ContactRow {
                tenant_id: tenant,
                wa_id: wa.into(),
                profile_name: None,
                last_inbound_at: None,
            });
            input.statuses.push(StatusRow {
                tenant_id: tenant,
                ..status(wa, "sent", 1)
            });
        }
        let p = plan(input);
        let keys: Vec<(i64, &str)> = p
            .contacts
            .iter()
            .map(|c| (c.tenant_id, c.wa_id.as_str()))
            .collect();
        assert_eq!(keys, vec![(1, "c"), (1, "z"), (2, "a"), (2, "b")]);
        let keys: Vec<(i64, &str)> = p
            .status_updates
            .iter()
            .map(|u| (u.tenant_id, u.wamid.as_str()))
            .collect();
        assert_eq!(keys, vec![(1, "c"), (1, "z"), (2, "a"), (2, "b")]);
    }

    #[test]
    fn senders_without_contact_entries_become_contacts() {
        let p = plan(BatchInput {
            inbound: vec![msg("w1", "49", 10), msg("w2", "50", 11)],
            ..Default::default()
        });
        assert_eq!(p.contacts.len(), 2);
    }

    #[test]
    fn out_of_order_statuses_end_in_the_best_one() {
        let p = plan(BatchInput {
            statuses: vec![
                status("w1", "read", 30),
                status("w1", "delivered", 20),
                status("w1", "sent", 10),
                status("w1", "read", 30),
            ],
            ..Default::default()
        });
        assert_eq!(p.status_updates.len(), 1);
        let u = &p.status_updates[0];
        assert_eq!(u.best, "read");
        assert_eq!(u.sent_at, Some(t(10)));
        assert_eq!(u.delivered_at, Some(t(20)));
        assert_eq!(u.read_at, Some(t(30)));
        assert_eq!(p.status_events.len(), 3, "duplicate read event dropped");
    }

    #[test]
    fn failed_is_final_and_keeps_its_code() {
        let p = plan(BatchInput {
            statuses: vec![status("w1", "failed", 10), status("w1", "delivered", 20)],
            ..Default::default()
        });
        assert_eq!(p.status_updates[0].best, "failed");
        assert_eq!(p.status_updates[0].error_code, Some(131026));
    }
}
