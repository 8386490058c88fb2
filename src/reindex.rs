//! Rebuilding the index from the corpus, one reindex at a time across every process
//! that shares the index folder. Used by `spacecollab index`, by the first `ask` on a
//! fresh machine, and by `/reindex`; all three show the same progress and summary.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::answer::{AnswerSettings, Engine};
use crate::corpus::{self, CorpusError};
use crate::index::{self, CrashPoint, IndexError};

/// File in the index folder that is locked while a reindex runs and says who runs it.
const LOCK_FILE: &str = "reindex.lock";
/// How often, and how far apart, a busy reindex lock is tried again before giving up.
const LOCK_ATTEMPTS: u32 = 5;
const LOCK_RETRY_PAUSE: std::time::Duration = std::time::Duration::from_millis(20);

/// Why a reindex could not complete. Bad corpus files are not failures: they are
/// skipped and listed in the [`Report`].
#[derive(Debug, thiserror::Error)]
pub enum ReindexError {
    /// The corpus path itself cannot be read.
    #[error(transparent)]
    Corpus(#[from] CorpusError),
    /// Writing or checking the index failed; the previous index stays in service.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// Every file was skipped, which would replace a working index with an empty one.
    #[error("no document in {path} could be read, so the index was left as it was")]
    NothingLoaded { path: String },
    /// Another reindex holds the lock.
    #[error("a reindex is already running (started by {owner}, {percent}% done)")]
    AlreadyRunning { owner: String, percent: u8 },
    /// The lock file could not be created or locked.
    #[error("{path}: cannot take the reindex lock: {source}")]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What a reindex did.
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub documents: usize,
    pub passages: usize,
    /// Documents whose passages were written in this reindex.
    pub written: usize,
    /// Whether only what changed was written.
    pub incremental: bool,
    /// Titles of documents new since the previous index.
    pub added: Vec<String>,
    /// Titles of documents whose content changed.
    pub changed: Vec<String>,
    /// Titles of documents no longer in the corpus.
    pub removed: Vec<String>,
    pub skipped: Vec<CorpusError>,
    /// Documents, passages and skipped files per format, in [`corpus::Format`] order,
    /// then other kinds of file by extension.
    pub formats: Vec<FormatSummary>,
    pub bytes: u64,
    pub seconds: f64,
}

/// What one format contributed to a reindex.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormatSummary {
    /// The format's name (`pdf`, `html`, ...), or the extension of files not read (`odt`).
    pub format: String,
    pub documents: usize,
    pub passages: usize,
    pub skipped: usize,
}

impl std::fmt::Display for FormatSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} document{}, {} passage{}, {} skipped",
            self.format,
            self.documents,
            if self.documents == 1 { "" } else { "s" },
            self.passages,
            if self.passages == 1 { "" } else { "s" },
            self.skipped
        )
    }
}

/// Sums documents (by their path and passage count) and skipped files by format.
pub fn summarize_formats<'a>(
    documents: impl IntoIterator<Item = (&'a str, usize)>,
    skipped: &[CorpusError],
) -> Vec<FormatSummary> {
    // Sorted by format first, then by extension for files of no format.
    let mut summaries: std::collections::BTreeMap<(Option<corpus::Format>, String), FormatSummary> =
        std::collections::BTreeMap::new();
    let key = |location: &str| match corpus::Format::of_location(location) {
        Some(format) => (Some(format), format.name().to_string()),
        None => {
            let extension = Path::new(location)
                .extension()
                .map(|e| e.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_else(|| "other".to_string());
            (None, extension)
        }
    };
    let mut add = |location: &str, documents: usize, passages: usize, skipped: usize| {
        let key = key(location);
        let summary = summaries
            .entry(key.clone())
            .or_insert_with(|| FormatSummary {
                format: key.1,
                ..FormatSummary::default()
            });
        summary.documents += documents;
        summary.passages += passages;
        summary.skipped += skipped;
    };
    for (path, passages) in documents {
        add(path, 1, passages, 0);
    }
    for error in skipped {
        add(error.path(), 0, 0, 1);
    }
    // `None` sorts first in a tuple; files of no format go last.
    let (known, unknown): (Vec<_>, Vec<_>) = summaries
        .into_iter()
        .partition(|((format, _), _)| format.is_some());
    known
        .into_iter()
        .chain(unknown)
        .map(|(_, summary)| summary)
        .collect()
}

/// Progress of a reindex, for bars and status messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading files: (done, total).
    Reading(usize, usize),
    /// Writing documents to the index: (done, total).
    Indexing(usize, usize),
}

impl Stage {
    /// Overall completion, 0–100: reading is the first fifth of the work.
    pub fn percent(self) -> u8 {
        let share = |done: usize, total: usize| {
            if total == 0 {
                1.0
            } else {
                done as f64 / total as f64
            }
        };
        let percent = match self {
            Stage::Reading(done, total) => 20.0 * share(done, total),
            Stage::Indexing(done, total) => 20.0 + 80.0 * share(done, total),
        };
        percent.clamp(0.0, 100.0) as u8
    }
}

/// What the lock file says about the reindex holding it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct LockStatus {
    owner: String,
    percent: u8,
}

/// Proof that this caller holds the reindex lock; released when dropped.
#[derive(Debug)]
pub struct Ticket {
    file: File,
    owner: String,
}

impl Ticket {
    fn record(&mut self, percent: u8) {
        let status = LockStatus {
            owner: self.owner.clone(),
            percent,
        };
        let bytes = serde_json::to_vec(&status).expect("status always serializes");
        // Best effort: the status only feeds the "already running" message.
        let _ = self.file.set_len(0);
        let _ = self.file.rewind();
        let _ = self.file.write_all(&bytes);
    }
}

/// Runs reindexes of one corpus into one index folder, one at a time.
#[derive(Debug)]
pub struct Reindexer {
    corpus: PathBuf,
    index: PathBuf,
    threads: usize,
    /// Where a test makes the build abort; `None` outside tests.
    crash: Option<CrashPoint>,
    /// Serialises reindexes within this process; the file lock covers other processes.
    /// A std mutex: held only to check and set, never across `.await`.
    running: Mutex<()>,
}

impl Reindexer {
    pub fn new(corpus: &Path, index: &Path, threads: usize) -> Reindexer {
        Reindexer {
            corpus: corpus.to_path_buf(),
            index: index.to_path_buf(),
            threads,
            crash: None,
            running: Mutex::new(()),
        }
    }

    /// Makes every build abort the process at `crash` (see [`CrashPoint`]); tests only.
    #[doc(hidden)]
    pub fn crashing_at(mut self, crash: Option<CrashPoint>) -> Reindexer {
        self.crash = crash;
        self
    }

    /// Takes the reindex lock for `owner` (a person or program, shown to whoever is refused).
    ///
    /// # Errors
    /// [`ReindexError::AlreadyRunning`] when another reindex, here or in another process, holds it.
    pub fn try_start(&self, owner: &str) -> Result<Ticket, ReindexError> {
        let _guard = self.running.lock().unwrap_or_else(|p| p.into_inner());
        std::fs::create_dir_all(&self.index).map_err(|source| ReindexError::Lock {
            path: self.index.clone(),
            source,
        })?;
        let path = self.index.join(LOCK_FILE);
        let mut file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|source| ReindexError::Lock {
                path: path.clone(),
                source,
            })?;
        // The OS releases this lock when its holder exits, even by a crash, so a stale
        // lock file never blocks the next reindex.
        let mut attempt = 0;
        let locked = loop {
            match file.try_lock() {
                // A lock released a moment ago can still be held for a moment: a child
                // process being started by another thread keeps a copy of every open
                // file until it runs its program. Seen in the tests, which start the
                // binary while other tests reindex; a real reindex holds it for longer.
                Err(std::fs::TryLockError::WouldBlock) if attempt < LOCK_ATTEMPTS => {
                    attempt += 1;
                    std::thread::sleep(LOCK_RETRY_PAUSE);
                }
                other => break other,
            }
        };
        match locked {
            Ok(()) => {
                let mut ticket = Ticket {
                    file,
                    owner: owner.to_string(),
                };
                ticket.record(0);
                Ok(ticket)
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let status: LockStatus = serde_json::from_str(&text).unwrap_or_default();
                Err(ReindexError::AlreadyRunning {
                    owner: if status.owner.is_empty() {
                        "another process".to_string()
                    } else {
                        status.owner
                    },
                    percent: status.percent,
                })
            }
            Err(std::fs::TryLockError::Error(source)) => Err(ReindexError::Lock { path, source }),
        }
    }

    /// Removes generations and temporary files left by a crash, unless a reindex is
    /// running (its new generation is not leftover). Called at start-up.
    pub fn clean_up(&self) {
        if let Ok(ticket) = self.try_start("start-up cleanup") {
            index::remove_stale_generations(&self.index);
            drop(ticket);
        }
    }

    /// Reloads the corpus and builds a new index generation, reporting what changed
    /// since the previous one. The generation in service is replaced only when the new
    /// one is complete and checked.
    ///
    /// # Errors
    /// See [`ReindexError`]; on any error the index in service is unchanged.
    pub fn run(
        &self,
        mut ticket: Ticket,
        full: bool,
        mut progress: impl FnMut(Stage),
    ) -> Result<Report, ReindexError> {
        let started = Instant::now();
        let mut last_percent = 0;
        let mut step = |stage: Stage| {
            let percent = stage.percent();
            if percent >= last_percent + 5 {
                last_percent = percent;
                ticket.record(percent);
            }
            progress(stage);
        };
        // Generations left by a crashed or failed build are removed under the lock, when
        // no other build can be writing them.
        index::remove_stale_generations(&self.index);
        let previous = index::open_current(&self.index).ok().map(|g| g.manifest);
        let corpus = corpus::load(&self.corpus, |done, total| {
            step(Stage::Reading(done, total))
        })?;
        if corpus.documents.is_empty() {
            return Err(ReindexError::NothingLoaded {
                path: self.corpus.display().to_string(),
            });
        }
        let built = index::build_crashing_at(
            &self.index,
            &corpus,
            self.threads,
            full,
            self.crash,
            |done, total| step(Stage::Indexing(done, total)),
        )?;
        // The generation just replaced is no longer needed by this process.
        index::remove_stale_generations(&self.index);

        let formats = summarize_formats(
            built
                .manifest
                .documents
                .iter()
                .map(|d| (d.path.as_str(), d.passages)),
            &corpus.skipped,
        );
        let mut report = Report {
            documents: built.manifest.documents.len(),
            passages: built.manifest.passages,
            written: built.written,
            incremental: built.incremental,
            skipped: corpus.skipped,
            formats,
            bytes: corpus.bytes,
            ..Report::default()
        };
        let old: HashMap<&str, (&str, &str)> = previous
            .as_ref()
            .map(|m| {
                m.documents
                    .iter()
                    .map(|d| (d.id.as_str(), (d.hash.as_str(), d.title.as_str())))
                    .collect()
            })
            .unwrap_or_default();
        let mut seen = std::collections::HashSet::new();
        // The new manifest's hashes: hashing serializes every document again.
        for document in &built.manifest.documents {
            seen.insert(document.id.as_str());
            match old.get(document.id.as_str()) {
                None => report.added.push(document.title.clone()),
                Some((hash, _)) if *hash != document.hash => {
                    report.changed.push(document.title.clone())
                }
                Some(_) => {}
            }
        }
        report.removed = old
            .iter()
            .filter(|(id, _)| !seen.contains(*id))
            .map(|(_, (_, title))| title.to_string())
            .collect();
        report.removed.sort();
        report.seconds = started.elapsed().as_secs_f64();
        Ok(report)
    }
}

/// Loads the corpus at `corpus_path` and builds a complete index under `index_path`,
/// holding the reindex lock as `owner`.
///
/// # Errors
/// See [`ReindexError`]; on any error the index in service is unchanged.
pub fn rebuild(
    corpus_path: &Path,
    index_path: &Path,
    threads: usize,
    progress: impl FnMut(Stage),
) -> Result<Report, ReindexError> {
    run_locked(corpus_path, index_path, threads, true, progress)
}

/// Like [`rebuild`], but writes only the documents that changed since the index in
/// service (everything when there is none).
///
/// # Errors
/// See [`ReindexError`]; on any error the index in service is unchanged.
pub fn update(
    corpus_path: &Path,
    index_path: &Path,
    threads: usize,
    progress: impl FnMut(Stage),
) -> Result<Report, ReindexError> {
    run_locked(corpus_path, index_path, threads, false, progress)
}

/// Opens the index under `index_path`, building it from `corpus_path` first when there
/// is none yet or it was written with another index format, so that a new user's first
/// question just works. `before_build` hears why a build is needed (an
/// [`IndexError::Missing`] or [`IndexError::OtherFormat`]) before it starts; the
/// report of that build comes back with the engine.
///
/// # Errors
/// When the index cannot be opened for another reason, or the build fails.
pub fn open_or_build(
    corpus_path: &Path,
    index_path: &Path,
    threads: usize,
    settings: AnswerSettings,
    before_build: impl FnOnce(&IndexError),
    progress: impl FnMut(Stage),
) -> Result<(Engine, Option<Report>), ReindexError> {
    match Engine::open(index_path, settings) {
        Ok(engine) => Ok((engine, None)),
        Err(why @ (IndexError::Missing(_) | IndexError::OtherFormat { .. })) => {
            before_build(&why);
            let report = update(corpus_path, index_path, threads, progress)?;
            Ok((Engine::open(index_path, settings)?, Some(report)))
        }
        Err(other) => Err(other.into()),
    }
}

/// One reindex from the command line: take the lock, run, release.
fn run_locked(
    corpus_path: &Path,
    index_path: &Path,
    threads: usize,
    full: bool,
    progress: impl FnMut(Stage),
) -> Result<Report, ReindexError> {
    let reindexer = Reindexer::new(corpus_path, index_path, threads);
    let ticket = reindexer.try_start("spacecollab index")?;
    reindexer.run(ticket, full, progress)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_counts_reading_as_the_first_fifth() {
        assert_eq!(Stage::Reading(0, 10).percent(), 0);
        assert_eq!(Stage::Reading(10, 10).percent(), 20);
        assert_eq!(Stage::Indexing(5, 10).percent(), 60);
        assert_eq!(Stage::Indexing(10, 10).percent(), 100);
    }

    #[test]
    fn formats_are_summed_from_paths_and_skipped_files() {
        let skipped = vec![
            CorpusError::Encrypted {
                path: "kits/locked.pdf".to_string(),
            },
            CorpusError::Unsupported {
                path: "notes.odt".to_string(),
                extension: "odt".to_string(),
            },
            CorpusError::JsonLine {
                path: "set.jsonl".to_string(),
                line: 3,
                message: "bad".to_string(),
            },
        ];
        let documents = [
            ("reports/a.pdf", 40),
            ("b.PDF", 2),
            ("kibo.md", 5),
            ("set.jsonl:1", 1),
        ];
        let lines: Vec<String> = summarize_formats(documents, &skipped)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            lines,
            vec![
                "markdown: 1 document, 5 passages, 0 skipped",
                "pdf: 2 documents, 42 passages, 1 skipped",
                "jsonl: 1 document, 1 passage, 1 skipped",
                "odt: 0 documents, 0 passages, 1 skipped",
            ]
        );
    }

    #[test]
    fn a_second_reindex_is_refused_while_one_runs() {
        let dir =
            std::env::temp_dir().join(format!("spacecollab-lock-test-{}", std::process::id()));
        let reindexer = Reindexer::new(&dir, &dir, 1);
        let ticket = reindexer.try_start("alice").unwrap();
        let other = Reindexer::new(&dir, &dir, 1);
        let refused = other.try_start("bob").unwrap_err();
        assert_eq!(
            refused.to_string(),
            "a reindex is already running (started by alice, 0% done)"
        );
        drop(ticket);
        assert!(other.try_start("bob").is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
