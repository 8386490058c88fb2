//! The corpus: reads documents from files (Markdown, plain text, HTML, BEIR JSON Lines)
//! and turns them into passages. Knows nothing of indexes or Discord.

mod check;
mod formats;
pub mod front_matter;
pub mod split;
pub mod synonyms;

use std::collections::hash_map::{Entry, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use check::{check_corpus, Problem};
pub use synonyms::{Synonyms, SYNONYMS_FILE};

/// A problem with one file (or one line of a JSON Lines file) that kept it out of the corpus.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CorpusError {
    /// The file or folder could not be read at all.
    #[error("{path}: cannot be read: {message}")]
    Unreadable { path: String, message: String },
    /// The bytes are not UTF-8; `line` is where the first bad byte is.
    #[error("{path}:{line}: the file is not valid UTF-8 text")]
    InvalidUtf8 { path: String, line: usize },
    /// The front matter block is malformed.
    #[error("{path}:{line}: bad front matter: {message}")]
    FrontMatter {
        path: String,
        line: usize,
        message: String,
    },
    /// A JSON Lines record is not a `{"_id", "title", "text"}` object.
    #[error("{path}:{line}: bad JSON Lines record: {message}")]
    JsonLine {
        path: String,
        line: usize,
        message: String,
    },
    /// Another document already has this id.
    #[error("{path}: document id `{id}` is already used by {first}")]
    DuplicateId {
        path: String,
        id: String,
        first: String,
    },
    /// The document has no text once markup and metadata are removed.
    #[error("{path}:{line}: the document has no text")]
    Empty { path: String, line: usize },
}

/// One document of the corpus, already split into sections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// Stable id: the file's path below the corpus root without extension, or the BEIR `_id`.
    pub id: String,
    pub title: String,
    pub summary: Option<String>,
    pub sources: Vec<String>,
    pub agencies: Vec<String>,
    pub tags: Vec<String>,
    pub reviewed: Option<String>,
    /// The file the document came from, relative to the corpus root where possible.
    pub path: String,
    pub sections: Vec<Section>,
}

/// A heading and the paragraphs under it (the heading is `None` before the first one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    pub heading: Option<String>,
    pub paragraphs: Vec<String>,
}

/// A piece of a document that can be shown on its own as an answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Passage {
    pub doc_id: String,
    pub title: String,
    /// The heading the passage falls under; empty when it has none.
    pub section: String,
    /// 0-based order of the passage within its document.
    pub position: usize,
    /// The document's first source URL, or its file when it names none.
    pub source: String,
    pub text: String,
    pub tags: Vec<String>,
}

impl Document {
    /// Where a reader can check this document: its first source URL, else its file.
    pub fn primary_source(&self) -> &str {
        self.sources
            .first()
            .map_or(self.path.as_str(), String::as_str)
    }

    /// Splits the document into passages of about 60–250 words along its sections.
    pub fn passages(&self) -> Vec<Passage> {
        let mut passages = Vec::new();
        for section in &self.sections {
            for text in split::pack_paragraphs(&section.paragraphs) {
                passages.push(Passage {
                    doc_id: self.id.clone(),
                    title: self.title.clone(),
                    section: section.heading.clone().unwrap_or_default(),
                    position: passages.len(),
                    source: self.primary_source().to_string(),
                    text,
                    tags: self.tags.clone(),
                });
            }
        }
        passages
    }

    /// A digest of everything that reaches the index, so that a reindex can tell
    /// changed documents from unchanged ones.
    pub fn content_hash(&self) -> String {
        let bytes = serde_json::to_vec(self).expect("documents always serialize");
        let digest = Sha256::digest(bytes);
        digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
    }

    /// Number of words of text in the document.
    pub fn word_count(&self) -> usize {
        self.sections
            .iter()
            .flat_map(|s| &s.paragraphs)
            .map(|p| split::word_count(p))
            .sum()
    }
}

/// What loading a corpus produced: the documents, and the files or lines left out.
#[derive(Debug, Default)]
pub struct Corpus {
    pub documents: Vec<Document>,
    pub skipped: Vec<CorpusError>,
    /// Synonym groups from the corpus's `synonyms.toml`, if it has one.
    pub synonyms: Synonyms,
    /// Bytes of text read, for throughput figures.
    pub bytes: u64,
}

/// The kinds of file the loader reads; anything else in the corpus folder is ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    PlainText,
    Html,
    JsonLines,
}

impl Format {
    /// The format a file's extension announces, if it is one we read.
    pub fn of(path: &Path) -> Option<Format> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "md" | "markdown" => Some(Format::Markdown),
            "txt" | "text" => Some(Format::PlainText),
            "html" | "htm" => Some(Format::Html),
            "jsonl" => Some(Format::JsonLines),
            _ => None,
        }
    }
}

/// Lists the files a corpus path holds, sorted, skipping hidden files and folders.
///
/// # Errors
/// When the path itself does not exist or cannot be listed.
pub fn corpus_files(root: &Path) -> Result<Vec<PathBuf>, CorpusError> {
    let unreadable = |path: &Path, error: std::io::Error| CorpusError::Unreadable {
        path: path.display().to_string(),
        message: error.to_string(),
    };
    let metadata = std::fs::metadata(root).map_err(|e| unreadable(root, e))?;
    if metadata.is_file() {
        return Ok(vec![root.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).map_err(|e| unreadable(&folder, e))? {
            let entry = entry.map_err(|e| unreadable(&folder, e))?;
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if path.is_dir() {
                folders.push(path);
            } else if Format::of(&path).is_some() {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Loads every document under `root` (a folder, or a single file). Files that cannot
/// be read are reported in [`Corpus::skipped`] and do not stop the others.
///
/// `progress` is called after each file with (files done, files in all).
///
/// # Errors
/// Only when `root` itself cannot be read.
pub fn load(root: &Path, mut progress: impl FnMut(usize, usize)) -> Result<Corpus, CorpusError> {
    let files = corpus_files(root)?;
    let mut corpus = Corpus::default();
    // A broken synonyms file costs the synonyms, not the corpus.
    match Synonyms::load_beside(root) {
        Ok(synonyms) => corpus.synonyms = synonyms,
        Err(error) => corpus.skipped.push(error),
    }
    let mut seen: HashMap<String, String> = HashMap::new();
    let base = if root.is_dir() {
        root
    } else {
        root.parent().unwrap_or(root)
    };
    for (done, path) in files.iter().enumerate() {
        let relative = path.strip_prefix(base).unwrap_or(path);
        match std::fs::read(path) {
            Ok(bytes) => {
                corpus.bytes += bytes.len() as u64;
                let loaded = formats::parse_file(relative, &bytes);
                corpus.skipped.extend(loaded.errors);
                for document in loaded.documents {
                    match seen.entry(document.id.clone()) {
                        Entry::Occupied(first) => corpus.skipped.push(CorpusError::DuplicateId {
                            path: document.path,
                            id: document.id,
                            first: first.get().clone(),
                        }),
                        Entry::Vacant(slot) => {
                            slot.insert(document.path.clone());
                            corpus.documents.push(document);
                        }
                    }
                }
            }
            Err(error) => corpus.skipped.push(CorpusError::Unreadable {
                path: relative.display().to_string(),
                message: error.to_string(),
            }),
        }
        progress(done + 1, files.len());
    }
    Ok(corpus)
}

/// Loads a single file's documents, for tools that work file by file.
pub fn parse_file(relative_path: &Path, bytes: &[u8]) -> (Vec<Document>, Vec<CorpusError>) {
    let loaded = formats::parse_file(relative_path, bytes);
    (loaded.documents, loaded.errors)
}
