//! The integration tests, in one binary as ripgrep has them: a module per area, and one
//! `support` module (fixtures, the fake Discord, a running bot) that the benches share.
//! One binary links the library once and runs every test in one process.

mod cli;
mod cluster;
mod database;
mod discord;
mod engine;
mod eval;
mod formats;
mod insights;
mod queries;
mod reindex;
// `pub`, so that helpers only some areas (or only the benches) use are not dead code.
pub mod support;
