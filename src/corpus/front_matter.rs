//! Parses the metadata block at the top of a Markdown document: TOML between `+++`
//! lines or YAML between `---` lines, into one typed [`FrontMatter`].

use std::collections::BTreeMap;

use serde::Deserialize;

/// The metadata a document may declare. Every key is optional when loading; the
/// corpus check (`check-corpus`) decides which ones a curated corpus must have.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct FrontMatter {
    /// Overrides the id derived from the file name.
    pub id: Option<String>,
    pub title: Option<String>,
    /// One or two sentences shown by `/source`.
    pub summary: Option<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub sources: Vec<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub agencies: Vec<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub tags: Vec<String>,
    /// When a person last checked the facts.
    pub reviewed: Option<String>,
    /// When the document was written or published.
    pub date: Option<String>,
    /// Keys this program does not know, kept so that `check-corpus` can name them.
    #[serde(flatten)]
    pub unknown: BTreeMap<String, serde_json::Value>,
}

/// Where the front matter was found, and what follows it.
#[derive(Debug)]
pub struct Split<'a> {
    pub front_matter: FrontMatter,
    pub body: &'a str,
    /// 1-based line number at which the body starts.
    pub body_line: usize,
}

/// A front matter problem, with the 1-based line of the file it concerns.
#[derive(Debug, Clone, PartialEq)]
pub struct FrontMatterError {
    pub line: usize,
    pub message: String,
}

/// Separates front matter from the body. A document without front matter gets an empty one.
///
/// # Errors
/// When the block is never closed or its contents are not valid TOML/YAML of the
/// expected shape; the error carries the line within the whole file.
pub fn split(text: &str) -> Result<Split<'_>, FrontMatterError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first_line = text.lines().next().unwrap_or("").trim_end();
    let fence = match first_line {
        "+++" => "+++",
        "---" => "---",
        _ => {
            return Ok(Split {
                front_matter: FrontMatter::default(),
                body: text,
                body_line: 1,
            })
        }
    };

    // Find the closing fence, tracking byte offsets so the body is borrowed, not copied.
    let mut offset = text.find('\n').map_or(text.len(), |i| i + 1);
    let block_start = offset;
    let mut line = 2;
    loop {
        if offset >= text.len() {
            return Err(FrontMatterError {
                line: 1,
                message: format!(
                    "the front matter opened with `{fence}` on line 1 is never closed"
                ),
            });
        }
        let end = text[offset..]
            .find('\n')
            .map_or(text.len(), |i| offset + i + 1);
        if text[offset..end].trim_end() == fence {
            let block = &text[block_start..offset];
            let front_matter = if fence == "+++" {
                parse_toml(block)
            } else {
                parse_yaml(block)
            }
            .map_err(|(relative_line, message)| FrontMatterError {
                line: relative_line + 1,
                message,
            })?;
            return Ok(Split {
                front_matter,
                body: &text[end..],
                body_line: line + 1,
            });
        }
        offset = end;
        line += 1;
    }
}

/// Parses TOML; errors carry the 1-based line within the block.
fn parse_toml(block: &str) -> Result<FrontMatter, (usize, String)> {
    let table: toml::Table = toml::from_str(block).map_err(|error| {
        let line = error
            .span()
            .map_or(1, |span| block[..span.start].matches('\n').count() + 1);
        (line, error.message().to_string())
    })?;
    let json = toml_to_json(toml::Value::Table(table));
    from_json(json)
}

/// Parses YAML; errors carry the 1-based line within the block.
fn parse_yaml(block: &str) -> Result<FrontMatter, (usize, String)> {
    if block.trim().is_empty() {
        return Ok(FrontMatter::default());
    }
    let value: yaml_serde::Value = yaml_serde::from_str(block).map_err(|error| {
        let line = error.location().map_or(1, |l| l.line());
        let message = error.to_string();
        // yaml_serde appends " at line N column M"; we report the file line ourselves.
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_string();
        (line, message)
    })?;
    let json = serde_json::to_value(value).map_err(|error| (1, error.to_string()))?;
    from_json(json)
}

fn from_json(json: serde_json::Value) -> Result<FrontMatter, (usize, String)> {
    if !json.is_object() {
        return Err((
            1,
            "front matter must be a table of keys and values".to_string(),
        ));
    }
    serde_json::from_value(json).map_err(|error| (1, error.to_string()))
}

/// TOML dates become plain strings, so `reviewed = 2026-11-27` and
/// `reviewed: 2026-11-27` mean the same thing.
fn toml_to_json(value: toml::Value) -> serde_json::Value {
    match value {
        toml::Value::String(s) => serde_json::Value::String(s),
        toml::Value::Integer(i) => i.into(),
        toml::Value::Float(f) => f.into(),
        toml::Value::Boolean(b) => b.into(),
        toml::Value::Datetime(d) => serde_json::Value::String(d.to_string()),
        toml::Value::Array(items) => items.into_iter().map(toml_to_json).collect(),
        toml::Value::Table(table) => table
            .into_iter()
            .map(|(k, v)| (k, toml_to_json(v)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
    }
}

/// Accepts `tags: iss` as well as `tags: [iss, moon]`; numbers and dates become strings.
fn one_or_many<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(serde_json::Value),
    }
    let OneOrMany::One(value) = OneOrMany::deserialize(deserializer)?;
    let scalar = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Ok(s.clone()),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected a string or a list of strings, found {other}"
        ))),
    };
    match &value {
        serde_json::Value::Null => Ok(Vec::new()),
        serde_json::Value::Array(items) => items.iter().map(scalar).collect(),
        other => scalar(other).map(|s| vec![s]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_front_matter_is_parsed() {
        let text = "---\ntitle: \"Kibo\"\nsources:\n  - https://jaxa.jp/\ntags: [iss, japan]\nreviewed: 2026-11-27\n---\n## Body\nText.\n";
        let split = split(text).unwrap();
        assert_eq!(split.front_matter.title.as_deref(), Some("Kibo"));
        assert_eq!(split.front_matter.sources, vec!["https://jaxa.jp/"]);
        assert_eq!(split.front_matter.tags, vec!["iss", "japan"]);
        assert_eq!(split.front_matter.reviewed.as_deref(), Some("2026-11-27"));
        assert_eq!(split.body, "## Body\nText.\n");
        assert_eq!(split.body_line, 8);
    }

    #[test]
    fn toml_front_matter_is_parsed_with_dates_as_strings() {
        let text = "+++\ntitle = \"Columbus\"\ntags = \"iss\"\nreviewed = 2026-11-27\n+++\nBody.";
        let split = split(text).unwrap();
        assert_eq!(split.front_matter.title.as_deref(), Some("Columbus"));
        assert_eq!(split.front_matter.tags, vec!["iss"]);
        assert_eq!(split.front_matter.reviewed.as_deref(), Some("2026-11-27"));
        assert_eq!(split.body, "Body.");
    }

    #[test]
    fn no_front_matter_means_the_whole_text_is_body() {
        let split = split("# Title\n\nText").unwrap();
        assert_eq!(split.front_matter, FrontMatter::default());
        assert_eq!(split.body_line, 1);
    }

    #[test]
    fn unknown_keys_are_kept_for_the_corpus_check() {
        let split = split("---\ntitel: Oops\n---\nBody").unwrap();
        assert!(split.front_matter.unknown.contains_key("titel"));
    }

    #[test]
    fn an_unclosed_block_is_an_error_on_line_one() {
        let error = split("---\ntitle: x\nbody text\n").unwrap_err();
        assert_eq!(error.line, 1);
        assert!(error.message.contains("never closed"));
    }

    #[test]
    fn yaml_errors_name_the_line_in_the_file() {
        let error = split("---\ntitle: ok\ntags: [unclosed\n---\nBody").unwrap_err();
        assert!(error.line >= 3, "line {}", error.line);
    }

    #[test]
    fn toml_errors_name_the_line_in_the_file() {
        let error = split("+++\ntitle = \"ok\"\ntags = = 3\n+++\nBody").unwrap_err();
        assert_eq!(error.line, 3);
    }

    #[test]
    fn a_wrong_type_is_an_error() {
        let error = split("---\ntitle: [1, 2]\n---\nBody").unwrap_err();
        assert!(
            error.message.contains("title") || error.message.contains("string"),
            "{}",
            error.message
        );
    }
}
