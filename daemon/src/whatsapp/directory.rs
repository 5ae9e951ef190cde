//! Which tenant owns a `phone_number_id`, with its decrypted app secret: an
//! in-memory cache in front of `whatsapp_numbers`, so the webhook hot path
//! does no database read. Entries are invalidated on change and expire after
//! a TTL (another daemon may have changed the number).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use secrecy::SecretString;

use crate::crypto::{CryptoError, Keyring};

/// How long an entry is trusted.
const TTL: Duration = Duration::from_secs(30);
/// How long a "no such number" answer is trusted (short: a number registered
/// on another daemon must start working quickly).
const NEGATIVE_TTL: Duration = Duration::from_secs(2);
/// Entries kept at most; beyond that, expired ones go and then the cache resets.
const MAX_ENTRIES: usize = 50_000;

/// A registered number as the webhook needs it.
#[derive(Debug)]
pub struct NumberEntry {
    pub tenant_id: i64,
    pub number_id: i64,
    pub phone_number_id: String,
    pub display_phone_number: String,
    pub app_secret: SecretString,
}

/// Errors looking a number up.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("cannot decrypt the app secret of number {0}: {1}")]
    Crypto(String, CryptoError),
}

type Cached = (Option<Arc<NumberEntry>>, Instant);

/// The cache.
#[derive(Debug)]
pub struct NumberDirectory {
    db: DatabaseConnection,
    keyring: Arc<Keyring>,
    cache: RwLock<HashMap<String, Cached>>,
    /// Bumped by every invalidation, so a lookup that raced with one does not
    /// cache what it read before the change.
    generation: std::sync::atomic::AtomicU64,
    unknown_logged: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl NumberDirectory {
    pub fn new(db: DatabaseConnection, keyring: Arc<Keyring>) -> Self {
        Self {
            db,
            keyring,
            cache: RwLock::new(HashMap::new()),
            generation: std::sync::atomic::AtomicU64::new(0),
            unknown_logged: std::sync::Mutex::new(std::collections::HashSet::new()),
        }
    }

    /// The number, or `None` when no tenant registered it.
    pub async fn lookup(
        &self,
        phone_number_id: &str,
    ) -> Result<Option<Arc<NumberEntry>>, DirectoryError> {
        if let Ok(cache) = self.cache.read()
            && let Some((entry, at)) = cache.get(phone_number_id)
            && at.elapsed() < if entry.is_some() { TTL } else { NEGATIVE_TTL }
        {
            return Ok(entry.clone());
        }
        let generation = self.generation.load(std::sync::atomic::Ordering::SeqCst);
        let row = entity::whatsapp_numbers::Entity::find()
            .filter(entity::whatsapp_numbers::Column::PhoneNumberId.eq(phone_number_id))
            .one(&self.db)
            .await?;
        let entry = match row {
            Some(r) => {
                let app_secret = self
                    .keyring
                    .open(&r.app_secret_enc)
                    .map_err(|e| DirectoryError::Crypto(r.phone_number_id.clone(), e))?;
                Some(Arc::new(NumberEntry {
                    tenant_id: r.tenant_id,
                    number_id: r.id,
                    phone_number_id: r.phone_number_id,
                    display_phone_number: r.display_phone_number,
                    app_secret,
                }))
            }
            None => None,
        };
        if let Ok(mut cache) = self.cache.write()
            && self.generation.load(std::sync::atomic::Ordering::SeqCst) == generation
        {
            if cache.len() >= MAX_ENTRIES {
                cache.retain(|_, (e, at)| e.is_some() && at.elapsed() < TTL);
                if cache.len() >= MAX_ENTRIES {
                    cache.clear();
                }
            }
            cache.insert(phone_number_id.to_string(), (entry.clone(), Instant::now()));
        }
        Ok(entry)
    }

    /// The tenant owning a WhatsApp Business Account (template notifications
    /// carry the WABA id, not a phone number id), with one of its numbers.
    pub async fn lookup_waba(
        &self,
        waba_id: &str,
    ) -> Result<Option<Arc<NumberEntry>>, DirectoryError> {
        let row = entity::whatsapp_numbers::Entity::find()
            .filter(entity::whatsapp_numbers::Column::WabaId.eq(waba_id))
            .one(&self.db)
            .await?;
        match row {
            Some(r) => self.lookup(&r.phone_number_id).await,
            None => Ok(None),
        }
    }

    /// True the first time an unknown number is reported, so it is logged once.
    pub fn first_report_of_unknown(&self, phone_number_id: &str) -> bool {
        match self.unknown_logged.lock() {
            Ok(mut set) => set.len() < 10_000 && set.insert(phone_number_id.to_string()),
            Err(_) => false,
        }
    }

    /// Forgets a number after it was added, changed or removed.
    pub fn invalidate(&self, phone_number_id: &str) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if let Ok(mut cache) = self.cache.write() {
            cache.remove(phone_number_id);
        }
        if let Ok(mut set) = self.unknown_logged.lock() {
            set.remove(phone_number_id);
        }
    }

    /// Whether some registered number uses `token` as its verify token.
    pub async fn verify_token_known(&self, token: &str) -> Result<bool, DirectoryError> {
        Ok(entity::whatsapp_numbers::Entity::find()
            .filter(entity::whatsapp_numbers::Column::VerifyToken.eq(token))
            .one(&self.db)
            .await?
            .is_some())
    }
}
