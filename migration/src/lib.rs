//! Database migrations of Switchboard.
//!
//! The same migrations run on SQLite and PostgreSQL. Layout:
//!
//! * one module per schema change, named `mYYYYMMDD_HHMMSS_verb_table`,
//!   listed in [`Migrator::migrations`] in the order they must run; each has
//!   an `up` and a `down` (`down` drops tables in reverse dependency order);
//! * identifiers are `DeriveIden` enums declared next to the migration that
//!   creates the table; later migrations import the enums they reference;
//! * `util` holds small statement builders (primary key column, named
//!   foreign keys and indexes) shared by the migrations.
//!
//! Conventions: every table has a `bigint` auto-increment `id` primary key
//! (`integer PRIMARY KEY AUTOINCREMENT` on SQLite), except per-tenant
//! singletons keyed by `tenant_id` (`event_sequences`); every tenant-owned table
//! has `tenant_id` referencing `tenants(id)` with `ON DELETE CASCADE` and an
//! index starting with `tenant_id` (on PostgreSQL, `messages` and `event_log`
//! reach their tenant through their conversation or writer instead: see
//! `m20261202_000009_lean_ingest_writes`). Foreign keys are declared inside
//! `CREATE TABLE` (SQLite cannot add them later) and named
//! `fk_<table>_<column>`; indexes are named `idx_<table>_<cols>`, unique ones
//! `uq_<table>_<cols>`.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_create_tenants_and_auth;
mod m20261123_000002_create_whatsapp_and_contacts;
mod m20261123_000003_create_conversations_and_messages;
mod m20261123_000004_create_engagement;
mod m20261123_000005_create_privacy_and_events;
mod m20261123_000006_create_media_files;
mod m20261123_000007_create_lifecycle;
mod m20261202_000008_create_retention_mark;
mod m20261202_000009_lean_ingest_writes;
mod util;

/// Runs the Switchboard migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_tenants_and_auth::Migration),
            Box::new(m20261123_000002_create_whatsapp_and_contacts::Migration),
            Box::new(m20261123_000003_create_conversations_and_messages::Migration),
            Box::new(m20261123_000004_create_engagement::Migration),
            Box::new(m20261123_000005_create_privacy_and_events::Migration),
            Box::new(m20261123_000006_create_media_files::Migration),
            Box::new(m20261123_000007_create_lifecycle::Migration),
            Box::new(m20261202_000008_create_retention_mark::Migration),
            Box::new(m20261202_000009_lean_ingest_writes::Migration),
        ]
    }
}
