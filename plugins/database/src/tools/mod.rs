//! The tools, one module each: its arguments, answer, handler and definition.

pub mod activity;
pub mod connections;
pub mod describe;
pub mod explain;
pub mod query;
pub mod repos;
pub mod sessions;
pub mod stats;
pub mod tables;
pub mod users;
