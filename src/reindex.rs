//! Rebuilding the index from the corpus: loads the documents, builds a new index
//! generation, and reports what happened. Used by `spacecollab index`, by the first
//! `ask` on a fresh machine, and by `/reindex`.

use std::path::Path;

use crate::corpus::{self, CorpusError};
use crate::index::{self, IndexError};

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
}

/// What a reindex did.
#[derive(Debug, Default)]
pub struct Report {
    pub documents: usize,
    pub passages: usize,
    pub skipped: Vec<CorpusError>,
    pub bytes: u64,
    pub seconds: f64,
}

/// Progress of a reindex, for bars and status messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading files: (done, total).
    Reading(usize, usize),
    /// Writing documents to the index: (done, total).
    Indexing(usize, usize),
}

/// Loads the corpus at `corpus_path` and builds a complete index under `index_path`.
///
/// # Errors
/// See [`ReindexError`]; on any error the index in service is unchanged.
pub fn rebuild(
    corpus_path: &Path,
    index_path: &Path,
    threads: usize,
    mut progress: impl FnMut(Stage),
) -> Result<Report, ReindexError> {
    let started = std::time::Instant::now();
    let corpus = corpus::load(corpus_path, |done, total| {
        progress(Stage::Reading(done, total))
    })?;
    if corpus.documents.is_empty() {
        return Err(ReindexError::NothingLoaded {
            path: corpus_path.display().to_string(),
        });
    }
    let built = index::build(index_path, &corpus, threads, |done, total| {
        progress(Stage::Indexing(done, total))
    })?;
    Ok(Report {
        documents: built.documents,
        passages: built.passages,
        skipped: corpus.skipped,
        bytes: corpus.bytes,
        seconds: started.elapsed().as_secs_f64(),
    })
}
