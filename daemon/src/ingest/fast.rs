//! PostgreSQL's one-statement write for the common batch: new messages from
//! customers the writer already knows, to their open conversations.
//!
//! One data-modifying statement, committed on its own (one round trip, one
//! WAL flush), with the batch bound as one array per column (so its text,
//! and PostgreSQL's plan of it, is the same for every batch), inserts the messages, refreshes their conversations, touches
//! contacts whose stored inbound time went stale, queues media downloads and
//! appends a `message_added` event per message with the tenant's next
//! sequence numbers. [`super::write::write_plan`] does the same in seven
//! round trips inside a transaction; it still takes whatever this path
//! leaves: a retried wamid (the insert skips it), a customer without an open
//! conversation or with a snoozed one, a customer the writer does not know,
//! statuses, templates and events. Messages are only written where the
//! conversation is open, so nothing here opens, reopens or wakes one.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::conversations;
use sea_orm::{DatabaseConnection, DbErr, FromQueryResult, sqlx};

use super::contacts::{ContactCache, Known, name_after, name_sql};
use super::plan::{BatchInput, BatchPlan, ContactRow, InboundRow};
use super::write::{
    Inserted, SERVICE_WINDOW, Steps, WriteOptions, WriteOutcome, refresh_assignments, timer_changes,
};
use crate::bus::{Event, EventKind};

/// Whether `input` can take this path: inbound messages only, from senders
/// the writer knows.
pub fn eligible(input: &BatchInput, contacts: &ContactCache) -> bool {
    !input.inbound.is_empty()
        && input.statuses.is_empty()
        && input.templates.is_empty()
        && input.accepted.is_empty()
        && input.events.is_empty()
        && contacts.knows_all(
            input
                .inbound
                .iter()
                .map(|m| (m.tenant_id, m.from.as_str()))
                .chain(
                    input
                        .contacts
                        .iter()
                        .map(|c| (c.tenant_id, c.wa_id.as_str())),
                ),
        )
}

/// A contact whose stored row needs a write: the name and inbound time
/// the batch brings, and the row as it is after the write (for the cache).
#[derive(Debug, Clone, PartialEq)]
struct Touch<'a> {
    row: &'a ContactRow,
    after: Known,
}

/// One message of the statement.
struct Row<'a> {
    ord: i64,
    m: &'a InboundRow,
    contact: i64,
    /// Set on the first message of a contact whose row needs a write.
    touch: Option<&'a Touch<'a>>,
}

/// Why the one-statement write gave up.
#[derive(Debug, thiserror::Error)]
pub enum FastError {
    /// Nothing was committed: the caller writes the whole batch the usual way.
    #[error("nothing written: {0}")]
    NotWritten(DbErr),
    /// The statement committed but its answer could not be read. The usual
    /// way then finds those messages stored and reports them as duplicates
    /// (nothing lost or stored twice; their events are in the log for
    /// subscribers, who fill gaps from it).
    #[error("written, answer unreadable: {0}")]
    Unread(DbErr),
}

/// Writes `plan` (inbound messages and their contacts only, every contact
/// known to `opts.contacts`); returns what it stored. A message it did not
/// store is not in `inserted`: the caller writes those the usual way. The
/// timer deadlines come back for the caller to store beside the writer.
pub async fn write(
    db: &DatabaseConnection,
    plan: &BatchPlan,
    opts: &WriteOptions,
) -> Result<(WriteOutcome, TimerHint), FastError> {
    let t = crate::store::now();
    let mut out = WriteOutcome {
        steps: Steps::start(),
        ..Default::default()
    };
    let mut ids: HashMap<(i64, &str), i64> = HashMap::new();
    let mut touches: HashMap<(i64, &str), Touch> = HashMap::new();
    for c in &plan.contacts {
        let known = opts.contacts.known(c.tenant_id, &c.wa_id).ok_or_else(|| {
            FastError::NotWritten(DbErr::Custom(format!("contact {} is not known", c.wa_id)))
        })?;
        ids.insert((c.tenant_id, &c.wa_id), known.id);
        if !known.is_fresh_for(c) {
            let after = Known {
                id: known.id,
                name: name_after(
                    known.name.as_deref(),
                    known.last_inbound_at,
                    c.profile_name.as_deref(),
                    c.last_inbound_at,
                ),
                last_inbound_at: known.last_inbound_at.max(c.last_inbound_at),
            };
            touches.insert((c.tenant_id, &c.wa_id), Touch { row: c, after });
        }
    }
    let mut touched: HashSet<(i64, &str)> = HashSet::new();
    let mut rows = Vec::with_capacity(plan.inbound.len());
    for (ord, m) in plan.inbound.iter().enumerate() {
        let key = (m.tenant_id, m.from.as_str());
        let contact = *ids.get(&key).ok_or_else(|| {
            FastError::NotWritten(DbErr::Custom(format!("contact {} is not known", m.from)))
        })?;
        rows.push(Row {
            ord: i64::try_from(ord).unwrap_or(i64::MAX),
            m,
            contact,
            touch: touches.get(&key).filter(|_| touched.insert(key)),
        });
    }

    let found = execute(db, &rows, t).await.map_err(FastError::NotWritten)?;
    out.steps.lap("write");
    read_back(&mut out, found, plan, touches, t).map_err(FastError::Unread)?;

    // the next timer deadlines, stored beside the writer (before the answers)
    let changed = timer_changes(&mut out.conversations, &opts.timers, t);
    Ok((
        out,
        TimerHint {
            changed,
            refreshed_at: t,
        },
    ))
}

/// The next timer deadline of each conversation a statement refreshed: a
/// hint for the timer sweep (the refresh already marked a new wait "look
/// now"), so a failure loses nothing. Stored beside the writer while it
/// writes the next batch, but before this batch's answers go out, so a
/// client that got its 200 reads the deadline with the message.
#[derive(Debug)]
pub struct TimerHint {
    changed: Vec<(i64, Option<DateTime<Utc>>)>,
    refreshed_at: DateTime<Utc>,
}

impl TimerHint {
    /// Stores the deadlines (logs a failure).
    pub async fn store(&self, db: &DatabaseConnection) {
        if let Err(e) = store_timers(db, &self.changed, self.refreshed_at).await {
            tracing::warn!(error = %e, "storing the next timer deadlines failed; the sweep looks now");
        }
    }
}

/// A message the statement stored: tenant, conversation, id, index in the plan.
type StoredMessage = (i64, i64, i64, i64);

/// The event sequence number of each stored message: per tenant, the
/// statement took `n` numbers ending at `last`, in plan order (as its
/// `event_log` insert numbered them). Errs when the messages of a tenant do
/// not add up to its `n`.
fn number_events(
    mut stored: Vec<StoredMessage>,
    tenants: &HashMap<i64, (i64, i64)>,
) -> Result<Vec<(StoredMessage, i64)>, String> {
    stored.sort_unstable_by_key(|&(tenant, _, _, ord)| (tenant, ord));
    let mut out = Vec::with_capacity(stored.len());
    let mut i = 0;
    while i < stored.len() {
        let tenant = stored[i].0;
        let run = stored[i..].iter().take_while(|m| m.0 == tenant).count();
        let &(last, n) = tenants
            .get(&tenant)
            .ok_or_else(|| format!("no sequence returned for tenant {tenant}"))?;
        if i64::try_from(run).ok() != Some(n) {
            return Err(format!(
                "tenant {tenant}: {run} messages returned, {n} numbered"
            ));
        }
        let first = last - n + 1;
        for (k, m) in stored[i..i + run].iter().enumerate() {
            out.push((*m, first + i64::try_from(k).unwrap_or(i64::MAX)));
        }
        i += run;
    }
    Ok(out)
}

/// Fills `out` from the statement's answer `found`.
fn read_back(
    out: &mut WriteOutcome,
    found: Vec<sqlx::postgres::PgRow>,
    plan: &BatchPlan,
    touches: HashMap<(i64, &str), Touch<'_>>,
    t: DateTime<Utc>,
) -> Result<(), DbErr> {
    use sqlx::Row;
    let mut stored = Vec::new();
    let mut tenants: HashMap<i64, (i64, i64)> = HashMap::new();
    for row in found {
        let tenant: i64 = row.try_get("tenant_id").map_err(db_err)?;
        let conversation: i64 = row.try_get("id").map_err(db_err)?;
        let ids: Vec<i64> = row.try_get("m_ids").map_err(db_err)?;
        let ords: Vec<i64> = row.try_get("m_ords").map_err(db_err)?;
        if ids.len() != ords.len() {
            return Err(DbErr::Custom(
                "message ids and indexes differ in length".into(),
            ));
        }
        tenants.insert(
            tenant,
            (
                row.try_get("m_last_seq").map_err(db_err)?,
                row.try_get("m_count").map_err(db_err)?,
            ),
        );
        stored.extend(
            ids.into_iter()
                .zip(ords)
                .map(|(id, ord)| (tenant, conversation, id, ord)),
        );
        out.conversations
            .push(conversations::Model::from_query_result(
                &sea_orm::QueryResult::from(row),
                "",
            )?);
    }
    let mut stored_for: HashSet<(i64, &str)> = HashSet::new();
    for ((tenant_id, conversation_id, id, ord), seq) in
        number_events(stored, &tenants).map_err(DbErr::Custom)?
    {
        let m = usize::try_from(ord)
            .ok()
            .and_then(|i| plan.inbound.get(i))
            .ok_or_else(|| DbErr::Custom(format!("unknown message {ord} returned")))?;
        out.inserted.push(Inserted {
            id,
            tenant_id,
            conversation_id,
            wamid: m.wamid.clone(),
            kind: m.kind.clone(),
        });
        out.events.push(Event {
            tenant_id,
            seq,
            at: t,
            kind: EventKind::MessageAdded {
                message_id: id,
                conversation_id,
            },
        });
        out.media += usize::from(m.media_id.is_some());
        stored_for.insert((m.tenant_id, m.from.as_str()));
    }
    // only contacts that certainly exist (a message of theirs went in)
    out.contacts = touches
        .into_iter()
        .filter(|(key, _)| stored_for.contains(key))
        .map(|((tenant, wa_id), touch)| ((tenant, wa_id.to_string()), touch.after))
        .collect();
    Ok(())
}

fn db_err(e: sqlx::Error) -> DbErr {
    DbErr::Query(sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(e)))
}

/// The statement's text: the same for every batch, so PostgreSQL parses
/// and plans it once per cached statement instead of once per row count
/// (as a `VALUES` list of bound rows would need). Binds: `$1` now, then one
/// array per message column, in [`Arrays`] order. One result row per
/// refreshed conversation: its columns, then `m_ids` and `m_ords` (its
/// stored messages and their indexes in the plan, in plan order),
/// `m_last_seq` (the tenant's last event sequence number after this
/// statement) and `m_count` (the tenant's messages stored by it). Messages
/// come grouped by conversation, not joined back one by one: with the
/// generic plan's row estimates (one), that join was a nested loop, its
/// cost growing with the square of the batch (20 µs a message at 100).
/// The tenant's sequence row is taken last: `s` reads all of `r` and `c`
/// first (the conversations and contacts updated and locked), so the
/// statement never holds the sequence while it waits for another row, and a
/// transaction that holds rows and then waits for the sequence (a timer
/// group, a command) cannot close a cycle with it.
static STATEMENT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let now = "$1";
    let window_end = format!(
        "(w.last_at + interval '{} seconds')",
        SERVICE_WINDOW.num_seconds()
    );
    let set = refresh_assignments("w.first_at", "w.last_at", &window_end, now);
    let name = name_sql(
        "contacts.profile_name",
        "contacts.last_inbound_at",
        "v.touch_name",
        "v.touch_at",
    );
    let added = EventKind::MessageAdded {
        message_id: 0,
        conversation_id: 0,
    }
    .name();
    format!(
        "WITH v AS (SELECT * FROM unnest($2::int8[], $3::int8[], $4::int8[], $5::int8[], \
                 $6::text[], $7::text[], $8::jsonb[], $9::timestamptz[], $10::text[], \
                 $11::bool[], $12::text[], $13::timestamptz[]) \
             AS u (ord, tenant_id, contact_id, number_id, wamid, kind, content, sent_at, \
                 media_id, touch, touch_name, touch_at)), \
         c AS (UPDATE contacts SET profile_name = {name}, \
             last_inbound_at = CASE WHEN contacts.last_inbound_at IS NULL \
                 OR v.touch_at > contacts.last_inbound_at THEN v.touch_at \
                 ELSE contacts.last_inbound_at END, \
             updated_at = {now} \
             FROM v WHERE v.touch AND contacts.id = v.contact_id AND contacts.tenant_id = v.tenant_id \
             RETURNING contacts.id), \
         m AS (INSERT INTO messages (tenant_id, conversation_id, contact_id, direction, \
                 wa_message_id, kind, content, status, wa_timestamp, created_at) \
             SELECT v.tenant_id, o.id, v.contact_id, 'inbound', v.wamid, v.kind, v.content, \
                 'received', v.sent_at, {now} \
             FROM v JOIN conversations o ON o.tenant_id = v.tenant_id \
                 AND o.contact_id = v.contact_id AND o.whatsapp_number_id = v.number_id \
                 AND o.status <> 'resolved' AND o.status <> 'snoozed' \
             ORDER BY v.ord \
             ON CONFLICT (tenant_id, wa_message_id) DO NOTHING \
             RETURNING id, tenant_id, conversation_id, wa_message_id), \
         x AS (SELECT m.id, m.tenant_id, m.conversation_id, v.ord, v.sent_at, v.media_id, \
                 row_number() OVER (PARTITION BY m.tenant_id ORDER BY v.ord) AS rn, \
                 count(*) OVER (PARTITION BY m.tenant_id) AS n \
             FROM m JOIN v ON v.tenant_id = m.tenant_id AND v.wamid = m.wa_message_id), \
         w AS (SELECT conversation_id, min(sent_at) AS first_at, max(sent_at) AS last_at, \
                 array_agg(id ORDER BY ord) AS ids, array_agg(ord ORDER BY ord) AS ords \
             FROM x GROUP BY conversation_id), \
         r AS (UPDATE conversations SET {set} FROM w WHERE conversations.id = w.conversation_id \
             RETURNING conversations.*, w.ids AS m_ids, w.ords AS m_ords), \
         k AS (SELECT tenant_id, count(*) AS n FROM x GROUP BY tenant_id), \
         s AS (INSERT INTO event_sequences (tenant_id, last_seq) \
             SELECT k.tenant_id, k.n FROM k, \
                 (SELECT (SELECT count(*) FROM r) + (SELECT count(*) FROM c) AS n) AS locked \
             WHERE locked.n >= 0 ORDER BY k.tenant_id \
             ON CONFLICT (tenant_id) DO UPDATE \
                 SET last_seq = event_sequences.last_seq + excluded.last_seq \
             RETURNING tenant_id, last_seq), \
         y AS (SELECT x.*, s.last_seq - x.n + x.rn AS seq FROM x JOIN s ON s.tenant_id = x.tenant_id), \
         e AS (INSERT INTO event_log (tenant_id, seq, kind, payload, created_at) \
             SELECT tenant_id, seq, '{added}', jsonb_build_object('type', '{added}', \
                 'message_id', id, 'conversation_id', conversation_id), {now} FROM y), \
         f AS (INSERT INTO media_files (tenant_id, message_id, media_id, status, created_at, updated_at) \
             SELECT tenant_id, id, media_id, 'pending', {now}, {now} FROM x WHERE media_id IS NOT NULL \
             ON CONFLICT (message_id) DO NOTHING) \
         SELECT r.*, s.last_seq AS m_last_seq, k.n AS m_count \
         FROM r JOIN s ON s.tenant_id = r.tenant_id JOIN k ON k.tenant_id = r.tenant_id"
    )
});

/// The statement's message columns, one array each (`$2`…`$13`).
#[derive(Default)]
struct Arrays<'a> {
    ord: Vec<i64>,
    tenant: Vec<i64>,
    contact: Vec<i64>,
    number: Vec<i64>,
    wamid: Vec<&'a str>,
    kind: Vec<&'a str>,
    content: Vec<sqlx::types::Json<&'a serde_json::Value>>,
    sent_at: Vec<DateTime<Utc>>,
    media_id: Vec<Option<&'a str>>,
    touch: Vec<bool>,
    touch_name: Vec<Option<&'a str>>,
    touch_at: Vec<Option<DateTime<Utc>>>,
}

impl<'a> Arrays<'a> {
    fn of(rows: &[Row<'a>]) -> Self {
        let mut a = Arrays::default();
        for r in rows {
            a.ord.push(r.ord);
            a.tenant.push(r.m.tenant_id);
            a.contact.push(r.contact);
            a.number.push(r.m.number_id);
            a.wamid.push(&r.m.wamid);
            a.kind.push(&r.m.kind);
            a.content.push(sqlx::types::Json(&*r.m.content));
            a.sent_at.push(r.m.sent_at);
            a.media_id.push(r.m.media_id.as_deref());
            a.touch.push(r.touch.is_some());
            a.touch_name
                .push(r.touch.and_then(|tc| tc.row.profile_name.as_deref()));
            a.touch_at
                .push(r.touch.and_then(|tc| tc.row.last_inbound_at));
        }
        a
    }
}

/// Runs the statement for `rows` on its own (one round trip, one commit).
async fn execute(
    db: &DatabaseConnection,
    rows: &[Row<'_>],
    t: DateTime<Utc>,
) -> Result<Vec<sqlx::postgres::PgRow>, DbErr> {
    let a = Arrays::of(rows);
    sqlx::query(STATEMENT.as_str())
        .bind(t)
        .bind(&a.ord)
        .bind(&a.tenant)
        .bind(&a.contact)
        .bind(&a.number)
        .bind(&a.wamid)
        .bind(&a.kind)
        .bind(&a.content)
        .bind(&a.sent_at)
        .bind(&a.media_id)
        .bind(&a.touch)
        .bind(&a.touch_name)
        .bind(&a.touch_at)
        .fetch_all(db.get_postgres_connection_pool())
        .await
        .map_err(db_err)
}

/// Stores the next timer deadlines `(conversation, at)` in one statement
/// (the same text for any number of them), after the batch committed. A
/// conversation changed since (its `updated_at` is no longer the refresh's
/// `refreshed_at`: a reply, a command, another daemon) keeps what its
/// change stored, which was computed from a newer row. A conversation
/// locked right now is being changed by such a newer write, so it is
/// skipped rather than waited for: this runs beside the writer's next
/// batch, and waiting on rows that batch locks in another order could
/// deadlock.
async fn store_timers(
    db: &DatabaseConnection,
    changed: &[(i64, Option<DateTime<Utc>>)],
    refreshed_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    if changed.is_empty() {
        return Ok(());
    }
    let (ids, at): (Vec<i64>, Vec<Option<DateTime<Utc>>>) = changed.iter().copied().unzip();
    sqlx::query(
        "UPDATE conversations SET next_timer_at = v.at \
         FROM (SELECT c.id, u.at FROM unnest($1::int8[], $2::timestamptz[]) AS u (id, at) \
             JOIN conversations c ON c.id = u.id AND c.updated_at = $3 \
             FOR NO KEY UPDATE OF c SKIP LOCKED) AS v \
         WHERE conversations.id = v.id",
    )
    .bind(&ids)
    .bind(&at)
    .bind(refreshed_at)
    .execute(db.get_postgres_connection_pool())
    .await
    .map_err(db_err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::ingest::plan::StatusRow;

    fn inbound(from: &str, wamid: &str) -> InboundRow {
        InboundRow {
            tenant_id: 1,
            number_id: 2,
            from: from.into(),
            wamid: wamid.into(),
            kind: "text".into(),
            content: Arc::new(serde_json::json!({"body": "hi"})),
            sent_at: DateTime::from_timestamp(100, 0).unwrap_or_default(),
            media_id: None,
        }
    }

    #[test]
    fn the_event_the_statement_builds_is_the_one_the_bus_carries() {
        // the statement writes kind and payload of `message_added` itself:
        // the payload the bus would serialize, key for key
        let kind = EventKind::MessageAdded {
            message_id: 5,
            conversation_id: 9,
        };
        let payload = serde_json::to_value(&kind).unwrap_or_default();
        assert_eq!(
            payload,
            serde_json::json!({"type": kind.name(), "message_id": 5, "conversation_id": 9})
        );
        assert!(STATEMENT.contains(&format!(
            "jsonb_build_object('type', '{}', 'message_id', id, 'conversation_id', conversation_id)",
            kind.name()
        )));
    }

    #[test]
    fn only_inbound_from_known_senders_is_eligible() {
        let cache = ContactCache::default();
        let one = || BatchInput {
            inbound: vec![inbound("49", "w1")],
            ..Default::default()
        };
        let input = one();
        assert!(!eligible(&input, &cache), "unknown sender");
        cache.remember([(
            (1, "49".to_string()),
            Known {
                id: 7,
                name: None,
                last_inbound_at: None,
            },
        )]);
        assert!(eligible(&input, &cache));
        let mut with_status = one();
        with_status.statuses.push(StatusRow {
            tenant_id: 1,
            wamid: "w0".into(),
            status: "read".into(),
            error_code: None,
            error_title: None,
            at: DateTime::from_timestamp(100, 0).unwrap_or_default(),
            payload: Arc::new(serde_json::Value::Null),
        });
        assert!(!eligible(&with_status, &cache), "statuses");
        let mut other_contact = one();
        other_contact.contacts.push(ContactRow {
            tenant_id: 1,
            wa_id: "50".into(),
            profile_name: None,
            last_inbound_at: None,
        });
        assert!(!eligible(&other_contact, &cache), "unknown contact");
        let mut other_tenant = input;
        other_tenant.inbound[0].tenant_id = 2;
        assert!(
            !eligible(&other_tenant, &cache),
            "known in another tenant only"
        );
        assert!(!eligible(&BatchInput::default(), &cache), "nothing inbound");
    }

    #[test]
    fn one_array_per_column_one_element_per_message_and_one_touch_per_contact() {
        let a = inbound("49", "w1");
        let mut b = inbound("49", "w2");
        b.media_id = Some("m2".into());
        let sent = ContactRow {
            tenant_id: 1,
            wa_id: "49".into(),
            profile_name: Some("Ann".into()),
            last_inbound_at: DateTime::from_timestamp(100, 0),
        };
        let touch = Touch {
            row: &sent,
            after: Known {
                id: 7,
                name: Some("Ann".into()),
                last_inbound_at: DateTime::from_timestamp(100, 0),
            },
        };
        let rows = [
            Row {
                ord: 0,
                m: &a,
                contact: 7,
                touch: Some(&touch),
            },
            Row {
                ord: 1,
                m: &b,
                contact: 7,
                touch: None,
            },
        ];
        let arrays = Arrays::of(&rows);
        assert_eq!(arrays.ord, [0, 1]);
        assert_eq!(arrays.wamid, ["w1", "w2"]);
        assert_eq!(arrays.media_id, [None, Some("m2")]);
        assert_eq!(arrays.touch, [true, false]);
        assert_eq!(arrays.touch_name, [Some("Ann"), None]);
        assert_eq!(arrays.touch_at, [DateTime::from_timestamp(100, 0), None]);
        assert_eq!(arrays.content.len(), 2);
    }

    #[test]
    fn events_are_numbered_per_tenant_in_plan_order() {
        // (tenant, conversation, id, ord), as conversations return them
        let stored = vec![
            (1, 10, 101, 2),
            (2, 20, 201, 1),
            (1, 11, 102, 0),
            (1, 10, 103, 3),
        ];
        let tenants = HashMap::from([(1, (50, 3)), (2, (7, 1))]);
        let numbered = number_events(stored, &tenants).expect("numbered");
        let seqs: Vec<(i64, i64, i64)> = numbered.iter().map(|(m, seq)| (m.0, m.2, *seq)).collect();
        assert_eq!(
            seqs,
            [(1, 102, 48), (1, 101, 49), (1, 103, 50), (2, 201, 7)]
        );
        assert!(
            number_events(vec![(1, 10, 101, 0)], &HashMap::from([(1, (50, 2))])).is_err(),
            "a message missing from the answer"
        );
        assert!(
            number_events(vec![(3, 1, 1, 0)], &tenants).is_err(),
            "no sequence"
        );
        assert_eq!(number_events(Vec::new(), &tenants), Ok(Vec::new()));
    }
}
