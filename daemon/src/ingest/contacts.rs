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

#[derive(Debug, Default)]
pub struct ContactCache {
    map: Mutex<HashMap<(i64, String), Known>>,
}

impl ContactCache {
    /// The stored id of `c` when its row needs no write.
    pub fn fresh_id(&self, c: &ContactRow) -> Option<i64> {
        let map = self.map.lock().ok()?;
        let k = map.get(&(c.tenant_id, c.wa_id.clone()))?;
        let same_name = c.profile_name.is_none() || c.profile_name == k.name;
        let recent = match (c.last_inbound_at, k.last_inbound_at) {
            (None, _) => true,
            (Some(new), Some(stored)) => new - stored < REFRESH,
            (Some(_), None) => false,
        };
        (same_name && recent).then_some(k.id)
    }

    /// Remembers committed rows.
    pub fn remember(&self, rows: impl IntoIterator<Item = ((i64, String), Known)>) {
        if let Ok(mut map) = self.map.lock() {
            for (key, known) in rows {
                if map.len() >= CAPACITY {
                    map.clear();
                }
                map.insert(key, known);
            }
        }
    }

    /// Forgets everything (after a failed batch).
    pub fn clear(&self) {
        if let Ok(mut map) = self.map.lock() {
            map.clear();
        }
    }
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
}
