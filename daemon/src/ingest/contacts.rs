//! What the writer remembers of contacts it committed: id, profile name and
//! the last inbound time it stored. A contact seen again with the same name
//! within [`REFRESH`] of the stored inbound time needs no upsert: its row is
//! already right, up to `REFRESH` on `contacts.last_inbound_at` (the 24-hour
//! window itself lives on the conversation, which is updated every time).
//! Filled only after a commit and cleared on any failed batch, so it never
//! holds an id the database does not have.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use super::plan::ContactRow;

/// How stale `contacts.last_inbound_at` may get before it is written again.
pub const REFRESH: Duration = Duration::seconds(60);

/// Contacts remembered at most; the cache starts over when full.
const CAPACITY: usize = 200_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    pub id: i64,
    pub name: Option<String>,
    pub last_inbound_at: Option<DateTime<Utc>>,
}

impl Known {
    /// Whether the stored row needs no write for `c`: the same name (or
    /// none sent) and an inbound time within [`REFRESH`] of the stored one.
    pub fn is_fresh_for(&self, c: &ContactRow) -> bool {
        let same_name = c.profile_name.is_none() || c.profile_name == self.name;
        let recent = match (c.last_inbound_at, self.last_inbound_at) {
            (None, _) => true,
            (Some(new), Some(stored)) => new - stored < REFRESH,
            (Some(_), None) => false,
        };
        same_name && recent
    }
}

#[derive(Debug, Default)]
pub struct ContactCache {
    entries: Mutex<Entries>,
}

/// The remembered contacts by tenant, then `wa_id`: looked up per message
/// on the writer's path, so by `&str`, without building an owned key.
#[derive(Debug, Default)]
struct Entries {
    by_tenant: HashMap<i64, HashMap<String, Known>>,
    len: usize,
}

impl Entries {
    fn get(&self, tenant_id: i64, wa_id: &str) -> Option<&Known> {
        self.by_tenant.get(&tenant_id)?.get(wa_id)
    }

    /// Stores `known` for `key`; an entry already there is kept unless
    /// `replace`. When full, a new key starts the cache over if `replace`,
    /// else it is not added. Returns whether `key` was new.
    fn put(&mut self, (tenant_id, wa_id): (i64, String), known: Known, replace: bool) -> bool {
        if self.len >= CAPACITY && self.get(tenant_id, &wa_id).is_none() {
            if !replace {
                return false;
            }
            self.clear();
        }
        match self.by_tenant.entry(tenant_id).or_default().entry(wa_id) {
            std::collections::hash_map::Entry::Occupied(mut o) => {
                if replace {
                    o.insert(known);
                }
                false
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(known);
                self.len += 1;
                true
            }
        }
    }

    fn clear(&mut self) {
        self.by_tenant.clear();
        self.len = 0;
    }
}

impl ContactCache {
    /// The stored id of `c` when its row needs no write.
    pub fn fresh_id(&self, c: &ContactRow) -> Option<i64> {
        let entries = self.entries.lock().ok()?;
        let k = entries.get(c.tenant_id, &c.wa_id)?;
        k.is_fresh_for(c).then_some(k.id)
    }

    /// What is remembered of the contact `key` (tenant, wa_id).
    pub fn known(&self, tenant_id: i64, wa_id: &str) -> Option<Known> {
        let entries = self.entries.lock().ok()?;
        entries.get(tenant_id, wa_id).cloned()
    }

    /// Whether every contact of `keys` (tenant, wa_id) is remembered (one
    /// lock, nothing copied or allocated).
    pub fn knows_all<'a>(&self, mut keys: impl Iterator<Item = (i64, &'a str)>) -> bool {
        match self.entries.lock() {
            Ok(entries) => keys.all(|(tenant, wa_id)| entries.get(tenant, wa_id).is_some()),
            Err(_) => false,
        }
    }

    /// Remembers committed rows (the cache starts over when full).
    pub fn remember(&self, rows: impl IntoIterator<Item = ((i64, String), Known)>) {
        if let Ok(mut entries) = self.entries.lock() {
            for (key, known) in rows {
                entries.put(key, known, true);
            }
        }
    }

    /// Adds `rows` read from the database where nothing newer is remembered
    /// and while there is room (the warm-up at start: a restart must not
    /// send every customer's next message the slow way). Returns how many
    /// were added.
    pub fn fill(&self, rows: impl IntoIterator<Item = ((i64, String), Known)>) -> usize {
        let Ok(mut entries) = self.entries.lock() else {
            return 0;
        };
        rows.into_iter()
            .map(|(key, known)| usize::from(entries.put(key, known, false)))
            .sum()
    }

    /// Forgets everything (after a failed batch).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

/// The profile name a contact keeps when a notification names it `sent`
/// for messages up to `sent_at`: the name of the newer side, so a retry
/// Meta delivers late (days, sometimes) cannot put back an old name. No
/// name sent keeps the stored one; a side without a time does not lose.
/// [`name_sql`] is the same rule for the write statements.
pub fn name_after(
    stored: Option<&str>,
    stored_at: Option<DateTime<Utc>>,
    sent: Option<&str>,
    sent_at: Option<DateTime<Utc>>,
) -> Option<String> {
    let newer = match (sent_at, stored_at) {
        (Some(new), Some(old)) => new >= old,
        _ => true,
    };
    match sent {
        Some(name) if newer => Some(name.to_string()),
        _ => stored.map(str::to_string),
    }
}

/// [`name_after`] in SQL, given the SQL of its four inputs.
pub fn name_sql(stored: &str, stored_at: &str, sent: &str, sent_at: &str) -> String {
    format!(
        "CASE WHEN {sent} IS NOT NULL AND ({stored_at} IS NULL OR {sent_at} IS NULL \
         OR {sent_at} >= {stored_at}) THEN {sent} ELSE {stored} END"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: Option<&str>, at: i64) -> ContactRow {
        ContactRow {
            tenant_id: 1,
            wa_id: "49".into(),
            profile_name: name.map(str::to_string),
            last_inbound_at: DateTime::from_timestamp(at, 0),
        }
    }

    #[test]
    fn skips_only_unchanged_recent_contacts() {
        let cache = ContactCache::default();
        assert_eq!(cache.fresh_id(&row(Some("Ann"), 100)), None, "unknown");
        cache.remember([(
            (1, "49".to_string()),
            Known {
                id: 7,
                name: Some("Ann".into()),
                last_inbound_at: DateTime::from_timestamp(100, 0),
            },
        )]);
        assert_eq!(cache.fresh_id(&row(Some("Ann"), 130)), Some(7));
        assert_eq!(cache.fresh_id(&row(None, 130)), Some(7), "no name sent");
        assert_eq!(cache.fresh_id(&row(Some("Anna"), 130)), None, "renamed");
        assert_eq!(cache.fresh_id(&row(Some("Ann"), 160)), None, "stale time");
        cache.clear();
        assert_eq!(cache.fresh_id(&row(Some("Ann"), 130)), None);
    }

    #[test]
    fn the_warm_up_never_replaces_what_a_commit_remembered() {
        let cache = ContactCache::default();
        let known = |id, name: &str, at| Known {
            id,
            name: Some(name.into()),
            last_inbound_at: DateTime::from_timestamp(at, 0),
        };
        cache.remember([((1, "49".to_string()), known(7, "Anna", 200))]);
        let added = cache.fill([
            ((1, "49".to_string()), known(7, "Ann", 100)),
            ((1, "50".to_string()), known(8, "Bob", 100)),
        ]);
        assert_eq!(added, 1);
        assert_eq!(cache.known(1, "49"), Some(known(7, "Anna", 200)));
        assert_eq!(cache.known(1, "50"), Some(known(8, "Bob", 100)));
        assert!(cache.knows_all([(1, "49"), (1, "50")].into_iter()));
        assert!(
            !cache.knows_all([(1, "49"), (2, "49")].into_iter()),
            "per tenant"
        );
    }

    #[test]
    fn a_full_cache_starts_over_on_remember_and_stops_filling() {
        let cache = ContactCache::default();
        let known = |id| Known {
            id,
            name: None,
            last_inbound_at: None,
        };
        let full = (0..CAPACITY).map(|n| ((1, n.to_string()), known(n as i64)));
        assert_eq!(cache.fill(full), CAPACITY);
        assert_eq!(cache.fill([((2, "x".to_string()), known(1))]), 0, "no room");
        // a known key is updated in place, a new one starts over
        cache.remember([((1, "0".to_string()), known(42))]);
        assert_eq!(cache.known(1, "0").map(|k| k.id), Some(42));
        assert!(cache.known(1, "1").is_some());
        cache.remember([((2, "x".to_string()), known(7))]);
        assert!(cache.known(1, "1").is_none(), "started over");
        assert_eq!(cache.known(2, "x").map(|k| k.id), Some(7));
    }

    #[test]
    fn a_late_retry_does_not_put_back_an_old_name() {
        let t = |s| DateTime::from_timestamp(s, 0);
        assert_eq!(
            name_after(Some("Ann"), t(100), Some("Anna"), t(200)).as_deref(),
            Some("Anna")
        );
        assert_eq!(
            name_after(Some("Anna"), t(200), Some("Ann"), t(100)).as_deref(),
            Some("Anna"),
            "late retry"
        );
        assert_eq!(
            name_after(Some("Ann"), t(100), Some("Anna"), t(100)).as_deref(),
            Some("Anna"),
            "same second"
        );
        assert_eq!(
            name_after(Some("Ann"), t(100), None, t(200)).as_deref(),
            Some("Ann"),
            "no name sent"
        );
        assert_eq!(
            name_after(None, None, Some("Ann"), t(1)).as_deref(),
            Some("Ann"),
            "new contact"
        );
        assert_eq!(
            name_after(Some("Ann"), t(100), Some("Bo"), None).as_deref(),
            Some("Bo"),
            "no time sent"
        );
        let sql = name_sql("c.name", "c.at", "x.name", "x.at");
        assert!(
            sql.contains("x.at >= c.at") && sql.contains("ELSE c.name"),
            "{sql}"
        );
    }
}
