//! DataLoaders: rows that many objects of one response point at, fetched in
//! one query per batch instead of one per object (a queue page of 50
//! conversations loads its contacts with one query, not 50).

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::contacts;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::error::ApiError;

/// Contacts by id.
pub struct ContactLoader(pub DatabaseConnection);

impl Loader<i64> for ContactLoader {
    type Value = contacts::Model;
    type Error = ApiError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, contacts::Model>, ApiError> {
        Ok(contacts::Entity::find()
            .filter(contacts::Column::Id.is_in(keys.iter().copied()))
            .all(&self.0)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect())
    }
}
