//! Remembers recent searches so that "More results" and ◀ ▶ buttons can continue them:
//! a button's `custom_id` holds only a session number, never the user's text.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

/// The store of recent sessions.
#[derive(Debug)]
pub struct Sessions {
    next: AtomicU64,
    /// A std mutex: held only for a map lookup or insert, never across `.await`.
    entries: Mutex<HashMap<u64, (Instant, Session)>>,
}

impl Default for Sessions {
    fn default() -> Sessions {
        // Start from the clock so that buttons from before a restart do not find a new session.
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_micros() as u64);
        Sessions {
            next: AtomicU64::new(seed),
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl Sessions {
    /// Stores a session and returns its number.
    pub fn insert(&self, session: Session) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        entries.retain(|_, (created, _)| now.duration_since(*created) < TIME_TO_LIVE);
        if entries.len() >= CAPACITY {
            if let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, (created, _))| *created)
                .map(|(id, _)| *id)
            {
                entries.remove(&oldest);
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

    #[test]
    fn sessions_are_found_by_number() {
        let sessions = Sessions::default();
        let session = Session {
            query: "moon".into(),
            user_id: 5,
            ephemeral: true,
        };
        let id = sessions.insert(session.clone());
        assert_eq!(sessions.get(id), Some(session));
        assert_eq!(sessions.get(id + 1), None);
    }
}
