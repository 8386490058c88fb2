//! Temporary: the store's cluster API, until the Postgres work lands (branch `db`).
use std::time::Duration;

use super::{InsightsError, Store};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedSearch {
    pub query: String,
    pub user_id: u64,
    pub ephemeral: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lease {
    Acquired,
    HeldBy { holder: String, since_ms: i64 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    pub id: i64,
    pub by: String,
    pub fingerprint: String,
    pub at_ms: i64,
}

impl Store {
    pub async fn save_search(&self, _search: &SavedSearch) -> Result<i64, InsightsError> {
        Ok(1)
    }
    pub async fn saved_search(
        &self,
        _id: i64,
        _max_age: Duration,
    ) -> Result<Option<SavedSearch>, InsightsError> {
        Ok(None)
    }
    pub async fn try_lease(
        &self,
        _name: &str,
        _holder: &str,
        _ttl: Duration,
    ) -> Result<Lease, InsightsError> {
        Ok(Lease::Acquired)
    }
    pub async fn release_lease(&self, _name: &str, _holder: &str) -> Result<(), InsightsError> {
        Ok(())
    }
    pub async fn announce_reindex(&self, _by: &str, _fp: &str) -> Result<i64, InsightsError> {
        Ok(1)
    }
    pub async fn latest_reindex(&self) -> Result<Option<Announcement>, InsightsError> {
        Ok(None)
    }
    pub fn backend(&self) -> &'static str {
        "sqlite"
    }
}
