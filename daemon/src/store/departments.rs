//! Departments and their members.

use entity::{department_members, departments, users};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder,
    QuerySelect, RelationTrait, Set,
};

use super::{Page, StoreError, now};

/// Creates a department; names are unique within a tenant.
pub async fn create(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    name: &str,
    description: &str,
) -> Result<departments::Model, StoreError> {
    let t = now();
    departments::ActiveModel {
        tenant_id: Set(tenant_id),
        name: Set(name.trim().to_string()),
        description: Set(description.trim().to_string()),
        created_at: Set(t),
        updated_at: Set(t),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| {
        StoreError::on_unique(
            e,
            format!("a department named `{}` already exists", name.trim()),
        )
    })
}

/// Loads a department of the tenant.
pub async fn get(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    id: i64,
) -> Result<departments::Model, StoreError> {
    departments::Entity::find_by_id(id)
        .filter(departments::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("department"))
}

/// Renames or re-describes a department.
pub async fn update(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    id: i64,
    name: Option<String>,
    description: Option<String>,
) -> Result<departments::Model, StoreError> {
    let mut am: departments::ActiveModel = get(db, tenant_id, id).await?.into();
    if let Some(n) = name {
        am.name = Set(n.trim().to_string());
    }
    if let Some(d) = description {
        am.description = Set(d.trim().to_string());
    }
    am.updated_at = Set(now());
    am.update(db)
        .await
        .map_err(|e| StoreError::on_unique(e, "another department already has that name"))
}

/// Deletes a department (its memberships go with it).
pub async fn delete(db: &impl ConnectionTrait, tenant_id: i64, id: i64) -> Result<(), StoreError> {
    let res = departments::Entity::delete_many()
        .filter(departments::Column::Id.eq(id))
        .filter(departments::Column::TenantId.eq(tenant_id))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(StoreError::NotFound("department"));
    }
    Ok(())
}

/// Lists departments by id; with `member` only those the user belongs to.
pub async fn list(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    member: Option<i64>,
    after: Option<i64>,
    limit: u64,
) -> Result<Page<departments::Model>, StoreError> {
    let mut q = departments::Entity::find().filter(departments::Column::TenantId.eq(tenant_id));
    if let Some(user_id) = member {
        q = q
            .join(
                JoinType::InnerJoin,
                departments::Relation::DepartmentMembers.def(),
            )
            .filter(department_members::Column::UserId.eq(user_id));
    }
    if let Some(a) = after {
        q = q.filter(departments::Column::Id.gt(a));
    }
    let rows = q
        .order_by_asc(departments::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    Ok(Page::from_overfetch(rows, limit))
}

/// The departments a user of the tenant belongs to.
pub async fn of_user(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    user_id: i64,
) -> Result<Vec<i64>, StoreError> {
    Ok(department_members::Entity::find()
        .select_only()
        .column(department_members::Column::DepartmentId)
        .filter(department_members::Column::TenantId.eq(tenant_id))
        .filter(department_members::Column::UserId.eq(user_id))
        .into_tuple::<i64>()
        .all(db)
        .await?)
}

/// Whether the user is a member of the department.
pub async fn is_member(
    db: &impl ConnectionTrait,
    department_id: i64,
    user_id: i64,
) -> Result<bool, StoreError> {
    Ok(department_members::Entity::find()
        .filter(department_members::Column::DepartmentId.eq(department_id))
        .filter(department_members::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .is_some())
}

/// Adds a user to a department; both must belong to the tenant. Idempotent.
pub async fn add_member(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    department_id: i64,
    user_id: i64,
) -> Result<departments::Model, StoreError> {
    let dept = get(db, tenant_id, department_id).await?;
    super::users::get(db, tenant_id, user_id).await?;
    if is_member(db, department_id, user_id).await? {
        return Ok(dept);
    }
    let inserted = department_members::ActiveModel {
        tenant_id: Set(tenant_id),
        department_id: Set(department_id),
        user_id: Set(user_id),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(db)
    .await;
    match inserted.map_err(|e| StoreError::on_unique(e, "already a member")) {
        Ok(_) | Err(StoreError::Conflict(_)) => Ok(dept),
        Err(e) => Err(e),
    }
}

/// Removes a user from a department. Idempotent.
pub async fn remove_member(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    department_id: i64,
    user_id: i64,
) -> Result<departments::Model, StoreError> {
    let dept = get(db, tenant_id, department_id).await?;
    department_members::Entity::delete_many()
        .filter(department_members::Column::TenantId.eq(tenant_id))
        .filter(department_members::Column::DepartmentId.eq(department_id))
        .filter(department_members::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(dept)
}

/// Members of a department, by user id.
pub async fn members(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    department_id: i64,
    after: Option<i64>,
    limit: u64,
) -> Result<Page<users::Model>, StoreError> {
    let mut q = users::Entity::find()
        .join(
            JoinType::InnerJoin,
            users::Relation::DepartmentMembers.def(),
        )
        .filter(department_members::Column::DepartmentId.eq(department_id))
        .filter(users::Column::TenantId.eq(tenant_id));
    if let Some(a) = after {
        q = q.filter(users::Column::Id.gt(a));
    }
    let rows = q
        .order_by_asc(users::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    Ok(Page::from_overfetch(rows, limit))
}
