//! The actor core: conversation lifecycle rules and the actors that apply them.

pub mod lifecycle;
