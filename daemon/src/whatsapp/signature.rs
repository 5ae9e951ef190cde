//! `X-Hub-Signature-256`: HMAC-SHA256 of the raw body keyed by the app secret.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The header value Meta sends for `body`: `sha256=<lowercase hex>`.
pub fn sign(app_secret: &[u8], body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(app_secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a header value against `body` in constant time.
pub fn verify(app_secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex_sig) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_sig) else {
        return false;
    };
    let mut mac = HmacSha256::new_from_slice(app_secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify() {
        let sig = sign(b"secret", b"{\"a\":1}");
        assert!(sig.starts_with("sha256="));
        assert_eq!(sig.len(), 7 + 64);
        assert!(verify(b"secret", b"{\"a\":1}", &sig));
        assert!(verify(
            b"secret",
            b"{\"a\":1}",
            &sig.to_uppercase().replace("SHA256=", "sha256=")
        ));
        assert!(!verify(b"other", b"{\"a\":1}", &sig));
        assert!(!verify(b"secret", b"{\"a\":2}", &sig));
        assert!(!verify(b"secret", b"{\"a\":1}", "sha1=abc"));
        assert!(!verify(b"secret", b"{\"a\":1}", "sha256=zz"));
        assert!(!verify(b"secret", b"{\"a\":1}", ""));
    }

    #[test]
    fn known_vector() {
        // RFC 4231 test case 2
        let sig = sign(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            sig,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
