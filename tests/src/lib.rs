//! Test support for the end-to-end suite: real services started on free loopback
//! ports (one at a time, or the whole stack), a real MCP client driving `plue-mcp serve`
//! over stdio, and the official MCP clients run as processes.
//!
//! Every service helper fails loudly when it cannot start its service: a test that
//! needs PostgreSQL, Prometheus or Loki never passes without one.

pub mod check;
pub mod clients;
pub mod declared;
pub mod image;
pub mod logs_fixture;
pub mod loki;
pub mod mcp;
pub mod mcp_http;
pub mod nginx;
pub mod oidc;
pub mod polyglot;
pub mod ports;
pub mod postgres;
pub mod prometheus;
pub mod proxy;
pub mod roundtrips;
pub mod scraper;
pub mod serve_http;
pub mod stack;
pub mod telemetry;
pub mod web;
