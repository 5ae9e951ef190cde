//! Turns a bearer credential (login token or API key) into an [`Identity`],
//! reading the user or key from the database so that disabling, role changes
//! and revocation take effect on the next request.

use crate::auth::{Credential, Identity, Role, api_key};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store;

/// Extracts the token from an `Authorization: Bearer …` value.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

/// Authenticates a bearer token.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Identity, ApiError> {
    if api_key::is_api_key(token) {
        let key = store::api_keys::find_active_by_hash(&state.db, &api_key::hash(token))
            .await?
            .ok_or_else(|| ApiError::BadCredentials("invalid or revoked API key".into()))?;
        let role: Role = key.role.parse().map_err(ApiError::internal)?;
        store::api_keys::touch(&state.db, &key).await?;
        return Ok(Identity {
            tenant_id: key.tenant_id,
            user_id: None,
            role,
            credential: Credential::ApiKey {
                key_id: key.id,
                scopes: store::api_keys::scopes_of(&key),
            },
            departments: Vec::new(),
        });
    }
    let (user_id, tenant_id) = state
        .tokens
        .verify(token)
        .map_err(|e| ApiError::BadCredentials(e.to_string()))?;
    let user = store::users::find_by_id(&state.db, user_id)
        .await?
        .filter(|u| u.tenant_id == tenant_id && !u.disabled)
        .ok_or_else(|| ApiError::BadCredentials("invalid or expired token".into()))?;
    let role: Role = user.role.parse().map_err(ApiError::internal)?;
    let departments = if role < Role::Manager {
        store::departments::of_user(&state.db, tenant_id, user.id).await?
    } else {
        Vec::new()
    };
    Ok(Identity {
        tenant_id,
        user_id: Some(user.id),
        role,
        credential: Credential::User,
        departments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_parsing() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer   abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("abc"), None);
    }
}
