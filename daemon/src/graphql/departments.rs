//! Departments and membership.

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, InputObject, Object};

use super::guard::RoleGuard;
use super::pagination::{self, IdCursor};
use super::types::Department;
use super::{Change, commit_change, identity, parse_id, state};
use crate::auth::Role;
use crate::bus::{ChangeAction, DirectoryEntity};
use crate::error::{ApiError, ApiResult};
use crate::{store, validate};

#[derive(Default)]
pub struct DepartmentQuery;

#[Object]
impl DepartmentQuery {
    /// Departments of the tenant; agents see the departments they belong to.
    #[graphql(guard = "RoleGuard::read(Role::Agent)")]
    async fn departments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<IdCursor, Department>> {
        let me = identity(ctx)?;
        let (after, limit) = pagination::args(ctx, first, after)?;
        let only = if me.has_role(Role::Manager) {
            None
        } else {
            Some(me.user_id.unwrap_or(0))
        };
        let page =
            store::departments::list(&state(ctx)?.db, me.tenant_id, only, after, limit).await?;
        Ok(pagination::connection(page, after, |d| d.id, Department))
    }

    /// One department (agents: only their own).
    #[graphql(guard = "RoleGuard::read(Role::Agent)")]
    async fn department(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Department> {
        let me = identity(ctx)?;
        let db = &state(ctx)?.db;
        let id = parse_id(&id, "department")?;
        let dept = store::departments::get(db, me.tenant_id, id).await?;
        if !me.has_role(Role::Manager) {
            let member = match me.user_id {
                Some(uid) => store::departments::is_member(db, id, uid).await?,
                None => false,
            };
            if !member {
                return Err(ApiError::NotFound("department"));
            }
        }
        Ok(Department(dept))
    }
}

/// A department to create.
#[derive(InputObject)]
pub struct CreateDepartmentInput {
    pub name: String,
    #[graphql(default)]
    pub description: String,
}

/// Changes to a department; omitted fields keep their value.
#[derive(InputObject)]
pub struct UpdateDepartmentInput {
    pub name: Option<String>,
    pub description: Option<String>,
}

#[derive(Default)]
pub struct DepartmentMutation;

fn description(d: &str) -> ApiResult<String> {
    if d.trim().is_empty() {
        return Ok(String::new());
    }
    validate::text("description", d, 1000).map_err(ApiError::BadInput)
}

#[Object]
impl DepartmentMutation {
    #[graphql(guard = "RoleGuard::write(Role::Manager)")]
    async fn create_department(
        &self,
        ctx: &Context<'_>,
        input: CreateDepartmentInput,
    ) -> ApiResult<Department> {
        let me = identity(ctx)?;
        let st = state(ctx)?;
        let txn = crate::store::begin_write(&st.db).await?;
        let name = validate::text("name", &input.name, 100).map_err(ApiError::BadInput)?;
        let d = store::departments::create(
            &txn,
            me.tenant_id,
            &name,
            &description(&input.description)?,
        )
        .await?;
        commit_change(
            ctx,
            txn,
            Change {
                action: "department.create",
                entity: DirectoryEntity::Department,
                id: d.id,
                kind: ChangeAction::Created,
                details: serde_json::json!({"name": d.name}),
            },
        )
        .await?;
        Ok(Department(d))
    }

    #[graphql(guard = "RoleGuard::write(Role::Manager)")]
    async fn update_department(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateDepartmentInput,
    ) -> ApiResult<Department> {
        let me = identity(ctx)?;
        let st = state(ctx)?;
        let txn = crate::store::begin_write(&st.db).await?;
        let id = parse_id(&id, "department")?;
        let name = input
            .name
            .map(|n| validate::text("name", &n, 100))
            .transpose()
            .map_err(ApiError::BadInput)?;
        let desc = input.description.map(|d| description(&d)).transpose()?;
        let d = store::departments::update(&txn, me.tenant_id, id, name, desc).await?;
        commit_change(
            ctx,
            txn,
            Change {
                action: "department.update",
                entity: DirectoryEntity::Department,
                id,
                kind: ChangeAction::Updated,
                details: serde_json::json!({}),
            },
        )
        .await?;
        Ok(Department(d))
    }

    /// Deletes a department; returns its id.
    #[graphql(guard = "RoleGuard::write(Role::Manager)")]
    async fn delete_department(&self, ctx: &Context<'_>, id: ID) -> ApiResult<ID> {
        let me = identity(ctx)?;
        let st = state(ctx)?;
        let txn = crate::store::begin_write(&st.db).await?;
        let num = parse_id(&id, "department")?;
        store::departments::delete(&txn, me.tenant_id, num).await?;
        commit_change(
            ctx,
            txn,
            Change {
                action: "department.delete",
                entity: DirectoryEntity::Department,
                id: num,
                kind: ChangeAction::Deleted,
                details: serde_json::json!({}),
            },
        )
        .await?;
        Ok(id)
    }

    /// Adds a user to a department (idempotent).
    #[graphql(guard = "RoleGuard::write(Role::Manager)")]
    async fn add_department_member(
        &self,
        ctx: &Context<'_>,
        department_id: ID,
        user_id: ID,
    ) -> ApiResult<Department> {
        let me = identity(ctx)?;
        let st = state(ctx)?;
        let txn = crate::store::begin_write(&st.db).await?;
        let did = parse_id(&department_id, "department")?;
        let uid = parse_id(&user_id, "user")?;
        let d = store::departments::add_member(&txn, me.tenant_id, did, uid).await?;
        commit_change(
            ctx,
            txn,
            Change {
                action: "department.add_member",
                entity: DirectoryEntity::Department,
                id: did,
                kind: ChangeAction::Updated,
                details: serde_json::json!({"user_id": uid}),
            },
        )
        .await?;
        Ok(Department(d))
    }

    /// Removes a user from a department (idempotent).
    #[graphql(guard = "RoleGuard::write(Role::Manager)")]
    async fn remove_department_member(
        &self,
        ctx: &Context<'_>,
        department_id: ID,
        user_id: ID,
    ) -> ApiResult<Department> {
        let me = identity(ctx)?;
        let st = state(ctx)?;
        let txn = crate::store::begin_write(&st.db).await?;
        let did = parse_id(&department_id, "department")?;
        let uid = parse_id(&user_id, "user")?;
        let d = store::departments::remove_member(&txn, me.tenant_id, did, uid).await?;
        commit_change(
            ctx,
            txn,
            Change {
                action: "department.remove_member",
                entity: DirectoryEntity::Department,
                id: did,
                kind: ChangeAction::Updated,
                details: serde_json::json!({"user_id": uid}),
            },
        )
        .await?;
        Ok(Department(d))
    }
}
