//! `check-corpus`: the stricter rules a curated corpus must follow beyond being
//! loadable — complete front matter, well-formed source URLs, no near-duplicates.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use super::front_matter;
use super::{corpus_files, split, CorpusError, Format};

/// Front matter keys every curated document must fill in.
const REQUIRED_KEYS: &[&str] = &["title", "sources", "agencies", "tags", "reviewed"];
/// Documents longer than this must be divided by `##` headings.
const SHORT_DOCUMENT_WORDS: usize = 400;
/// Share of word 5-grams two documents may have in common before they count as near-duplicates.
const NEAR_DUPLICATE_SIMILARITY: f64 = 0.5;

/// One rule a corpus file breaks.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub path: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path, self.line, self.message)
    }
}

impl From<CorpusError> for Problem {
    fn from(error: CorpusError) -> Problem {
        // Load errors already read "path:line: message"; split them back apart.
        let text = error.to_string();
        let (location, message) = text.split_once(": ").unwrap_or((&text, ""));
        let (path, line) = match location.rsplit_once(':') {
            Some((path, line)) if line.parse::<usize>().is_ok() => {
                (path.to_string(), line.parse().unwrap_or(1))
            }
            _ => (location.to_string(), 1),
        };
        Problem {
            path,
            line,
            message: message.to_string(),
        }
    }
}

/// Checks every file of the corpus at `root` and returns the problems found, sorted by file.
///
/// # Errors
/// Only when `root` itself cannot be read.
pub fn check_corpus(root: &Path) -> Result<Vec<Problem>, CorpusError> {
    let corpus = super::load(root, |_, _| {})?;
    let mut problems: Vec<Problem> = corpus.skipped.iter().cloned().map(Problem::from).collect();
    let base = if root.is_dir() {
        root
    } else {
        root.parent().unwrap_or(root)
    };

    for path in corpus_files(root)? {
        let relative = path
            .strip_prefix(base)
            .unwrap_or(&path)
            .display()
            .to_string();
        match Format::of(&path) {
            // Files the loader does not read are already among its skipped files.
            None => continue,
            Some(Format::Markdown) => {}
            Some(_) => {
                problems.push(Problem {
                    path: relative,
                    line: 1,
                    message: "curated documents must be Markdown with front matter".to_string(),
                });
                continue;
            }
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        // Files that failed to load are already reported above.
        let Ok(split) = front_matter::split(&text) else {
            continue;
        };
        let meta = split.front_matter;
        let problem = |key: &str, message: String| Problem {
            path: relative.clone(),
            line: line_of_key(&text, key),
            message,
        };
        let present = |key: &str| match key {
            "title" => meta.title.as_ref().is_some_and(|t| !t.trim().is_empty()),
            "sources" => !meta.sources.is_empty(),
            "agencies" => !meta.agencies.is_empty(),
            "tags" => !meta.tags.is_empty(),
            "reviewed" => meta.reviewed.is_some(),
            _ => true,
        };
        for key in REQUIRED_KEYS.iter().filter(|key| !present(key)) {
            problems.push(problem(key, format!("front matter lacks `{key}`")));
        }
        for key in meta.unknown.keys() {
            problems.push(problem(key, format!("unknown front matter key `{key}`")));
        }
        if let Some(date) = &meta.reviewed {
            if !is_iso_date(date) {
                problems.push(problem(
                    "reviewed",
                    format!("`reviewed` must be a date like 2026-11-27, not `{date}`"),
                ));
            }
        }
        for source in &meta.sources {
            if let Err(reason) = check_url(source) {
                problems.push(Problem {
                    path: relative.clone(),
                    line: line_of_text(&text, source)
                        .unwrap_or_else(|| line_of_key(&text, "sources")),
                    message: format!("source `{source}` is not a well-formed URL: {reason}"),
                });
            }
        }
        let long = split::word_count(split.body) > SHORT_DOCUMENT_WORDS;
        if long
            && !split
                .body
                .lines()
                .any(|l| l.trim_start().starts_with("## "))
        {
            problems.push(Problem {
                path: relative.clone(),
                line: split.body_line,
                message: "a document of over 400 words needs `##` section headings".to_string(),
            });
        }
    }

    let shingles: Vec<HashSet<u64>> = corpus.documents.iter().map(word_shingles).collect();
    for i in 0..corpus.documents.len() {
        for j in (i + 1)..corpus.documents.len() {
            let similarity = dice_similarity(&shingles[i], &shingles[j]);
            if similarity >= NEAR_DUPLICATE_SIMILARITY {
                problems.push(Problem {
                    path: corpus.documents[j].path.clone(),
                    line: 1,
                    message: format!(
                        "near-duplicate of {} ({:.0}% of word sequences shared)",
                        corpus.documents[i].path,
                        similarity * 100.0
                    ),
                });
            }
        }
    }
    problems.sort();
    problems.dedup();
    Ok(problems)
}

fn line_of_key(text: &str, key: &str) -> usize {
    text.lines()
        .position(|line| {
            line.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with([':', '=']))
        })
        .map_or(1, |i| i + 1)
}

fn line_of_text(text: &str, needle: &str) -> Option<usize> {
    text.lines()
        .position(|line| line.contains(needle))
        .map(|i| i + 1)
}

/// A calendar date written as `YYYY-MM-DD`: the day must exist in its month.
fn is_iso_date(text: &str) -> bool {
    time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .is_ok()
}

/// Accepts absolute http(s) URLs with a dotted host name and no spaces.
fn check_url(text: &str) -> Result<(), String> {
    let url = url::Url::parse(text).map_err(|e| e.to_string())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("scheme `{}` is not http or https", url.scheme()));
    }
    match url.host_str() {
        Some(host) if host.contains('.') && !host.starts_with('.') && !host.ends_with('.') => {
            Ok(())
        }
        _ => Err("the host name is missing or incomplete".to_string()),
    }
}

fn word_shingles(document: &super::Document) -> HashSet<u64> {
    use std::hash::{Hash, Hasher};
    let words: Vec<String> = document
        .sections
        .iter()
        .flat_map(|s| &s.paragraphs)
        .flat_map(|p| p.split_whitespace())
        .map(|w| w.to_lowercase())
        .collect();
    words
        .windows(5)
        .map(|window| {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            window.hash(&mut hasher);
            hasher.finish()
        })
        .collect()
}

fn dice_similarity(a: &HashSet<u64>, b: &HashSet<u64>) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let shared = a.intersection(b).count() as f64;
    shared / (a.len() + b.len()) as f64 * 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        assert!(check_url("https://www.esa.int/Science_Exploration").is_ok());
        assert!(check_url("ftp://example.org").is_err());
        assert!(check_url("https://localhost/x").is_err());
        assert!(check_url("www.nasa.gov").is_err());
        assert!(check_url("https://exa mple.org").is_err());
    }

    #[test]
    fn dates_are_checked() {
        assert!(is_iso_date("2026-11-27"));
        assert!(!is_iso_date("2026-13-01"));
        assert!(!is_iso_date("27/11/2026"));
        // Regression: the day was only checked to be at most 31 in any month.
        assert!(!is_iso_date("2026-02-31"));
        assert!(!is_iso_date("2026-04-31"));
        assert!(!is_iso_date("2026-02-29"), "2026 is not a leap year");
        assert!(is_iso_date("2028-02-29"));
        assert!(!is_iso_date("2026-11-27T10:00"));
        assert!(!is_iso_date("26-11-27"));
    }

    #[test]
    fn load_errors_become_problems_with_lines() {
        let problem = Problem::from(CorpusError::Empty {
            path: "a/b.md".into(),
            line: 7,
        });
        assert_eq!(problem.to_string(), "a/b.md:7: the document has no text");
    }
}
