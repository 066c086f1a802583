//! End-to-end tests: `plue-mcp serve` driven over stdio by a real MCP client,
//! against real services started on free loopback ports.

mod audit;
mod auth;
mod boundaries;
mod browser;
mod clients;
mod compat;
mod context;
mod contract;
mod database;
mod escapes;
mod example;
mod faults;
mod host_metrics;
mod hostile;
mod http;
mod limits;
mod loading;
mod logs;
mod operability;
mod playwright;
mod polyglot;
mod prometheus;
mod replicas;
mod sql_roundtrips;
mod stdio;
mod workflows;
