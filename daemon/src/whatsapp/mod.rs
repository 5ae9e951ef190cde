//! The WhatsApp Cloud API edge: webhook signatures and parsing, the Cloud API
//! client, and the simulator that stands in for Meta in tests and benchmarks.

pub mod client;
pub mod directory;
pub mod errors;
pub mod media_store;
pub mod model;
pub mod signature;
pub mod simulator;
pub mod webhook;
pub mod window;
