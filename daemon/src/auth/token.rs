//! Login tokens: HS256 JWTs carrying the user and tenant.

use chrono::{Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

const ISSUER: &str = "switchboard";

/// Claims of a login token. The role is *not* trusted from the token: it is read
/// from the database on every request, so role changes and disabling take effect
/// at once.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Tenant id.
    pub tid: i64,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
}

/// A token could not be issued or is not valid.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("invalid or expired token")]
    Invalid,
    #[error("cannot issue token: {0}")]
    Issue(String),
}

/// Issues and checks login tokens with one HS256 key.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    expiry: Duration,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("expiry", &self.expiry)
            .finish()
    }
}

impl TokenKeys {
    pub fn new(secret: &[u8], expiry_minutes: u32) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            expiry: Duration::minutes(i64::from(expiry_minutes)),
        }
    }

    /// Issues a token; returns it with its expiry time.
    pub fn issue(
        &self,
        user_id: i64,
        tenant_id: i64,
    ) -> Result<(String, chrono::DateTime<Utc>), TokenError> {
        let now = Utc::now();
        let exp = now + self.expiry;
        let claims = Claims {
            sub: user_id.to_string(),
            tid: tenant_id,
            iat: now.timestamp(),
            exp: exp.timestamp(),
            iss: ISSUER.into(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map(|t| (t, exp))
            .map_err(|e| TokenError::Issue(e.to_string()))
    }

    /// Checks signature, algorithm, issuer and expiry; returns (user id, tenant id).
    pub fn verify(&self, token: &str) -> Result<(i64, i64), TokenError> {
        let mut v = Validation::new(Algorithm::HS256);
        v.set_issuer(&[ISSUER]);
        v.leeway = 5;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &v)
            .map_err(|_| TokenError::Invalid)?;
        let user_id = data.claims.sub.parse().map_err(|_| TokenError::Invalid)?;
        Ok((user_id, data.claims.tid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_and_verify() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef", 60);
        let (t, exp) = keys.issue(7, 3).expect("issue");
        assert!(exp > Utc::now());
        assert_eq!(keys.verify(&t).expect("valid"), (7, 3));
        let other = TokenKeys::new(b"fedcba9876543210fedcba9876543210", 60);
        assert!(other.verify(&t).is_err());
        assert!(keys.verify("garbage").is_err());
    }

    #[test]
    fn expired_tokens_are_refused() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef", 60);
        let claims = Claims {
            sub: "1".into(),
            tid: 1,
            iat: 0,
            exp: Utc::now().timestamp() - 3600,
            iss: ISSUER.into(),
        };
        let t = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding)
            .expect("encode");
        assert!(keys.verify(&t).is_err());
    }
}
