//! Insights: what people asked, whether the corpus answered, and what they thought of
//! the answers, kept in an embedded SQLite database (`insights.sqlite`, next to the
//! index) or in the Postgres server replicas share (`[database] url`), so that admins
//! can see what the corpus fails to answer. The same database holds what replicas must
//! agree on (saved searches, leases, reindex announcements). Never imports Discord
//! types, and never sits on the path of an answer: questions are recorded through a
//! bounded queue ([`Recorder`]) that a single writer task empties, and a failing
//! database only costs records, which are counted and logged.
//!
//! Privacy: the asker is kept only as a salted hash ([`AskerHasher`]), the question
//! text only when `store_question_text` is on, and nothing older than
//! `retention_days`.

mod database;
mod recorder;
mod report;
mod store;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

pub use database::{Database, DatabaseUrlError};
pub use recorder::{Losses, Recorder, Writer};
pub use report::{passage, DislikedAnswer, Report, UnansweredGroup};
pub use store::{
    Announcement, Counts, Lease, SavedSearch, Store, Vote, SCHEMA_VERSION, SEARCH_LIFETIME,
};

use crate::analyzer::analyze;
use crate::answer::Answer;
use crate::lexicon::{zipf, EVERYDAY_ZIPF};

/// The `[insights]` section of the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InsightsConfig {
    /// Whether questions and feedback are recorded at all.
    pub enabled: bool,
    /// Records older than this many days are deleted (at start and then daily).
    pub retention_days: u32,
    /// Whether the question's text is kept; without it only its terms key is.
    pub store_question_text: bool,
    /// Whether `spacecollab ask` records its questions without `--record`.
    pub record_command_line: bool,
}

impl Default for InsightsConfig {
    fn default() -> InsightsConfig {
        InsightsConfig {
            enabled: true,
            retention_days: 90,
            store_question_text: true,
            record_command_line: false,
        }
    }
}

/// The database file in the data folder: next to the index folder.
pub fn database_path(index_path: &Path) -> PathBuf {
    index_path
        .parent()
        .unwrap_or(Path::new(""))
        .join("insights.sqlite")
}

/// Why the insights database cannot be used; each names the file, or the server
/// (without its password).
#[derive(Debug, thiserror::Error)]
pub enum InsightsError {
    /// The SQLite file cannot be opened or created, or the Postgres server reached.
    #[error("cannot open the insights database {path}: {source} (set `enabled = false` under [insights] to run without it)")]
    Open {
        path: String,
        #[source]
        source: sqlx::Error,
    },
    /// A later version of spacecollab changed the schema; this one would misread it.
    #[error("the insights database {path} was written by a newer version of spacecollab (schema version {found}; this version knows up to {known}); upgrade spacecollab, or move the file away to start a new one")]
    Newer {
        path: String,
        found: i64,
        known: i64,
    },
    /// The embedded migrations failed.
    #[error("cannot update the insights database {path} to this version's schema: {source}")]
    Migrate {
        path: String,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// The salt file beside the database cannot be read or written, or the shared salt
    /// in Postgres is not one.
    #[error("cannot use the salt file {path}: {source}")]
    Salt {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A query failed.
    #[error("the insights database {path} failed: {source}")]
    Query {
        path: String,
        #[source]
        source: sqlx::Error,
    },
}

/// Unix time in milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Bits of an answer id below its time.
const ANSWER_ID_COUNTER_BITS: u32 = 16;

/// A new answer id: the time in milliseconds, then a 16-bit counter started at a random
/// value, so that ids order by time (a window of time is a range of ids), a button can
/// tell an answer's age without the database, and two processes rarely collide.
pub fn new_answer_id() -> i64 {
    static COUNTER: AtomicU64 = AtomicU64::new(u64::MAX);
    let _ = COUNTER.compare_exchange(
        u64::MAX,
        random_u64() & 0xFFFF,
        Ordering::Relaxed,
        Ordering::Relaxed,
    );
    let count = COUNTER.fetch_add(1, Ordering::Relaxed) & 0xFFFF;
    (now_ms() << ANSWER_ID_COUNTER_BITS) | count as i64
}

/// The time (Unix milliseconds) an answer id was made at.
pub fn answer_time_ms(answer_id: i64) -> i64 {
    answer_id >> ANSWER_ID_COUNTER_BITS
}

/// The smallest answer id made at or after `ms`.
pub fn first_answer_id_at(ms: i64) -> i64 {
    ms.max(0) << ANSWER_ID_COUNTER_BITS
}

/// The start (Unix ms) of a window of `days` ending now.
pub fn days_ago_ms(days: u32) -> i64 {
    now_ms() - i64::from(days) * 86_400_000
}

/// Whether an answer is older than the retention period, so its feedback is not kept.
pub fn is_expired(answer_id: i64, retention_days: u32) -> bool {
    answer_time_ms(answer_id) < days_ago_ms(retention_days)
}

/// The key that groups rephrasings of one question: its distinct analysed terms,
/// sorted, leaving out words of everyday English ("who", "built", "module"), so that
/// "who built kibo" and "Who built the Kibo module?" share "kibo". A question made only
/// of everyday words keeps its less common ones ("bake bread" for "How do I bake
/// bread?"), and one made only of the commonest words keeps them all.
pub fn terms_key(question: &str) -> String {
    let words: Vec<&str> = question
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect();
    // Zipf frequencies: below 3 is not everyday English; 5 and above are the function
    // words and verbs of almost every sentence ("how", "do", "built").
    for limit in [EVERYDAY_ZIPF, 5.0, f32::INFINITY] {
        let mut terms: Vec<String> = words
            .iter()
            .filter(|word| zipf(word).is_none_or(|z| z < limit))
            .flat_map(|word| analyze(word))
            .collect();
        if !terms.is_empty() {
            terms.sort();
            terms.dedup();
            return terms.join(" ");
        }
    }
    String::new()
}

/// One passage shown for a question.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedHit {
    pub doc_id: String,
    pub section: String,
    pub score: f32,
}

/// What is recorded of one question asked.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionRecord {
    /// The answer id (see [`new_answer_id`]); votes refer to it.
    pub id: i64,
    /// Unix milliseconds.
    pub asked_at: i64,
    /// "ask" for Discord's `/ask`, "cli" for `spacecollab ask`.
    pub command: String,
    pub guild_id: Option<u64>,
    pub channel_id: Option<u64>,
    /// The asker's salted hash; `None` on the command line.
    pub asker: Option<String>,
    /// `None` when `store_question_text` is off.
    pub question: Option<String>,
    pub terms_key: String,
    pub answered: bool,
    /// The top passages, best first.
    pub hits: Vec<RecordedHit>,
    /// "Did you mean …": the respelled question.
    pub suggestion: Option<String>,
    /// Time the engine took to answer, in microseconds.
    pub latency_us: u64,
}

/// Where a question came from, besides its answer.
#[derive(Debug, Clone, Default)]
pub struct Asked {
    pub command: &'static str,
    pub guild_id: Option<u64>,
    pub channel_id: Option<u64>,
    pub asker: Option<String>,
    pub latency: Duration,
}

impl QuestionRecord {
    /// The record of `answer`, made under answer id `id`.
    pub fn new(id: i64, answer: &Answer, asked: Asked, settings: &InsightsConfig) -> Self {
        QuestionRecord {
            id,
            asked_at: answer_time_ms(id),
            command: asked.command.to_string(),
            guild_id: asked.guild_id,
            channel_id: asked.channel_id,
            asker: asked.asker,
            question: settings
                .store_question_text
                .then(|| answer.question.clone()),
            terms_key: terms_key(&answer.question),
            answered: answer.answered && answer.unnamed_subject.is_none(),
            hits: answer
                .passages
                .iter()
                .map(|hit| RecordedHit {
                    doc_id: hit.doc_id.clone(),
                    section: hit.section.clone(),
                    score: hit.score,
                })
                .collect(),
            // The respelled question is the question's text too.
            suggestion: answer
                .suggestion
                .clone()
                .filter(|_| settings.store_question_text),
            latency_us: u64::try_from(asked.latency.as_micros()).unwrap_or(u64::MAX),
        }
    }
}

/// Turns user ids into salted hashes, so that the database can tell one asker from
/// another (for `/forget-me` and one vote per person) without holding who they are.
/// The salt is made once and kept in a file beside the database, readable only by its
/// owner: without it, a hash cannot be matched to a user id by trying them all.
#[derive(Clone)]
pub struct AskerHasher {
    salt: [u8; 32],
}

impl std::fmt::Debug for AskerHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AskerHasher(<salt>)")
    }
}

impl AskerHasher {
    /// Reads the salt from `path`, or makes one and writes it there (mode 0600).
    ///
    /// # Errors
    /// When the file cannot be read or written, or holds no 32-byte hex salt.
    pub fn load_or_create(path: &Path) -> Result<AskerHasher, InsightsError> {
        let salt_error = |source| InsightsError::Salt {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let salt = parse_hex(text.trim()).ok_or_else(|| {
                    salt_error(std::io::Error::other(
                        "it does not hold a 64-digit hex salt; delete it to make a new one (past askers then cannot be forgotten by /forget-me)",
                    ))
                })?;
                Ok(AskerHasher { salt })
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let salt = new_salt();
                write_private(path, &hex(&salt)).map_err(salt_error)?;
                Ok(AskerHasher { salt })
            }
            Err(error) => Err(salt_error(error)),
        }
    }

    /// The salt every replica sharing `store` uses, kept in the database: made by the
    /// first to ask, so that all hash a user alike (one vote per person, `/forget-me`
    /// on any replica).
    ///
    /// # Errors
    /// When the database refuses, or holds no 32-byte hex salt.
    pub async fn shared(store: &Store) -> Result<AskerHasher, InsightsError> {
        let kept = store
            .setting_or_insert("asker_salt", &hex(&new_salt()))
            .await?;
        let salt = parse_hex(kept.trim()).ok_or_else(|| InsightsError::Salt {
            path: format!("{} (settings.asker_salt)", store.path()),
            source: std::io::Error::other("it does not hold a 64-digit hex salt"),
        })?;
        Ok(AskerHasher { salt })
    }

    /// The hash that stands for a user: SHA-256 of the salt and the id, in hex.
    pub fn hash(&self, user_id: u64) -> String {
        let mut digest = Sha256::new();
        digest.update(self.salt);
        digest.update(b"discord-user:");
        digest.update(user_id.to_string().as_bytes());
        hex(&digest.finalize())
    }
}

/// The salt file beside a database file.
pub fn salt_path(database: &Path) -> PathBuf {
    database.with_file_name("insights.salt")
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A fresh 32-byte salt.
fn new_salt() -> [u8; 32] {
    let mut salt = [0u8; 32];
    for chunk in salt.chunks_mut(8) {
        chunk.copy_from_slice(&random_u64().to_le_bytes());
    }
    salt
}

fn parse_hex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// 64 random bits from the operating system (`/dev/urandom`), or, where it cannot be
/// read, from std's per-process random hash keys mixed with the time.
fn random_u64() -> u64 {
    use std::hash::BuildHasher;
    use std::io::Read;
    let mut bytes = [0u8; 8];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_ok()
    {
        return u64::from_le_bytes(bytes);
    }
    std::collections::hash_map::RandomState::new().hash_one(now_ms())
}

/// Everything the bot needs to record questions and votes: the database, the queue to
/// its writer, the hasher for askers, and the settings.
#[derive(Debug, Clone)]
pub struct Insights {
    pub store: Store,
    pub recorder: Recorder,
    pub hasher: AskerHasher,
    pub settings: InsightsConfig,
}

/// Records waiting for the writer; past this, new ones are dropped and counted.
pub const QUEUE_CAPACITY: usize = 4_096;

impl Insights {
    /// Connects to (or creates) the database and reads its salt, deletes what is older
    /// than the retention period, and starts the writer task (and a daily clean-up)
    /// on the current tokio runtime.
    ///
    /// # Errors
    /// See [`Store::connect`] and [`AskerHasher::load_or_create`].
    pub async fn start(
        database: &Database,
        settings: InsightsConfig,
    ) -> Result<(Insights, Writer), InsightsError> {
        let store = Store::connect(database).await?;
        let hasher = match database {
            Database::Sqlite(path) => AskerHasher::load_or_create(&salt_path(path))?,
            Database::Postgres(_) => AskerHasher::shared(&store).await?,
        };
        store.delete_expired(settings.retention_days).await?;
        let (recorder, writer) = Recorder::start(store.clone(), QUEUE_CAPACITY);
        let daily = store.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(Duration::from_secs(24 * 60 * 60));
            ticker.tick().await;
            loop {
                ticker.tick().await;
                if let Err(error) = daily.delete_expired(settings.retention_days).await {
                    tracing::warn!(%error, "could not delete expired insights");
                }
            }
        });
        Ok((
            Insights {
                store,
                recorder,
                hasher,
                settings,
            },
            writer,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rephrasings_share_a_terms_key() {
        assert_eq!(terms_key("who built kibo"), "kibo");
        assert_eq!(terms_key("Who built the Kibo module?"), "kibo");
        assert_eq!(terms_key("How do I bake bread?"), "bake bread");
        assert_eq!(terms_key("how to bake bread"), "bake bread");
        assert_eq!(terms_key("what is it"), "what");
        assert_ne!(
            terms_key("Who built Columbus?"),
            terms_key("who built kibo")
        );
        assert_eq!(terms_key(""), "");
    }

    #[test]
    fn question_text_is_kept_only_when_allowed() {
        let answer = Answer {
            question: "Who built the Kibo module?".into(),
            answered: true,
            passages: Vec::new(),
            best_sentence: None,
            suggestion: Some("Who built the Kibo module?".into()),
            unnamed_subject: None,
        };
        let asked = || Asked {
            command: "ask",
            asker: Some("hash".into()),
            ..Asked::default()
        };
        let kept = QuestionRecord::new(7, &answer, asked(), &InsightsConfig::default());
        assert_eq!(kept.question.as_deref(), Some("Who built the Kibo module?"));
        let settings = InsightsConfig {
            store_question_text: false,
            ..InsightsConfig::default()
        };
        let dropped = QuestionRecord::new(7, &answer, asked(), &settings);
        assert_eq!((dropped.question, dropped.suggestion), (None, None));
        assert_eq!(dropped.terms_key, "kibo", "the grouping key stays");
    }

    #[test]
    fn answer_ids_order_by_time_and_carry_it() {
        let before = now_ms();
        let a = new_answer_id();
        let b = new_answer_id();
        assert_ne!(a, b);
        assert!(answer_time_ms(a) >= before && answer_time_ms(a) <= now_ms());
        assert!(!is_expired(a, 1));
        assert!(is_expired(first_answer_id_at(before - 2 * 86_400_000), 1));
        assert!(first_answer_id_at(before) <= a);
    }

    #[test]
    fn the_salt_is_made_once_private_and_used() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("insights.salt");
        let first = AskerHasher::load_or_create(&path).unwrap();
        let again = AskerHasher::load_or_create(&path).unwrap();
        assert_eq!(first.hash(42), again.hash(42));
        assert_ne!(first.hash(42), first.hash(43));
        let hash = first.hash(42);
        assert!(
            hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
            "{hash}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let other =
            AskerHasher::load_or_create(&dir.path().join("b").join("insights.salt")).unwrap();
        assert_ne!(
            first.hash(42),
            other.hash(42),
            "each salt gives other hashes"
        );
        std::fs::write(&path, "not hex").unwrap();
        let error = AskerHasher::load_or_create(&path).unwrap_err();
        assert!(error.to_string().contains("insights.salt"), "{error}");
    }
}
