//! End-to-end tests: each starts the real daemon on port 0 (its own SQLite
//! file or PostgreSQL database) and talks to it over HTTP and WebSocket.
//! Storage-touching tests run on both backends (`backends!`).

mod helpers;

mod auth;
mod directory;
mod lifecycle;
mod limits;
mod ops;
mod queues;
mod retention;
mod sending;
mod subscriptions;
mod tenancy;
mod webhook;
