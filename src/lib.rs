//! spacecollab answers questions about international collaboration in space with
//! passages from a curated corpus. This library does all the work; the `spacecollab`
//! binary only parses arguments, and the Discord bot ([`discord`]) only translates
//! interactions into calls of the same [`answer::Engine`].

pub mod analyzer;
pub mod answer;
pub mod cluster;
pub mod config;
pub mod corpus;
pub mod discord;
pub mod eval;
pub mod index;
pub mod insights;
pub mod lexicon;
pub mod metrics;
pub mod query;
pub mod reindex;
pub mod scoring;
pub mod terminal;
pub mod text;
pub mod watch;
