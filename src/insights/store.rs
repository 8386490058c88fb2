//! The insights database, and what replicas share through it: one code path, through
//! sqlx's Any driver, for an embedded SQLite file (the default; in WAL mode, so readers
//! never wait for the writer and a killed process loses at most the transaction it was
//! in) and a Postgres server that several replicas share. The schema of each is in
//! `migrations/<backend>/`, embedded in the binary and applied at connect. All SQL
//! lives here, written once for both: `$N` placeholders, `ON CONFLICT`, `RETURNING`,
//! integers and floats cast where Postgres would return NUMERIC, and only the types
//! the Any driver decodes (i64, f64, String).

use std::borrow::Cow;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AnyPool, ConnectOptions, Executor, Row};

use super::report::{DislikedAnswer, Report, UnansweredGroup};
use super::{
    days_ago_ms, first_answer_id_at, now_ms, Database, InsightsError, QuestionRecord, RecordedHit,
};
use crate::index::DocumentInfo;

/// One migration: (version, description, SQLite SQL, Postgres SQL).
type Step = (i64, &'static str, &'static str, &'static str);

/// The migrations, in order, for each backend. A new schema is a new file in both
/// `migrations/sqlite/` and `migrations/postgres/` and a new line here; a file once
/// released is never edited (sqlx checks each applied migration's checksum).
const MIGRATIONS: &[Step] = &[
    (
        1,
        "insights",
        include_str!("../../migrations/sqlite/0001_insights.sql"),
        include_str!("../../migrations/postgres/0001_insights.sql"),
    ),
    (
        2,
        "cluster",
        include_str!("../../migrations/sqlite/0002_cluster.sql"),
        include_str!("../../migrations/postgres/0002_cluster.sql"),
    ),
];

/// The schema version this binary writes: its last migration.
pub const SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].0;

/// How long a saved search can be paged.
pub const SEARCH_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// Expired searches are deleted by the save of every search whose id is a multiple of
/// this (and by [`Store::delete_expired`]), so that the table stays an hour's worth.
const PRUNE_SEARCHES_EVERY: i64 = 256;

/// Announcements kept: the latest is the one that counts; a few more help a reader of
/// the table.
const ANNOUNCEMENTS_KEPT: i64 = 100;

/// The database behind the Any driver: the SQL is the same, the schema files and the
/// catalogue differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// The embedded migrations of one backend as sqlx reads them (what `sqlx::migrate!`
/// would build, without sqlx's procedural macros, which cost a second build of sqlx at
/// compile time).
#[derive(Debug)]
struct Embedded(Backend);

impl MigrationSource<'static> for Embedded {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 'static>> {
        Box::pin(async move {
            Ok(MIGRATIONS
                .iter()
                .map(|&(version, description, sqlite, postgres)| {
                    let sql = match self.0 {
                        Backend::Sqlite => sqlite,
                        Backend::Postgres => postgres,
                    };
                    Migration::new(
                        version,
                        Cow::Borrowed(description),
                        MigrationType::Simple,
                        Cow::Borrowed(sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// A vote on an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vote {
    Up,
    Down,
}

impl Vote {
    fn value(self) -> i64 {
        match self {
            Vote::Up => 1,
            Vote::Down => -1,
        }
    }
}

/// The votes on one answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub up: u64,
    pub down: u64,
}

/// A search saved for its paging buttons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedSearch {
    pub query: String,
    /// Who searched: only they may page it.
    pub user_id: u64,
    pub ephemeral: bool,
}

/// The answer to [`Store::try_lease`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lease {
    /// The caller holds the lease until its time to live runs out (or it releases it).
    Acquired,
    /// Someone else does, since `since_ms` (Unix milliseconds).
    HeldBy { holder: String, since_ms: i64 },
}

/// A reindex that finished somewhere in the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// Made by the database; a later announcement has a larger id.
    pub id: i64,
    /// The replica that reindexed.
    pub by: String,
    /// What identifies the index it built, for the others to tell whether they have it.
    pub fingerprint: String,
    /// Unix milliseconds.
    pub at_ms: i64,
}

/// The database. Cheap to clone (a pool handle). Questions are written by the one
/// writer task ([`super::Recorder`]); votes and deletions by the handlers that need
/// them. SQLite serialises writers (with a 5-second busy timeout) while WAL lets reads
/// go on; Postgres takes them side by side, row locks ordering those on one row.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// The database for messages: a file, or a URL without its password.
    name: String,
}

impl Store {
    /// Opens the SQLite database at `path`: [`Store::connect`] to
    /// [`Database::Sqlite`].
    ///
    /// # Errors
    /// As [`Store::connect`].
    pub async fn open(path: &Path) -> Result<Store, InsightsError> {
        Store::connect(&Database::Sqlite(path.to_path_buf())).await
    }

    /// Connects to `database`, creating an SQLite file (and its folder) when missing,
    /// and brings its schema up to this version.
    ///
    /// # Errors
    /// [`InsightsError::Newer`] when a newer version wrote it; otherwise when it cannot
    /// be opened or migrated.
    pub async fn connect(database: &Database) -> Result<Store, InsightsError> {
        sqlx::any::install_default_drivers();
        let name = database.name();
        let open_error = |source| InsightsError::Open {
            path: name.clone(),
            source,
        };
        let io_error = |e| open_error(sqlx::Error::Io(e));
        let (backend, options, pool_options) = match database {
            Database::Sqlite(path) => {
                let path = std::path::absolute(path).map_err(io_error)?;
                create_private_file(&path).map_err(io_error)?;
                // The Any driver takes a URL; SQLite's own options write it, escaping
                // what a file name may hold.
                let url = SqliteConnectOptions::new()
                    .filename(&path)
                    .create_if_missing(true)
                    .to_url_lossy();
                let options = AnyConnectOptions::from_url(&url).map_err(open_error)?;
                (Backend::Sqlite, options, sqlite_pool_options())
            }
            Database::Postgres(url) => {
                let options: AnyConnectOptions = url.parse().map_err(open_error)?;
                // Enough for the writer task, the handlers' votes and a report at once
                // on each replica, without crowding the server's connection limit.
                let pool = AnyPoolOptions::new().max_connections(8);
                (Backend::Postgres, options, pool)
            }
        };
        let pool = pool_options
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(open_error)?;
        let store = Store {
            pool,
            backend,
            name,
        };
        store.refuse_newer().await?;
        let migrate_error = |source| InsightsError::Migrate {
            path: store.name.clone(),
            source,
        };
        // On Postgres, sqlx holds an advisory lock while it migrates, so replicas that
        // start together apply each migration once.
        Migrator::new(Embedded(backend))
            .await
            .map_err(migrate_error)?
            .run(&store.pool)
            .await
            .map_err(migrate_error)?;
        Ok(store)
    }

    /// Refuses a database whose schema is newer than this binary knows.
    async fn refuse_newer(&self) -> Result<(), InsightsError> {
        // The catalogue is the one thing each backend names differently.
        let catalogue = match self.backend {
            Backend::Sqlite => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
            }
            Backend::Postgres => {
                "SELECT COUNT(*) FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations'"
            }
        };
        let migrated: i64 = sqlx::query_scalar(catalogue)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.query_error(e))?;
        if migrated == 0 {
            return Ok(());
        }
        let found: Option<i64> =
            sqlx::query_scalar("SELECT CAST(MAX(version) AS BIGINT) FROM _sqlx_migrations")
                .fetch_one(&self.pool)
                .await
                .map_err(|e| self.query_error(e))?;
        match found {
            Some(found) if found > SCHEMA_VERSION => Err(InsightsError::Newer {
                path: self.name.clone(),
                found,
                known: SCHEMA_VERSION,
            }),
            _ => Ok(()),
        }
    }

    fn query_error(&self, source: sqlx::Error) -> InsightsError {
        InsightsError::Query {
            path: self.name.clone(),
            source,
        }
    }

    /// Text as the database can hold it: Postgres refuses NUL in text, which SQLite
    /// keeps, so there it becomes U+FFFD rather than failing a whole batch of records.
    fn text(&self, text: &str) -> String {
        match self.backend {
            Backend::Postgres if text.contains('\0') => text.replace('\0', "\u{FFFD}"),
            _ => text.to_string(),
        }
    }

    fn optional_text(&self, text: Option<&str>) -> Option<String> {
        text.map(|text| self.text(text))
    }

    /// The database for messages: the file, or the server's URL without its password.
    pub fn path(&self) -> &str {
        &self.name
    }

    /// "sqlite" or "postgres".
    pub fn backend(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// Whether the database answers, for a readiness check: one round trip.
    ///
    /// # Errors
    /// When it does not.
    pub async fn ping(&self) -> Result<(), InsightsError> {
        sqlx::query_scalar::<_, i64>("SELECT 1")
            .fetch_one(&self.pool)
            .await
            .map(drop)
            .map_err(|e| self.query_error(e))
    }

    /// Closes every connection; later calls fail (as with a database gone away).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Saves a search for its paging buttons and returns the id the database gave it.
    /// Now and then, also deletes the searches past [`SEARCH_LIFETIME`].
    ///
    /// # Errors
    /// When the database refuses.
    pub async fn save_search(&self, search: &SavedSearch) -> Result<i64, InsightsError> {
        let now = now_ms();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO searches (created_at, query, user_id, ephemeral) VALUES ($1, $2, $3, $4)
             RETURNING id",
        )
        .bind(now)
        .bind(self.text(&search.query))
        .bind(search.user_id as i64)
        .bind(i64::from(search.ephemeral))
        .fetch_one(&self.pool)
        .await
        .map_err(|e| self.query_error(e))?;
        if id % PRUNE_SEARCHES_EVERY == 0 {
            self.delete_expired_searches(now).await?;
        }
        Ok(id)
    }

    /// The search saved under `id`, unless it is missing or older than `max_age`.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub async fn saved_search(
        &self,
        id: i64,
        max_age: Duration,
    ) -> Result<Option<SavedSearch>, InsightsError> {
        let oldest =
            now_ms().saturating_sub(i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX));
        let row = sqlx::query(
            "SELECT query, user_id, ephemeral FROM searches WHERE id = $1 AND created_at >= $2",
        )
        .bind(id)
        .bind(oldest)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.query_error(e))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let read = || -> Result<SavedSearch, sqlx::Error> {
            Ok(SavedSearch {
                query: row.try_get("query")?,
                user_id: row.try_get::<i64, _>("user_id")? as u64,
                ephemeral: row.try_get::<i64, _>("ephemeral")? != 0,
            })
        };
        read().map(Some).map_err(|e| self.query_error(e))
    }

    async fn delete_expired_searches(&self, now: i64) -> Result<u64, InsightsError> {
        let cutoff = now - SEARCH_LIFETIME.as_millis() as i64;
        sqlx::query("DELETE FROM searches WHERE created_at < $1")
            .bind(cutoff)
            .execute(&self.pool)
            .await
            .map(|done| done.rows_affected())
            .map_err(|e| self.query_error(e))
    }

    /// Takes the lease `name` for `holder` for `ttl`: when no one holds it, when its
    /// holder let it lapse (a crashed holder cannot keep it), or when `holder` already
    /// holds it (then it is renewed). Atomic: of many asking at once, one gets it.
    ///
    /// Expiry compares this machine's clock with the one that took the lease, so
    /// replicas' clocks must agree to well within `ttl` (as NTP keeps them).
    ///
    /// # Errors
    /// When the database refuses.
    pub async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Lease, InsightsError> {
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2);
        let (name, holder) = (self.text(name), self.text(holder));
        // The row may vanish between a refused take and the read of its holder (the
        // holder released it); then the take is tried again.
        for _ in 0..3 {
            let now = now_ms();
            // One statement: the insert, or the update of an expired or own lease, or
            // nothing; the database's row lock orders contenders.
            let taken = sqlx::query(
                "INSERT INTO leases (name, holder, since_ms, expires_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (name) DO UPDATE SET
                     since_ms = CASE WHEN leases.holder = excluded.holder AND leases.expires_at >= $3
                                     THEN leases.since_ms ELSE excluded.since_ms END,
                     holder = excluded.holder,
                     expires_at = excluded.expires_at
                 WHERE leases.expires_at < $3 OR leases.holder = excluded.holder",
            )
            .bind(&name)
            .bind(&holder)
            .bind(now)
            .bind(now.saturating_add(ttl_ms))
            .execute(&self.pool)
            .await
            .map_err(|e| self.query_error(e))?
            .rows_affected();
            if taken > 0 {
                return Ok(Lease::Acquired);
            }
            let row = sqlx::query("SELECT holder, since_ms FROM leases WHERE name = $1")
                .bind(&name)
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| self.query_error(e))?;
            if let Some(row) = row {
                let read = || -> Result<Lease, sqlx::Error> {
                    Ok(Lease::HeldBy {
                        holder: row.try_get("holder")?,
                        since_ms: row.try_get("since_ms")?,
                    })
                };
                return read().map_err(|e| self.query_error(e));
            }
        }
        Err(self.query_error(sqlx::Error::Protocol(format!(
            "the lease {name} was taken and released three times while asking for it"
        ))))
    }

    /// Gives up the lease `name`, if `holder` holds it (a lease that lapsed and was
    /// taken by another stays theirs).
    ///
    /// # Errors
    /// When the database refuses.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<(), InsightsError> {
        sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
            .bind(self.text(name))
            .bind(self.text(holder))
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(|e| self.query_error(e))
    }

    /// Announces that `by` finished a reindex into the index `fingerprint`; returns the
    /// announcement's id, larger than every earlier one's.
    ///
    /// # Errors
    /// When the database refuses.
    pub async fn announce_reindex(
        &self,
        by: &str,
        fingerprint: &str,
    ) -> Result<i64, InsightsError> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO reindexes (announced_by, fingerprint, at_ms) VALUES ($1, $2, $3)
             RETURNING id",
        )
        .bind(self.text(by))
        .bind(self.text(fingerprint))
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await
        .map_err(|e| self.query_error(e))?;
        sqlx::query("DELETE FROM reindexes WHERE id <= $1")
            .bind(id - ANNOUNCEMENTS_KEPT)
            .execute(&self.pool)
            .await
            .map_err(|e| self.query_error(e))?;
        Ok(id)
    }

    /// The latest reindex announced, if any.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub async fn latest_reindex(&self) -> Result<Option<Announcement>, InsightsError> {
        let row = sqlx::query(
            "SELECT id, announced_by, fingerprint, at_ms FROM reindexes ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.query_error(e))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let read = || -> Result<Announcement, sqlx::Error> {
            Ok(Announcement {
                id: row.try_get("id")?,
                by: row.try_get("announced_by")?,
                fingerprint: row.try_get("fingerprint")?,
                at_ms: row.try_get("at_ms")?,
            })
        };
        read().map(Some).map_err(|e| self.query_error(e))
    }

    /// The shared setting `name`: the value stored first, by this call (as `value`) or
    /// an earlier one on any replica, so that all agree on it.
    ///
    /// # Errors
    /// When the database refuses.
    pub async fn setting_or_insert(
        &self,
        name: &str,
        value: &str,
    ) -> Result<String, InsightsError> {
        sqlx::query(
            "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(self.text(name))
        .bind(self.text(value))
        .execute(&self.pool)
        .await
        .map_err(|e| self.query_error(e))?;
        sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
            .bind(self.text(name))
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.query_error(e))
    }

    /// Writes `records` in one transaction: all or none.
    ///
    /// # Errors
    /// When the database refuses them.
    pub async fn insert_questions(&self, records: &[QuestionRecord]) -> Result<(), InsightsError> {
        let run = async {
            let mut tx = self.pool.begin().await?;
            for record in records {
                // DO NOTHING: two processes that made the same answer id in the same
                // millisecond keep the first record rather than fail the whole batch.
                sqlx::query(
                    "INSERT INTO questions (id, asked_at, command, guild_id, channel_id, asker, question, terms_key, answered, suggestion, latency_us)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                     ON CONFLICT DO NOTHING",
                )
                .bind(record.id)
                .bind(record.asked_at)
                .bind(self.text(&record.command))
                .bind(record.guild_id.map(|id| id as i64))
                .bind(record.channel_id.map(|id| id as i64))
                .bind(self.optional_text(record.asker.as_deref()))
                .bind(self.optional_text(record.question.as_deref()))
                .bind(self.text(&record.terms_key))
                .bind(i64::from(record.answered))
                .bind(self.optional_text(record.suggestion.as_deref()))
                .bind(i64::try_from(record.latency_us).unwrap_or(i64::MAX))
                .execute(&mut *tx)
                .await?;
                for (rank, hit) in record.hits.iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO question_hits (question_id, rank, doc_id, section, score)
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                    )
                    .bind(record.id)
                    .bind(rank as i64)
                    .bind(self.text(&hit.doc_id))
                    .bind(self.text(&hit.section))
                    .bind(f64::from(hit.score))
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await
        };
        run.await.map_err(|e| self.query_error(e))
    }

    /// The record of answer `id`, as stored.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub async fn question(&self, id: i64) -> Result<Option<QuestionRecord>, InsightsError> {
        let run = async {
            let Some(row) = sqlx::query(
                "SELECT id, asked_at, command, guild_id, channel_id, asker, question, terms_key, answered, suggestion, latency_us
                 FROM questions WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            else {
                return Ok(None);
            };
            let hits = sqlx::query(
                "SELECT doc_id, section, score FROM question_hits WHERE question_id = $1 ORDER BY rank",
            )
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|hit| {
                Ok(RecordedHit {
                    doc_id: hit.try_get("doc_id")?,
                    section: hit.try_get("section")?,
                    score: hit.try_get::<f64, _>("score")? as f32,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
            Ok(Some(QuestionRecord {
                id: row.try_get("id")?,
                asked_at: row.try_get("asked_at")?,
                command: row.try_get("command")?,
                guild_id: row
                    .try_get::<Option<i64>, _>("guild_id")?
                    .map(|id| id as u64),
                channel_id: row
                    .try_get::<Option<i64>, _>("channel_id")?
                    .map(|id| id as u64),
                asker: row.try_get("asker")?,
                question: row.try_get("question")?,
                terms_key: row.try_get("terms_key")?,
                answered: row.try_get::<i64, _>("answered")? != 0,
                hits,
                suggestion: row.try_get("suggestion")?,
                latency_us: row.try_get::<i64, _>("latency_us")?.max(0) as u64,
            }))
        };
        run.await.map_err(|e: sqlx::Error| self.query_error(e))
    }

    /// Deletes questions and votes on answers older than `retention_days`, and saved
    /// searches past [`SEARCH_LIFETIME`]; returns how many questions and votes went.
    ///
    /// # Errors
    /// When the database refuses.
    pub async fn delete_expired(&self, retention_days: u32) -> Result<u64, InsightsError> {
        let cutoff = first_answer_id_at(days_ago_ms(retention_days));
        let run = async {
            let mut tx = self.pool.begin().await?;
            let questions = sqlx::query("DELETE FROM questions WHERE id < $1")
                .bind(cutoff)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let votes = sqlx::query("DELETE FROM votes WHERE question_id < $1")
                .bind(cutoff)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok(questions + votes)
        };
        let deleted = run.await.map_err(|e| self.query_error(e))?;
        self.delete_expired_searches(now_ms()).await?;
        if deleted > 0 {
            tracing::info!(deleted, retention_days, "deleted expired insights");
        }
        Ok(deleted)
    }

    /// Records `voter`'s vote on answer `answer_id`, replacing an earlier one (and its
    /// note, when the vote changes), and returns the answer's counts.
    ///
    /// # Errors
    /// When the database refuses.
    pub async fn vote(
        &self,
        answer_id: i64,
        voter: &str,
        vote: Vote,
    ) -> Result<Counts, InsightsError> {
        sqlx::query(
            "INSERT INTO votes (question_id, voter, vote, note, voted_at) VALUES ($1, $2, $3, NULL, $4)
             ON CONFLICT (question_id, voter) DO UPDATE SET
                 note = CASE WHEN votes.vote = excluded.vote THEN votes.note ELSE NULL END,
                 vote = excluded.vote, voted_at = excluded.voted_at",
        )
        .bind(answer_id)
        .bind(self.text(voter))
        .bind(vote.value())
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(|e| self.query_error(e))?;
        self.counts(answer_id).await
    }

    /// Keeps `voter`'s "what was wrong" note on answer `answer_id` with a down vote,
    /// and returns the answer's counts. An empty note keeps only the vote.
    ///
    /// # Errors
    /// When the database refuses.
    pub async fn note(
        &self,
        answer_id: i64,
        voter: &str,
        note: &str,
    ) -> Result<Counts, InsightsError> {
        let note = Some(note).filter(|n| !n.trim().is_empty());
        sqlx::query(
            "INSERT INTO votes (question_id, voter, vote, note, voted_at) VALUES ($1, $2, -1, $3, $4)
             ON CONFLICT (question_id, voter) DO UPDATE SET
                 vote = -1, note = COALESCE(excluded.note, votes.note), voted_at = excluded.voted_at",
        )
        .bind(answer_id)
        .bind(self.text(voter))
        .bind(self.optional_text(note))
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(|e| self.query_error(e))?;
        self.counts(answer_id).await
    }

    /// The votes on answer `answer_id`.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub async fn counts(&self, answer_id: i64) -> Result<Counts, InsightsError> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(CASE WHEN vote = 1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS up,
                    CAST(COALESCE(SUM(CASE WHEN vote = -1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS down
             FROM votes WHERE question_id = $1",
        )
        .bind(answer_id)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| self.query_error(e))?;
        let get = |name| row.try_get::<i64, _>(name).map(|n| n.max(0) as u64);
        Ok(Counts {
            up: get("up").map_err(|e| self.query_error(e))?,
            down: get("down").map_err(|e| self.query_error(e))?,
        })
    }

    /// The note `voter` left on an answer, if any.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub async fn note_of(
        &self,
        answer_id: i64,
        voter: &str,
    ) -> Result<Option<String>, InsightsError> {
        let note: Option<Option<String>> =
            sqlx::query_scalar("SELECT note FROM votes WHERE question_id = $1 AND voter = $2")
                .bind(answer_id)
                .bind(self.text(voter))
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| self.query_error(e))?;
        Ok(note.flatten())
    }

    /// Deletes everything recorded for the asker with hash `asker`: their questions
    /// (with their passages) and their votes. Returns how many questions and votes went.
    ///
    /// # Errors
    /// When the database refuses.
    pub async fn forget(&self, asker: &str) -> Result<u64, InsightsError> {
        let run = async {
            let mut tx = self.pool.begin().await?;
            let questions = sqlx::query("DELETE FROM questions WHERE asker = $1")
                .bind(self.text(asker))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let votes = sqlx::query("DELETE FROM votes WHERE voter = $1")
                .bind(self.text(asker))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok(questions + votes)
        };
        run.await.map_err(|e| self.query_error(e))
    }

    /// What happened in the last `days` days: counts, the most asked unanswered
    /// questions, the most disliked answers, and which of `documents` were never shown.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub async fn report(
        &self,
        days: u32,
        documents: &[DocumentInfo],
    ) -> Result<Report, InsightsError> {
        self.report_since(days, days_ago_ms(days), documents).await
    }

    async fn report_since(
        &self,
        days: u32,
        since_ms: i64,
        documents: &[DocumentInfo],
    ) -> Result<Report, InsightsError> {
        let from = first_answer_id_at(since_ms);
        let run = async {
            // Each count reads one range of the (answered, id) index.
            let count = |answered: bool| {
                sqlx::query_scalar::<_, i64>(
                    "SELECT COUNT(*) FROM questions WHERE answered = $1 AND id >= $2",
                )
                .bind(i64::from(answered))
                .bind(from)
                .fetch_one(&self.pool)
            };
            let answered = count(true).await?.max(0) as u64;
            let unanswered_total = count(false).await?.max(0) as u64;
            let votes = sqlx::query(
                "SELECT CAST(COALESCE(SUM(CASE WHEN vote = 1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS up,
                        CAST(COALESCE(SUM(CASE WHEN vote = -1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS down
                 FROM votes WHERE question_id >= $1",
            )
            .bind(from)
            .fetch_one(&self.pool)
            .await?;
            // `+id`: the range on id may not pick an index, so SQLite reads
            // questions_unanswered_terms, in terms order, and groups with no sort.
            let groups = sqlx::query(
                "SELECT terms_key, COUNT(*) AS n, MAX(id) AS latest
                 FROM questions
                 WHERE answered = 0 AND +id >= $1
                 GROUP BY terms_key ORDER BY n DESC, latest DESC LIMIT 10",
            )
            .bind(from)
            .fetch_all(&self.pool)
            .await?;
            let mut unanswered = Vec::with_capacity(groups.len());
            for group in groups {
                let latest: i64 = group.try_get("latest")?;
                let example: Option<String> =
                    sqlx::query_scalar("SELECT question FROM questions WHERE id = $1")
                        .bind(latest)
                        .fetch_optional(&self.pool)
                        .await?
                        .flatten();
                unanswered.push(UnansweredGroup {
                    terms: group.try_get("terms_key")?,
                    count: group.try_get::<i64, _>("n")?.max(0) as u64,
                    example,
                });
            }
            let worst = sqlx::query(
                "SELECT question_id,
                        CAST(SUM(CASE WHEN vote = 1 THEN 1 ELSE 0 END) AS BIGINT) AS up,
                        CAST(SUM(CASE WHEN vote = -1 THEN 1 ELSE 0 END) AS BIGINT) AS down
                 FROM votes WHERE question_id >= $1 GROUP BY question_id
                 HAVING SUM(CASE WHEN vote = -1 THEN 1 ELSE 0 END) > 0
                 ORDER BY down DESC, up ASC, question_id DESC LIMIT 5",
            )
            .bind(from)
            .fetch_all(&self.pool)
            .await?;
            let mut disliked = Vec::with_capacity(worst.len());
            for answer in worst {
                let id: i64 = answer.try_get("question_id")?;
                let question: Option<String> =
                    sqlx::query_scalar("SELECT question FROM questions WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?
                        .flatten();
                let top = sqlx::query(
                    "SELECT doc_id, section FROM question_hits WHERE question_id = $1 AND rank = 0",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                let (doc_id, section) = match top {
                    Some(top) => (
                        Some(top.try_get::<String, _>("doc_id")?),
                        top.try_get::<String, _>("section")?,
                    ),
                    None => (None, String::new()),
                };
                let title = doc_id.as_ref().map(|doc_id| {
                    documents
                        .iter()
                        .find(|d| &d.id == doc_id)
                        .map_or_else(|| doc_id.clone(), |d| d.title.clone())
                });
                let notes: Vec<String> = sqlx::query_scalar(
                    "SELECT note FROM votes WHERE question_id = $1 AND note IS NOT NULL
                     ORDER BY voted_at DESC LIMIT 5",
                )
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
                disliked.push(DislikedAnswer {
                    answer_id: id,
                    question,
                    document: title,
                    section,
                    up: answer.try_get::<i64, _>("up")?.max(0) as u64,
                    down: answer.try_get::<i64, _>("down")?.max(0) as u64,
                    notes,
                });
            }
            // One index lookup per document: as fast with a million records as with ten.
            let mut never_shown = Vec::new();
            for document in documents {
                let shown: i64 = sqlx::query_scalar(
                    "SELECT CASE WHEN EXISTS (SELECT 1 FROM question_hits WHERE doc_id = $1)
                     THEN 1 ELSE 0 END",
                )
                .bind(self.text(&document.id))
                .fetch_one(&self.pool)
                .await?;
                if shown == 0 {
                    never_shown.push(document.title.clone());
                }
            }
            Ok(Report {
                days,
                questions: answered + unanswered_total,
                answered,
                up_votes: votes.try_get::<i64, _>("up")?.max(0) as u64,
                down_votes: votes.try_get::<i64, _>("down")?.max(0) as u64,
                unanswered,
                disliked,
                never_shown,
            })
        };
        run.await.map_err(|e: sqlx::Error| self.query_error(e))
    }
}

/// The SQLite pool: a few connections (SQLite writes one at a time anyway), each set up
/// as it opens, since a URL cannot carry the journal mode or synchronous setting.
fn sqlite_pool_options() -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(4)
        .after_connect(|connection, _| {
            Box::pin(async move {
                // In WAL mode, NORMAL loses no committed transaction when the process
                // dies; only a power cut can take the last ones.
                connection
                    .execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
                         PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
                    )
                    .await?;
                Ok(())
            })
        })
}

/// Creates an SQLite file (and its folder) readable by its owner only, unless it exists:
/// it holds what people asked. SQLite gives its -wal and -shm files the same permissions.
fn create_private_file(path: &Path) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    if path.exists() {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn sqlite() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("insights.sqlite"))
            .await
            .unwrap();
        (store, dir)
    }

    /// The SQL is written with Postgres's `$N`; SQLite must bind those by number (not
    /// by order of appearance), also when one is used twice, as the lease's is.
    #[tokio::test]
    async fn sqlite_binds_dollar_placeholders_by_number() {
        let (store, _dir) = sqlite().await;
        let text: String = sqlx::query_scalar("SELECT $2 || '-' || $1 || '-' || $2")
            .bind("a")
            .bind("b")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(text, "b-a-b");
    }

    /// What the SQLite-only pool set before the Any driver: every connection of the
    /// pool gets it, so it is checked on all of them at once.
    #[tokio::test]
    async fn every_sqlite_connection_is_in_wal_mode_with_normal_sync_a_busy_timeout_and_foreign_keys(
    ) {
        let (store, _dir) = sqlite().await;
        let mut connections = Vec::new();
        for _ in 0..4 {
            connections.push(store.pool.acquire().await.unwrap());
        }
        for connection in &mut connections {
            let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
                .fetch_one(&mut **connection)
                .await
                .unwrap();
            assert_eq!(mode, "wal");
            for (pragma, expected) in [
                ("PRAGMA synchronous", 1),
                ("PRAGMA busy_timeout", 5_000),
                ("PRAGMA foreign_keys", 1),
            ] {
                let value: i64 = sqlx::query_scalar(pragma)
                    .fetch_one(&mut **connection)
                    .await
                    .unwrap();
                assert_eq!(value, expected, "{pragma}");
            }
        }
    }

    /// `/forget-me` relies on the foreign key's cascade to delete a question's passages.
    #[tokio::test]
    async fn forgetting_a_question_deletes_its_passages() {
        let (store, _dir) = sqlite().await;
        let record = QuestionRecord {
            id: 7 << 16,
            asked_at: 7,
            command: "ask".into(),
            guild_id: None,
            channel_id: None,
            asker: Some("asker".into()),
            question: None,
            terms_key: "kibo".into(),
            answered: true,
            hits: vec![RecordedHit {
                doc_id: "iss-kibo".into(),
                section: String::new(),
                score: 1.0,
            }],
            suggestion: None,
            latency_us: 1,
        };
        store.insert_questions(&[record]).await.unwrap();
        assert_eq!(store.forget("asker").await.unwrap(), 1);
        let hits: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM question_hits")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(hits, 0);
    }

    /// A database the released version made (schema 1 only, with a question in it) is
    /// brought up to this version's schema and keeps what it held.
    #[tokio::test]
    async fn a_database_of_the_first_schema_is_brought_up_to_date() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("insights.sqlite");
        {
            let url = format!("sqlite://{}?mode=rwc", path.display());
            let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
            let mut first = Migrator::new(Embedded(Backend::Sqlite)).await.unwrap();
            first.migrations = Cow::Owned(first.migrations[..1].to_vec());
            first.run(&pool).await.unwrap();
            sqlx::query(
                "INSERT INTO questions (id, asked_at, command, terms_key, answered, latency_us)
                 VALUES (65536, 1, 'ask', 'kibo', 1, 5)",
            )
            .execute(&pool)
            .await
            .unwrap();
            pool.close().await;
        }
        let store = Store::open(&path).await.unwrap();
        assert_eq!(
            store.question(65536).await.unwrap().unwrap().terms_key,
            "kibo"
        );
        let id = store
            .save_search(&SavedSearch {
                query: "kibo".into(),
                user_id: 1,
                ephemeral: true,
            })
            .await
            .unwrap();
        assert!(store
            .saved_search(id, Duration::from_secs(60))
            .await
            .unwrap()
            .is_some());
        let version: i64 = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }

    #[test]
    fn each_backend_has_every_migration() {
        for (i, &(version, _, sqlite, postgres)) in MIGRATIONS.iter().enumerate() {
            assert_eq!(version, i as i64 + 1);
            assert!(sqlite.contains("CREATE TABLE") && postgres.contains("CREATE TABLE"));
            assert!(!postgres.contains("WITHOUT ROWID") && !postgres.contains("AUTOINCREMENT"));
        }
        assert_eq!(SCHEMA_VERSION, 2);
    }
}
