//! API keys for integrators: `sbk_<prefix>_<secret>`, shown once, stored as a
//! SHA-256 hash (the key has 256 bits of entropy, so a fast hash is enough and
//! keeps lookups O(1) by hash).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

use crate::crypto::sha256_hex;

/// Marks a bearer token as an API key rather than a login token.
pub const KEY_PREFIX: &str = "sbk_";

/// A freshly generated key: the full secret (to show once), its display prefix
/// and the hash to store.
pub struct NewApiKey {
    pub secret: String,
    pub prefix: String,
    pub hash: String,
}

/// Generates a new random key.
pub fn generate() -> NewApiKey {
    let mut id = [0u8; 6];
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut id);
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let prefix = format!("{KEY_PREFIX}{}", hex::encode(id));
    let full = format!("{prefix}_{}", URL_SAFE_NO_PAD.encode(secret));
    NewApiKey {
        hash: sha256_hex(&full),
        secret: full,
        prefix,
    }
}

/// Whether a bearer token looks like an API key.
pub fn is_api_key(token: &str) -> bool {
    token.starts_with(KEY_PREFIX)
}

/// The hash under which a presented key is stored.
pub fn hash(presented: &str) -> String {
    sha256_hex(presented)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_hash_and_are_unique() {
        let a = generate();
        let b = generate();
        assert!(is_api_key(&a.secret));
        assert!(a.secret.starts_with(&a.prefix));
        assert_eq!(hash(&a.secret), a.hash);
        assert_ne!(a.secret, b.secret);
        assert!(!is_api_key("eyJhbGciOiJIUzI1NiJ9.x.y"));
    }
}
