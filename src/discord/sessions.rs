//! Remembers recent searches so that "More results" and ◀ ▶ buttons can continue them:
//! a button's `custom_id` holds only a session number, never the user's text. Kept in
//! the database replicas share when there is one (see `Bot::with_database`), so that a
//! press works on whichever replica receives it and after a restart; in memory
//! otherwise.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::insights::{InsightsError, SavedSearch, Store};

/// Sessions older than this are forgotten; their buttons then say the search expired.
const TIME_TO_LIVE: Duration = Duration::from_secs(60 * 60);
/// At most this many sessions are kept; the oldest go first.
const CAPACITY: usize = 10_000;

/// One search the bot showed.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub query: String,
    /// The user who searched: only they may turn its pages.
    pub user_id: u64,
    pub ephemeral: bool,
}

/// Where sessions are kept: the shared database when there is one, this process's
/// memory otherwise, and also when the database cannot be written (a search then continues on
/// this replica only, rather than failing).
#[derive(Debug, Default)]
pub struct Sessions {
    memory: Memory,
    /// The database every replica shares.
    database: Option<Store>,
}

impl Sessions {
    /// Sessions kept in `store`.
    pub fn in_database(store: Store) -> Sessions {
        Sessions {
            memory: Memory::default(),
            database: Some(store),
        }
    }

    /// Stores a session and returns its number.
    pub async fn insert(&self, session: Session) -> u64 {
        let Some(store) = &self.database else {
            return self.memory.insert(session);
        };
        let saved = SavedSearch {
            query: session.query.clone(),
            user_id: session.user_id,
            ephemeral: session.ephemeral,
        };
        match store.save_search(&saved).await {
            Ok(id) => id as u64,
            Err(error) => {
                tracing::warn!(%error, "cannot save a search in the database; it continues on this replica only");
                self.memory.insert(session)
            }
        }
    }

    /// The session with this number, if it is still remembered. Memory numbers start
    /// from the clock in microseconds, far above any the database gives, so the two
    /// never name different searches.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub async fn get(&self, id: u64) -> Result<Option<Session>, InsightsError> {
        if let Some(session) = self.memory.get(id) {
            return Ok(Some(session));
        }
        let (Some(store), Ok(id)) = (&self.database, i64::try_from(id)) else {
            return Ok(None);
        };
        let saved = store.saved_search(id, TIME_TO_LIVE).await?;
        Ok(saved.map(|saved| Session {
            query: saved.query,
            user_id: saved.user_id,
            ephemeral: saved.ephemeral,
        }))
    }
}

/// Sessions in this process's memory.
#[derive(Debug)]
pub struct Memory {
    next: AtomicU64,
    /// Keyed by session number, which grows with time, so the first entry is the oldest.
    /// A std mutex: held only for a map lookup or insert, never across `.await`.
    entries: Mutex<BTreeMap<u64, (Instant, Session)>>,
}

impl Default for Memory {
    fn default() -> Memory {
        // Start from the clock so that buttons from before a restart do not find a new session.
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_micros() as u64);
        Memory {
            next: AtomicU64::new(seed),
            entries: Mutex::new(BTreeMap::new()),
        }
    }
}

impl Memory {
    /// Stores a session and returns its number.
    pub fn insert(&self, session: Session) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        // Only the oldest entries can have expired or be over capacity: each insert
        // looks at as few entries as it removes, plus one (it used to scan them all).
        loop {
            let full = entries.len() >= CAPACITY;
            match entries.first_entry() {
                Some(oldest) if full || now.duration_since(oldest.get().0) >= TIME_TO_LIVE => {
                    oldest.remove();
                }
                _ => break,
            }
        }
        entries.insert(id, (now, session));
        id
    }

    /// The session with this number, if it is still remembered.
    pub fn get(&self, id: u64) -> Option<Session> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(&id)
            .filter(|(created, _)| created.elapsed() < TIME_TO_LIVE)
            .map(|(_, session)| session.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn searches_go_to_the_database_and_to_memory_when_it_fails() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("insights.sqlite"))
            .await
            .unwrap();
        let sessions = Sessions::in_database(store.clone());
        let session = Session {
            query: "moon".into(),
            user_id: 5,
            ephemeral: false,
        };
        let saved = sessions.insert(session.clone()).await;
        assert!(saved < 1 << 40, "a database id: {saved}");
        // Another replica (another `Sessions` on the same database) finds it.
        let elsewhere = Sessions::in_database(store.clone());
        assert_eq!(elsewhere.get(saved).await.unwrap(), Some(session.clone()));
        store.close().await;
        let kept = sessions.insert(session.clone()).await;
        assert!(kept > 1 << 40, "a memory id: {kept}");
        assert_eq!(sessions.get(kept).await.unwrap(), Some(session));
    }

    #[test]
    fn sessions_are_found_by_number() {
        let sessions = Memory::default();
        let session = Session {
            query: "moon".into(),
            user_id: 5,
            ephemeral: true,
        };
        let id = sessions.insert(session.clone());
        assert_eq!(sessions.get(id), Some(session));
        assert_eq!(sessions.get(id + 1), None);
    }

    #[test]
    fn the_oldest_sessions_go_first_when_full() {
        let sessions = Memory::default();
        let session = |n: usize| Session {
            query: format!("query {n}"),
            user_id: 5,
            ephemeral: false,
        };
        let ids: Vec<u64> = (0..CAPACITY + 2)
            .map(|n| sessions.insert(session(n)))
            .collect();
        assert_eq!(sessions.get(ids[0]), None);
        assert_eq!(sessions.get(ids[1]), None);
        assert_eq!(sessions.get(ids[2]), Some(session(2)));
        assert_eq!(sessions.get(ids[CAPACITY + 1]), Some(session(CAPACITY + 1)));
        assert_eq!(sessions.entries.lock().unwrap().len(), CAPACITY);
    }
}
