//! The corpus's synonym and acronym groups (`synonyms.toml`), which the answer engine
//! uses to widen a question: "ISS" also searches for "International Space Station".

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::CorpusError;

/// File name of the synonym groups inside a corpus folder.
pub const SYNONYMS_FILE: &str = "synonyms.toml";

/// Groups of terms (words or phrases) that mean the same thing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Synonyms {
    #[serde(default)]
    pub groups: Vec<Vec<String>>,
}

impl Synonyms {
    /// Parses the TOML text of a synonyms file; `path` is only used in errors.
    ///
    /// # Errors
    /// When the text is not TOML of the form `groups = [["a", "b"], ...]`.
    pub fn parse(path: &str, text: &str) -> Result<Synonyms, CorpusError> {
        let synonyms: Synonyms =
            toml::from_str(text).map_err(|error| CorpusError::FrontMatter {
                path: path.to_string(),
                line: error
                    .span()
                    .map_or(1, |span| text[..span.start].matches('\n').count() + 1),
                message: error.message().to_string(),
            })?;
        let groups = synonyms
            .groups
            .into_iter()
            .map(|group| {
                group
                    .into_iter()
                    .map(|term| term.trim().to_string())
                    .filter(|term| !term.is_empty())
                    .collect::<Vec<_>>()
            })
            .filter(|group| group.len() >= 2)
            .collect();
        Ok(Synonyms { groups })
    }

    /// Reads `synonyms.toml` from a corpus folder; a corpus that is a single file, or a
    /// folder without the file, has no synonyms.
    ///
    /// # Errors
    /// When the file exists but cannot be read or parsed.
    pub fn load_beside(corpus_root: &Path) -> Result<Synonyms, CorpusError> {
        let path = corpus_root.join(SYNONYMS_FILE);
        if !corpus_root.is_dir() || !path.exists() {
            return Ok(Synonyms::default());
        }
        let text = std::fs::read_to_string(&path).map_err(|error| CorpusError::Unreadable {
            path: path.display().to_string(),
            message: error.to_string(),
        })?;
        Synonyms::parse(&path.display().to_string(), &text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_parsed_and_trimmed() {
        let synonyms = Synonyms::parse(
            "s.toml",
            "groups = [[\"ISS\", \" International Space Station \"], [\"lonely\"]]",
        )
        .unwrap();
        assert_eq!(
            synonyms.groups,
            vec![vec![
                "ISS".to_string(),
                "International Space Station".to_string()
            ]]
        );
    }

    #[test]
    fn unknown_keys_are_errors_with_a_line() {
        let error = Synonyms::parse("s.toml", "groups = []\ngroup = []\n").unwrap_err();
        assert!(error.to_string().starts_with("s.toml:2:"), "{error}");
    }
}
