//! The corpus: reads documents from files (Markdown, plain text, HTML, PDF, BEIR JSON
//! Lines) and turns them into passages. Knows nothing of indexes or Discord.

mod check;
mod formats;
pub mod front_matter;
mod html;
mod pdf;
pub mod split;
pub mod synonyms;
mod text;
mod title;

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
    /// The file's extension is not one the loader reads (nor one it passes over in silence).
    #[error(
        "{path}: the loader does not read {} (it reads {READ_EXTENSIONS})",
        kind_of_file(extension)
    )]
    Unsupported { path: String, extension: String },
    /// The file is larger than the loader reads for its format, to bound time and memory.
    #[error("{path}: the file is {} MB, more than the {} MB read for this format", megabytes(*.bytes), megabytes(*.limit))]
    TooLarge {
        path: String,
        bytes: u64,
        limit: u64,
    },
    /// The PDF asks for a password before its text can be read.
    #[error("{path}: the PDF is encrypted with a password, so its text cannot be read")]
    Encrypted { path: String },
    /// The PDF has pages but no text on them: a scan or images without a text layer.
    #[error(
        "{path}: the PDF has no text layer ({pages} page(s) of images or scans; run OCR first)"
    )]
    NoTextLayer { path: String, pages: usize },
    /// The PDF is corrupt, truncated or uses something its reader cannot handle.
    #[error("{path}: the PDF cannot be read: {message}")]
    Pdf { path: String, message: String },
    /// The file's structure is deeper or larger than can be read safely (nesting, loops).
    #[error("{path}: the file is too complex to read safely: {message}")]
    TooComplex { path: String, message: String },
    /// Reading the file took longer than the loader allows one file.
    #[error("{path}: reading the file took longer than {seconds} s, so it was abandoned")]
    TimedOut { path: String, seconds: u64 },
}

/// The extensions of the formats the loader reads, for error messages and the README.
pub const READ_EXTENSIONS: &str = ".md, .markdown, .txt, .text, .html, .htm, .pdf and .jsonl";

/// Extensions passed over in silence: images, styles, scripts and fonts that sit next
/// to a saved web page (its `_files` folder), and never hold a document's text.
const IGNORED_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "webp", "avif", "svg", "ico", "bmp", "tif", "tiff", "css", "js",
    "mjs", "map", "woff", "woff2", "ttf", "otf", "eot",
];

/// "`.docx` files", or "files without an extension".
fn kind_of_file(extension: &str) -> String {
    if extension.is_empty() {
        "files without an extension".to_string()
    } else {
        format!(".{extension} files")
    }
}

fn megabytes(bytes: u64) -> String {
    let megabytes = bytes as f64 / 1e6;
    if megabytes >= 10.0 {
        format!("{megabytes:.0}")
    } else {
        format!("{megabytes:.1}")
    }
}

impl CorpusError {
    /// The file (or `file:line`) the problem is about, as the message names it.
    pub fn path(&self) -> &str {
        match self {
            CorpusError::Unreadable { path, .. }
            | CorpusError::InvalidUtf8 { path, .. }
            | CorpusError::FrontMatter { path, .. }
            | CorpusError::JsonLine { path, .. }
            | CorpusError::DuplicateId { path, .. }
            | CorpusError::Empty { path, .. }
            | CorpusError::Unsupported { path, .. }
            | CorpusError::TooLarge { path, .. }
            | CorpusError::Encrypted { path }
            | CorpusError::NoTextLayer { path, .. }
            | CorpusError::Pdf { path, .. }
            | CorpusError::TooComplex { path, .. }
            | CorpusError::TimedOut { path, .. } => path,
        }
    }
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
    /// For paged formats (PDF): the 1-based page each paragraph starts on, one entry per
    /// paragraph; empty for the others. Left out of the serialized form when empty, so
    /// that the content hash of documents without pages is what it was before pages existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pages: Vec<u32>,
}

impl Section {
    /// A section of unpaged text.
    pub fn new(heading: Option<String>, paragraphs: Vec<String>) -> Section {
        Section {
            heading,
            paragraphs,
            pages: Vec::new(),
        }
    }

    /// The page a paragraph starts on, when the document has pages.
    pub fn page_of(&self, paragraph: usize) -> Option<u32> {
        self.pages.get(paragraph).copied()
    }
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
    /// The document's first source URL, or its file when it names none; for a paged
    /// document, with the page the passage starts on (`report.pdf#page=12`).
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
            for (text, first_paragraph) in split::pack_paragraphs_with_starts(&section.paragraphs) {
                let source = match section.page_of(first_paragraph) {
                    Some(page) => format!("{}#page={page}", self.primary_source()),
                    None => self.primary_source().to_string(),
                };
                passages.push(Passage {
                    doc_id: self.id.clone(),
                    title: self.title.clone(),
                    section: section.heading.clone().unwrap_or_default(),
                    position: passages.len(),
                    source,
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

/// The kinds of file the loader reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    Markdown,
    PlainText,
    Html,
    Pdf,
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
            "pdf" => Some(Format::Pdf),
            "jsonl" => Some(Format::JsonLines),
            _ => None,
        }
    }

    /// The format of a document's or a problem's path, which for JSON Lines ends in
    /// `:line`.
    pub fn of_location(location: &str) -> Option<Format> {
        let file = match location.rsplit_once(':') {
            Some((file, line)) if !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit()) => {
                file
            }
            _ => location,
        };
        Format::of(Path::new(file))
    }

    /// The short name summaries use.
    pub fn name(self) -> &'static str {
        match self {
            Format::Markdown => "markdown",
            Format::PlainText => "text",
            Format::Html => "html",
            Format::Pdf => "pdf",
            Format::JsonLines => "jsonl",
        }
    }

    /// The largest file of this format the loader reads: beyond it, time and memory
    /// are no longer what a reindex should spend on one file. JSON Lines files are
    /// whole evaluation sets and have no limit.
    pub fn size_limit(self) -> u64 {
        const MB: u64 = 1_000_000;
        match self {
            Format::Markdown | Format::PlainText | Format::Html => 16 * MB,
            Format::Pdf => 64 * MB,
            Format::JsonLines => u64::MAX,
        }
    }
}

/// Whether the loader passes over a file in silence: hidden files, the synonyms file,
/// and the images, styles and scripts of saved web pages ([`IGNORED_EXTENSIONS`]).
fn is_ignored(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    if name.starts_with('.') || name == SYNONYMS_FILE {
        return true;
    }
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IGNORED_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Lists the files a corpus path holds, sorted: those the loader reads and those it will
/// report as unsupported. Hidden files and folders and the files of [`is_ignored`] are
/// left out.
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
            } else if !is_ignored(&path) {
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
        match read_within_limit(path, relative) {
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
            Err(error) => corpus.skipped.push(error),
        }
        progress(done + 1, files.len());
    }
    Ok(corpus)
}

/// Reads a file of a format the loader reads, if it is within its format's size limit;
/// the size is checked before anything is read.
fn read_within_limit(path: &Path, relative: &Path) -> Result<Vec<u8>, CorpusError> {
    let display = || relative.display().to_string();
    let Some(format) = Format::of(path) else {
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        return Err(CorpusError::Unsupported {
            path: display(),
            extension,
        });
    };
    let unreadable = |error: std::io::Error| CorpusError::Unreadable {
        path: display(),
        message: error.to_string(),
    };
    let bytes = std::fs::metadata(path).map_err(unreadable)?.len();
    if bytes > format.size_limit() {
        return Err(CorpusError::TooLarge {
            path: display(),
            bytes,
            limit: format.size_limit(),
        });
    }
    std::fs::read(path).map_err(unreadable)
}

/// Loads a single file's documents, for tools that work file by file.
pub fn parse_file(relative_path: &Path, bytes: &[u8]) -> (Vec<Document>, Vec<CorpusError>) {
    let loaded = formats::parse_file(relative_path, bytes);
    (loaded.documents, loaded.errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/formats")
            .join(name)
    }

    /// A corpus of good files and every kind of bad one, built at test time.
    #[test]
    fn bad_files_are_skipped_and_the_rest_of_the_corpus_loads() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for name in [
            "mission-report.pdf",
            "artemis-accords.html",
            "iss-partners.txt",
        ] {
            std::fs::copy(fixture(name), root.join(name)).unwrap();
        }
        std::fs::copy(fixture("encrypted.pdf"), root.join("locked.pdf")).unwrap();
        // 100 MB, never read: the size is checked first.
        let huge = std::fs::File::create(root.join("huge.pdf")).unwrap();
        huge.set_len(100_000_000).unwrap();
        std::fs::write(root.join("nested.html"), "<div>".repeat(2_000_000)).unwrap();
        std::fs::write(root.join("truncated.pdf"), b"%PDF-1.5\n1 0 obj\n<< /Type").unwrap();
        std::fs::write(root.join("notes.docx"), b"PK\x03\x04").unwrap();
        std::fs::create_dir(root.join("page_files")).unwrap();
        std::fs::write(root.join("page_files/logo.png"), b"\x89PNG").unwrap();
        std::fs::write(root.join("page_files/site.css"), b"body {}").unwrap();
        std::fs::write(root.join(".draft.pdf"), b"hidden").unwrap();
        std::fs::write(root.join(SYNONYMS_FILE), "").unwrap();

        let corpus = load(root, |_, _| {}).unwrap();
        let mut titles: Vec<&str> = corpus.documents.iter().map(|d| d.title.as_str()).collect();
        titles.sort();
        assert_eq!(
            titles,
            vec![
                "ISS Partners",
                "Lunar Relay Partnership: Interim Report of the Joint Working Group",
                "The Artemis Accords and how nations join them",
            ]
        );
        let mut skipped: Vec<String> = corpus.skipped.iter().map(ToString::to_string).collect();
        skipped.sort();
        assert_eq!(skipped.len(), 5, "{skipped:#?}");
        assert_eq!(
            skipped[0],
            "huge.pdf: the file is 100 MB, more than the 64 MB read for this format"
        );
        assert_eq!(
            skipped[1],
            "locked.pdf: the PDF is encrypted with a password, so its text cannot be read"
        );
        assert!(skipped[2].starts_with("nested.html: the file is too complex to read safely"));
        assert!(skipped[3].starts_with("notes.docx: the loader does not read .docx files"));
        assert!(skipped[4].starts_with("truncated.pdf: the PDF cannot be read: "));
    }

    #[test]
    fn locations_name_their_format() {
        assert_eq!(Format::of_location("set.jsonl:12"), Some(Format::JsonLines));
        assert_eq!(Format::of_location("a/b.PDF"), Some(Format::Pdf));
        assert_eq!(Format::of_location("c.docx"), None);
    }
}
