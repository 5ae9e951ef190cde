//! Switchboard: a multi-tenant WhatsApp contact-center daemon.
//!
//! Where things live:
//! - `config` — the typed, layered [`config::Settings`];
//! - `app` — building and running the daemon (`Application`);
//! - `http` — routes, request metrics, health/readiness, GraphQL transport;
//! - `graphql` — the schema, one module per area, role guards, limits;
//! - `auth` — roles, passwords, login tokens, API keys, login rate limits;
//! - `session` — bearer credential → identity;
//! - `store` — database access, always scoped by tenant;
//! - `crypto` — secrets at rest (AES-256-GCM with key ids);
//! - `bus` — the event bus behind subscriptions;
//! - `metrics`, `telemetry` — Prometheus metrics and tracing logs;
//! - `ingest` — durable webhook ingest with group commit;
//! - `whatsapp` — webhook, signatures, Cloud API model, client, simulator;
//! - `bench` — load generators;
//! - `validate` — input rules; `error` — the wire error codes.

pub mod actors;
pub mod app;
pub mod auth;
pub mod bench;
pub mod bus;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod error;
pub mod feed;
pub mod graphql;
pub mod http;
pub mod ingest;
pub mod metrics;
pub mod sender;
pub mod session;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod validate;
pub mod whatsapp;
pub mod ws;
