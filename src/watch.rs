//! Keeps a running bot current: follows index generations written by other processes
//! (`spacecollab index`), and, when asked, reindexes a few seconds after corpus files
//! stop changing. Polling, not file-system events: it needs no extra dependency, works
//! on network and container file systems, and a corpus is small enough to stat often.

use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::answer::Engine;
use crate::corpus::{corpus_files, SYNONYMS_FILE};
use crate::reindex::{Reindexer, Report, Ticket};

/// How often the watchers look.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How long corpus files must stay unchanged before a reindex starts.
pub const QUIET_PERIOD: Duration = Duration::from_secs(3);

/// How often the watchers look, and how long corpus files must stay unchanged before a
/// reindex. The bot uses [`Timing::default`]; tests shorten both to run in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub poll: Duration,
    pub quiet: Duration,
}

impl Default for Timing {
    fn default() -> Timing {
        Timing {
            poll: POLL_INTERVAL,
            quiet: QUIET_PERIOD,
        }
    }
}

/// A digest of the names, sizes and modification times of the corpus files.
pub fn fingerprint(root: &Path) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let mut files = corpus_files(root).unwrap_or_default();
    files.push(root.join(SYNONYMS_FILE));
    for file in files {
        if let Ok(metadata) = std::fs::metadata(&file) {
            file.hash(&mut hasher);
            metadata.len().hash(&mut hasher);
            metadata.modified().ok().hash(&mut hasher);
        }
    }
    hasher.finish()
}

/// Switches `engine` to newer generations as they appear on disk, looking every `poll`,
/// until `stop` turns true.
pub async fn follow_index(engine: Arc<Engine>, poll: Duration, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = stop.changed() => return,
        }
        let engine = Arc::clone(&engine);
        let reloaded = tokio::task::spawn_blocking(move || engine.reload()).await;
        if let Ok(Err(error)) = reloaded {
            tracing::warn!(%error, "could not switch to the newest index");
        }
    }
}

/// Reindexes (incrementally) once the corpus has changed and then stayed quiet for
/// `timing.quiet`, until `stop` turns true. Returns how many reindexes it ran, failed
/// ones included, so that a test can tell one reindex per change from several.
pub async fn watch_corpus(
    reindexer: Arc<Reindexer>,
    engine: Arc<Engine>,
    corpus: std::path::PathBuf,
    timing: Timing,
    mut stop: watch::Receiver<bool>,
) -> usize {
    let mut indexed = fingerprint(&corpus);
    let mut seen = indexed;
    let mut changed_at = Instant::now();
    let mut reindexes = 0;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(timing.poll) => {}
            _ = stop.changed() => return reindexes,
        }
        let now = fingerprint(&corpus);
        if now != seen {
            seen = now;
            changed_at = Instant::now();
            continue;
        }
        if now == indexed || changed_at.elapsed() < timing.quiet {
            continue;
        }
        let ticket = match reindexer.try_start("the corpus watcher") {
            Ok(ticket) => ticket,
            Err(busy) => {
                tracing::info!(%busy, "corpus changed; will retry");
                continue;
            }
        };
        reindexes += 1;
        let outcome = reindex_and_switch(&reindexer, &engine, ticket, "watcher").await;
        match outcome {
            Ok(report) => {
                indexed = now;
                tracing::info!(
                    added = report.added.len(),
                    changed = report.changed.len(),
                    removed = report.removed.len(),
                    skipped = report.skipped.len(),
                    "corpus change indexed"
                );
            }
            Err(error) => {
                // Not retried until the files change again: the same input would fail the same way.
                indexed = now;
                tracing::error!(error = %format!("{error:#}"), "reindex after a corpus change failed; the previous index stays in service");
            }
        }
    }
}

/// Runs one reindex under `ticket` off the async runtime and switches `engine` to the
/// new generation, counting it in `spacecollab_reindexes_total` under `trigger`.
///
/// # Errors
/// When the reindex or the switch fails, or the task panics; the previous index then
/// stays in service.
pub async fn reindex_and_switch(
    reindexer: &Arc<Reindexer>,
    engine: &Arc<Engine>,
    ticket: Ticket,
    trigger: &'static str,
) -> anyhow::Result<Report> {
    let reindexer = Arc::clone(reindexer);
    let engine = Arc::clone(engine);
    let outcome = tokio::task::spawn_blocking(move || {
        let report = reindexer.run(ticket, false, |_| {})?;
        engine.reload()?;
        anyhow::Ok(report)
    })
    .await
    .map_err(anyhow::Error::from)
    .and_then(|outcome| outcome);
    let counted = if outcome.is_ok() { "done" } else { "failed" };
    metrics::counter!("spacecollab_reindexes_total", "trigger" => trigger, "outcome" => counted)
        .increment(1);
    outcome
}
