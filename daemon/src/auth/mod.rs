//! Who is calling: roles, identities, passwords, login tokens, API keys and
//! login rate limits. Pure logic; storage lookups live in `store`.

pub mod api_key;
pub mod limiter;
pub mod password;
pub mod token;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Roles, ordered by privilege: admin > manager > agent.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    async_graphql::Enum,
)]
#[serde(rename_all = "lowercase")]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    /// Answers conversations in their departments.
    Agent,
    /// Manages departments, queues and agents.
    Manager,
    /// Manages the tenant: users, numbers, keys, settings.
    Admin,
}

impl Role {
    /// The stored form (`admin`, `manager`, `agent`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored role string was not one of the three roles.
#[derive(Debug, thiserror::Error)]
#[error("unknown role `{0}`")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "agent" => Ok(Role::Agent),
            "manager" => Ok(Role::Manager),
            "admin" => Ok(Role::Admin),
            other => Err(UnknownRole(other.to_string())),
        }
    }
}

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A login token of a user.
    User,
    /// An API key with its scopes.
    ApiKey { key_id: i64, scopes: Vec<Scope> },
}

/// What an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, async_graphql::Enum)]
#[serde(rename_all = "lowercase")]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum Scope {
    /// Queries and subscriptions.
    Read,
    /// Mutations.
    Write,
}

/// An authenticated caller, always bound to one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub tenant_id: i64,
    /// The user, or for an API key the user who created it (if still present).
    pub user_id: Option<i64>,
    pub role: Role,
    pub credential: Credential,
    /// Departments the user belongs to (read for agents, whose view is
    /// limited to them and to their own conversations; empty otherwise).
    pub departments: Vec<i64>,
}

impl Identity {
    /// Whether the caller's role is at least `min`.
    pub fn has_role(&self, min: Role) -> bool {
        self.role >= min
    }

    /// Whether the caller may run mutations (users always; API keys need `write`).
    pub fn can_write(&self) -> bool {
        match &self.credential {
            Credential::User => true,
            Credential::ApiKey { scopes, .. } => scopes.contains(&Scope::Write),
        }
    }

    /// Whether the caller may read (users always; API keys need `read`).
    pub fn can_read(&self) -> bool {
        match &self.credential {
            Credential::User => true,
            Credential::ApiKey { scopes, .. } => scopes.contains(&Scope::Read),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_round_trip() {
        assert!(Role::Admin > Role::Manager && Role::Manager > Role::Agent);
        for r in [Role::Admin, Role::Manager, Role::Agent] {
            assert_eq!(r.as_str().parse::<Role>().expect("parse"), r);
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn api_key_scopes_gate_reads_and_writes() {
        let id = |scopes| Identity {
            tenant_id: 1,
            user_id: None,
            role: Role::Admin,
            credential: Credential::ApiKey { key_id: 1, scopes },
            departments: Vec::new(),
        };
        assert!(id(vec![Scope::Read]).can_read());
        assert!(!id(vec![Scope::Read]).can_write());
        assert!(id(vec![Scope::Write]).can_write());
        assert!(!id(vec![Scope::Write]).can_read());
        assert!(!id(vec![]).can_read());
    }
}
