//! Role guards: every root field names the least role that may use it.

use async_graphql::{Context, Guard, Result};

use crate::auth::{Identity, Role};
use crate::error::ApiError;

/// Allows callers whose role is at least `min`; `write` additionally requires
/// an API key to carry the `WRITE` scope.
pub struct RoleGuard {
    min: Role,
    write: bool,
}

impl RoleGuard {
    /// For queries and subscriptions.
    pub fn read(min: Role) -> Self {
        Self { min, write: false }
    }

    /// For mutations.
    pub fn write(min: Role) -> Self {
        Self { min, write: true }
    }
}

impl Guard for RoleGuard {
    async fn check(&self, ctx: &Context<'_>) -> Result<()> {
        let Some(id) = ctx.data_opt::<Identity>() else {
            return Err(ApiError::Unauthenticated.into());
        };
        if !id.has_role(self.min) {
            return Err(ApiError::Forbidden(format!("requires the {} role", self.min)).into());
        }
        let scoped = if self.write {
            id.can_write()
        } else {
            id.can_read()
        };
        if !scoped {
            let scope = if self.write { "WRITE" } else { "READ" };
            return Err(ApiError::Forbidden(format!("API key lacks the {scope} scope")).into());
        }
        Ok(())
    }
}
