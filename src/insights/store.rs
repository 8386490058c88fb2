//! The insights database: SQLite through sqlx, in WAL mode (readers never wait for the
//! writer, and a killed process loses at most the transaction it was in), with the
//! schema in `migrations/`, embedded in the binary and applied at open. All SQL lives
//! here.

use std::borrow::Cow;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::time::Duration;

use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::Row;

use super::report::{DislikedAnswer, Report, UnansweredGroup};
use super::{days_ago_ms, first_answer_id_at, now_ms, InsightsError, QuestionRecord, RecordedHit};
use crate::index::DocumentInfo;

/// The migrations, in order: (version, description, SQL). A new schema is a new file
/// in `migrations/` and a new line here; a file once released is never edited (sqlx
/// checks each applied migration's checksum).
const MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    "insights",
    include_str!("../../migrations/0001_insights.sql"),
)];

/// The schema version this binary writes: its last migration.
pub const SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].0;

/// The embedded migrations as sqlx reads them (what `sqlx::migrate!` would build,
/// without sqlx's procedural macros, which cost a second build of sqlx at compile time).
#[derive(Debug)]
struct Embedded;

impl MigrationSource<'static> for Embedded {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 'static>> {
        Box::pin(async {
            Ok(MIGRATIONS
                .iter()
                .map(|&(version, description, sql)| {
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

/// The database. Cheap to clone (a pool handle). Questions are written by the one
/// writer task ([`super::Recorder`]); votes and deletions by the handlers that need
/// them, which SQLite serialises (with a 5-second busy timeout) while WAL lets reads
/// go on.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    path: String,
}

impl Store {
    /// Opens the database at `path`, creating it (and its folder) when missing, and
    /// brings its schema up to this version.
    ///
    /// # Errors
    /// [`InsightsError::Newer`] when a newer version wrote it; otherwise when it cannot
    /// be opened or migrated.
    pub async fn open(path: &Path) -> Result<Store, InsightsError> {
        let name = path.display().to_string();
        let open_error = |source| InsightsError::Open {
            path: name.clone(),
            source,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| open_error(sqlx::Error::Io(e)))?;
        }
        // A new database is readable by its owner only: it holds what people asked.
        // SQLite gives its -wal and -shm files the same permissions.
        if !path.exists() {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            match options.open(path) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(open_error(sqlx::Error::Io(e))),
            }
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // In WAL mode, NORMAL loses no committed transaction when the process dies;
            // only a power cut can take the last ones.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(open_error)?;
        let store = Store { pool, path: name };
        store.refuse_newer().await?;
        let migrator = Migrator::new(Embedded)
            .await
            .map_err(|source| InsightsError::Migrate {
                path: store.path.clone(),
                source,
            })?;
        migrator
            .run(&store.pool)
            .await
            .map_err(|source| InsightsError::Migrate {
                path: store.path.clone(),
                source,
            })?;
        Ok(store)
    }

    /// Refuses a database whose schema is newer than this binary knows.
    async fn refuse_newer(&self) -> Result<(), InsightsError> {
        let migrated: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(|e| self.query_error(e))?;
        if migrated == 0 {
            return Ok(());
        }
        let found: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.query_error(e))?;
        match found {
            Some(found) if found > SCHEMA_VERSION => Err(InsightsError::Newer {
                path: self.path.clone(),
                found,
                known: SCHEMA_VERSION,
            }),
            _ => Ok(()),
        }
    }

    fn query_error(&self, source: sqlx::Error) -> InsightsError {
        InsightsError::Query {
            path: self.path.clone(),
            source,
        }
    }

    /// Whether the database answers, for a readiness check.
    ///
    /// # Errors
    /// The database's error.
    pub async fn ping(&self) -> Result<(), InsightsError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(|e| self.query_error(e))
    }

    /// The database file, for messages.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Closes every connection; later calls fail (as with a database gone away).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Writes `records` in one transaction: all or none.
    ///
    /// # Errors
    /// When the database refuses them.
    pub async fn insert_questions(&self, records: &[QuestionRecord]) -> Result<(), InsightsError> {
        let run = async {
            let mut tx = self.pool.begin().await?;
            for record in records {
                // OR IGNORE: two processes that made the same answer id in the same
                // millisecond keep the first record rather than fail the whole batch.
                sqlx::query(
                    "INSERT OR IGNORE INTO questions (id, asked_at, command, guild_id, channel_id, asker, question, terms_key, answered, suggestion, latency_us)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(record.id)
                .bind(record.asked_at)
                .bind(&record.command)
                .bind(record.guild_id.map(|id| id as i64))
                .bind(record.channel_id.map(|id| id as i64))
                .bind(&record.asker)
                .bind(&record.question)
                .bind(&record.terms_key)
                .bind(record.answered)
                .bind(&record.suggestion)
                .bind(i64::try_from(record.latency_us).unwrap_or(i64::MAX))
                .execute(&mut *tx)
                .await?;
                for (rank, hit) in record.hits.iter().enumerate() {
                    sqlx::query(
                        "INSERT OR IGNORE INTO question_hits (question_id, rank, doc_id, section, score) VALUES (?, ?, ?, ?, ?)",
                    )
                    .bind(record.id)
                    .bind(rank as i64)
                    .bind(&hit.doc_id)
                    .bind(&hit.section)
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
                 FROM questions WHERE id = ?",
            )
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            else {
                return Ok(None);
            };
            let hits = sqlx::query(
                "SELECT doc_id, section, score FROM question_hits WHERE question_id = ? ORDER BY rank",
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
                answered: row.try_get("answered")?,
                hits,
                suggestion: row.try_get("suggestion")?,
                latency_us: row.try_get::<i64, _>("latency_us")?.max(0) as u64,
            }))
        };
        run.await.map_err(|e: sqlx::Error| self.query_error(e))
    }

    /// Deletes questions and votes on answers older than `retention_days`; returns how
    /// many rows went.
    ///
    /// # Errors
    /// When the database refuses.
    pub async fn delete_expired(&self, retention_days: u32) -> Result<u64, InsightsError> {
        let cutoff = first_answer_id_at(days_ago_ms(retention_days));
        let run = async {
            let mut tx = self.pool.begin().await?;
            let questions = sqlx::query("DELETE FROM questions WHERE id < ?")
                .bind(cutoff)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let votes = sqlx::query("DELETE FROM votes WHERE question_id < ?")
                .bind(cutoff)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok(questions + votes)
        };
        let deleted = run.await.map_err(|e| self.query_error(e))?;
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
            "INSERT INTO votes (question_id, voter, vote, note, voted_at) VALUES (?, ?, ?, NULL, ?)
             ON CONFLICT (question_id, voter) DO UPDATE SET
                 note = CASE WHEN vote = excluded.vote THEN note ELSE NULL END,
                 vote = excluded.vote, voted_at = excluded.voted_at",
        )
        .bind(answer_id)
        .bind(voter)
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
            "INSERT INTO votes (question_id, voter, vote, note, voted_at) VALUES (?, ?, -1, ?, ?)
             ON CONFLICT (question_id, voter) DO UPDATE SET
                 vote = -1, note = COALESCE(excluded.note, note), voted_at = excluded.voted_at",
        )
        .bind(answer_id)
        .bind(voter)
        .bind(note)
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
            "SELECT COALESCE(SUM(vote = 1), 0) AS up, COALESCE(SUM(vote = -1), 0) AS down
             FROM votes WHERE question_id = ?",
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
            sqlx::query_scalar("SELECT note FROM votes WHERE question_id = ? AND voter = ?")
                .bind(answer_id)
                .bind(voter)
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
            let questions = sqlx::query("DELETE FROM questions WHERE asker = ?")
                .bind(asker)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let votes = sqlx::query("DELETE FROM votes WHERE voter = ?")
                .bind(asker)
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
                    "SELECT COUNT(*) FROM questions WHERE answered = ? AND id >= ?",
                )
                .bind(answered)
                .bind(from)
                .fetch_one(&self.pool)
            };
            let answered = count(true).await?.max(0) as u64;
            let unanswered_total = count(false).await?.max(0) as u64;
            let votes = sqlx::query(
                "SELECT COALESCE(SUM(vote = 1), 0) AS up, COALESCE(SUM(vote = -1), 0) AS down
                 FROM votes WHERE question_id >= ?",
            )
            .bind(from)
            .fetch_one(&self.pool)
            .await?;
            let groups = sqlx::query(
                "SELECT terms_key, COUNT(*) AS n, MAX(id) AS latest
                 FROM questions INDEXED BY questions_unanswered_terms
                 WHERE answered = 0 AND id >= ?
                 GROUP BY terms_key ORDER BY n DESC, latest DESC LIMIT 10",
            )
            .bind(from)
            .fetch_all(&self.pool)
            .await?;
            let mut unanswered = Vec::with_capacity(groups.len());
            for group in groups {
                let latest: i64 = group.try_get("latest")?;
                let example: Option<String> =
                    sqlx::query_scalar("SELECT question FROM questions WHERE id = ?")
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
                "SELECT question_id, SUM(vote = 1) AS up, SUM(vote = -1) AS down FROM votes
                 WHERE question_id >= ? GROUP BY question_id HAVING down > 0
                 ORDER BY down DESC, up ASC, question_id DESC LIMIT 5",
            )
            .bind(from)
            .fetch_all(&self.pool)
            .await?;
            let mut disliked = Vec::with_capacity(worst.len());
            for answer in worst {
                let id: i64 = answer.try_get("question_id")?;
                let question: Option<String> =
                    sqlx::query_scalar("SELECT question FROM questions WHERE id = ?")
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?
                        .flatten();
                let top = sqlx::query(
                    "SELECT doc_id, section FROM question_hits WHERE question_id = ? AND rank = 0",
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
                    "SELECT note FROM votes WHERE question_id = ? AND note IS NOT NULL
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
                let shown: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM question_hits WHERE doc_id = ?)",
                )
                .bind(&document.id)
                .fetch_one(&self.pool)
                .await?;
                if !shown {
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
