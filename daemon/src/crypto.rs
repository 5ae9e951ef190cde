//! Secrets at rest: AES-256-GCM with a key id, and key files in the data directory.
//!
//! A sealed value is `sb1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>`. The key id
//! (first 8 hex digits of SHA-256 of the key) lets a keyring hold old keys next to
//! the current one, so key rotation re-encrypts lazily without downtime.

use std::collections::HashMap;
use std::path::Path;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rand::RngCore;
use secrecy::{SecretBox, SecretString};
use sha2::{Digest, Sha256};

const PREFIX: &str = "sb1";
const NONCE_LEN: usize = 12;

/// Errors of sealing and opening secrets.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("key must be base64 of exactly 32 bytes")]
    BadKey,
    #[error("sealed value is malformed")]
    Malformed,
    #[error("no key with id {0} in the keyring")]
    UnknownKey(String),
    #[error("sealed value failed authentication (wrong key or tampered)")]
    Tampered,
    #[error("cannot read or write key file {path}: {source}")]
    KeyFile {
        path: String,
        source: std::io::Error,
    },
}

/// Decodes a base64 32-byte key.
pub fn decode_key(b64: &str) -> Result<[u8; 32], CryptoError> {
    let bytes = B64.decode(b64.trim()).map_err(|_| CryptoError::BadKey)?;
    bytes.try_into().map_err(|_| CryptoError::BadKey)
}

fn key_id(key: &[u8; 32]) -> String {
    hex::encode(&Sha256::digest(key)[..4])
}

/// The current encryption key plus older ones still accepted for opening.
pub struct Keyring {
    current: String,
    keys: HashMap<String, Aes256Gcm>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current)
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl Keyring {
    /// A keyring whose current key is `key`.
    pub fn new(key: &[u8; 32]) -> Self {
        let id = key_id(key);
        let mut keys = HashMap::new();
        keys.insert(
            id.clone(),
            Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key)),
        );
        Self { current: id, keys }
    }

    /// Adds an older key that may still open values.
    pub fn with_previous(mut self, key: &[u8; 32]) -> Self {
        self.keys
            .entry(key_id(key))
            .or_insert_with(|| Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key)));
        self
    }

    /// Id of the key new values are sealed with.
    pub fn current_key_id(&self) -> &str {
        &self.current
    }

    /// Encrypts `plain` with the current key.
    pub fn seal(&self, plain: &str) -> String {
        let cipher = self
            .keys
            .get(&self.current)
            .unwrap_or_else(|| unreachable!("current key is always in the ring"));
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ct = cipher
            .encrypt(&nonce, plain.as_bytes())
            .unwrap_or_else(|_| unreachable!("AES-GCM encryption of an in-memory buffer"));
        let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        format!("{PREFIX}:{}:{}", self.current, B64.encode(out))
    }

    /// Decrypts a value sealed with any key of the ring.
    pub fn open(&self, sealed: &str) -> Result<SecretString, CryptoError> {
        let mut parts = sealed.splitn(3, ':');
        let (Some(PREFIX), Some(kid), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(CryptoError::Malformed);
        };
        let cipher = self
            .keys
            .get(kid)
            .ok_or_else(|| CryptoError::UnknownKey(kid.to_string()))?;
        let raw = B64.decode(body).map_err(|_| CryptoError::Malformed)?;
        if raw.len() < NONCE_LEN + 16 {
            return Err(CryptoError::Malformed);
        }
        let (nonce, ct) = raw.split_at(NONCE_LEN);
        let plain = cipher
            .decrypt(Nonce::from_slice(nonce), ct)
            .map_err(|_| CryptoError::Tampered)?;
        String::from_utf8(plain)
            .map(SecretString::from)
            .map_err(|_| CryptoError::Malformed)
    }

    /// Whether a sealed value uses an older key and should be re-sealed.
    pub fn needs_reseal(&self, sealed: &str) -> bool {
        sealed.split(':').nth(1) != Some(self.current.as_str())
    }
}

/// Reads a secret from `dir/name`, or generates `len` random bytes (base64) into it
/// with mode 0600. Returns the secret and whether it was generated.
pub fn load_or_generate_secret(
    dir: &Path,
    name: &str,
    len: usize,
) -> Result<(SecretString, bool), CryptoError> {
    let path = dir.join(name);
    let io = |source| CryptoError::KeyFile {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok((SecretString::from(text.trim().to_string()), false)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(io)?;
            let mut bytes = vec![0u8; len];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            let encoded = B64.encode(&bytes);
            write_private(&path, &encoded).map_err(io)?;
            Ok((SecretString::from(encoded), true))
        }
        Err(e) => Err(io(e)),
    }
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()
}

/// 32 random bytes, kept secret.
pub fn random_key() -> SecretBox<[u8; 32]> {
    let mut k = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut k);
    SecretBox::new(Box::new(k))
}

/// Hex SHA-256, used for high-entropy tokens (API keys, invitations) where a slow
/// password hash adds nothing.
pub fn sha256_hex(input: &str) -> String {
    hex::encode(Sha256::digest(input.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn seal_open_round_trip_and_rotation() {
        let k1 = random_key();
        let k2 = random_key();
        let old = Keyring::new(k1.expose_secret());
        let sealed = old.seal("EAAG-token");
        assert!(sealed.starts_with("sb1:"));
        assert!(!sealed.contains("EAAG"));
        assert_eq!(
            old.open(&sealed).expect("open").expose_secret(),
            "EAAG-token"
        );

        let rotated = Keyring::new(k2.expose_secret()).with_previous(k1.expose_secret());
        assert!(rotated.needs_reseal(&sealed));
        assert_eq!(
            rotated.open(&sealed).expect("old key").expose_secret(),
            "EAAG-token"
        );
        let resealed = rotated.seal("EAAG-token");
        assert!(!rotated.needs_reseal(&resealed));
        assert!(matches!(
            old.open(&resealed),
            Err(CryptoError::UnknownKey(_))
        ));
    }

    #[test]
    fn tampering_and_garbage_are_refused() {
        let ring = Keyring::new(random_key().expose_secret());
        let sealed = ring.seal("secret");
        let mut bytes = sealed.into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).expect("ascii");
        assert!(matches!(
            ring.open(&tampered),
            Err(CryptoError::Tampered | CryptoError::Malformed)
        ));
        assert!(matches!(ring.open("nope"), Err(CryptoError::Malformed)));
        assert!(matches!(
            ring.open("sb1:zz:AAAA"),
            Err(CryptoError::UnknownKey(_))
        ));
    }

    #[test]
    fn key_decoding() {
        assert!(decode_key(&B64.encode([7u8; 32])).is_ok());
        assert!(decode_key(&B64.encode([7u8; 16])).is_err());
        assert!(decode_key("not base64!").is_err());
    }

    #[test]
    fn generated_secret_is_persisted_privately() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, generated) = load_or_generate_secret(dir.path(), "master.key", 32).expect("gen");
        assert!(generated);
        let (b, generated) = load_or_generate_secret(dir.path(), "master.key", 32).expect("load");
        assert!(!generated);
        assert_eq!(a.expose_secret(), b.expose_secret());
        assert!(decode_key(a.expose_secret()).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("master.key"))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
