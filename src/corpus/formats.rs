//! Turns the bytes of one corpus file into documents, one reader per format.
//! Each reader reports problems as [`CorpusError`]s naming the file and line.

use std::path::Path;

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use scraper::{ElementRef, Html, Node};

use super::front_matter::{self, FrontMatter};
use super::split::collapse_whitespace;
use super::{CorpusError, Document, Format, Section};

/// The documents one file yielded and the problems that kept parts of it out.
#[derive(Debug, Default)]
pub struct Loaded {
    pub documents: Vec<Document>,
    pub errors: Vec<CorpusError>,
}

impl Loaded {
    fn one(result: Result<Document, CorpusError>) -> Loaded {
        match result {
            Ok(document) => Loaded {
                documents: vec![document],
                errors: Vec::new(),
            },
            Err(error) => Loaded {
                documents: Vec::new(),
                errors: vec![error],
            },
        }
    }
}

/// Parses one file, choosing the reader by extension. `path` is relative to the corpus root.
pub fn parse_file(path: &Path, bytes: &[u8]) -> Loaded {
    let display = path.display().to_string();
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => {
            let line = bytes[..error.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            return Loaded::one(Err(CorpusError::InvalidUtf8 {
                path: display,
                line,
            }));
        }
    };
    let id = document_id(path);
    match Format::of(path) {
        Some(Format::Markdown) => Loaded::one(parse_markdown(&display, id, text)),
        Some(Format::PlainText) => Loaded::one(parse_plain_text(&display, id, text)),
        Some(Format::Html) => Loaded::one(parse_html(&display, id, text)),
        Some(Format::JsonLines) => parse_json_lines(&display, text),
        None => Loaded::default(),
    }
}

/// The id of a file's document: its path without extension, with `/` separators.
fn document_id(path: &Path) -> String {
    let without_extension = path.with_extension("");
    without_extension
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// A readable title from a file name: `iss-kibo` becomes `Iss kibo`.
fn title_from_id(id: &str) -> String {
    let stem = id.rsplit('/').next().unwrap_or(id).replace(['-', '_'], " ");
    let mut chars = stem.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn build(
    path: &str,
    id: String,
    front_matter: FrontMatter,
    found_title: Option<String>,
    sections: Vec<Section>,
    body_line: usize,
) -> Result<Document, CorpusError> {
    let sections: Vec<Section> = sections
        .into_iter()
        .filter(|s| s.paragraphs.iter().any(|p| !p.trim().is_empty()))
        .collect();
    if sections.is_empty() {
        return Err(CorpusError::Empty {
            path: path.to_string(),
            line: body_line,
        });
    }
    let title = front_matter
        .title
        .filter(|t| !t.trim().is_empty())
        .or(found_title)
        .unwrap_or_else(|| title_from_id(&id));
    Ok(Document {
        id: front_matter.id.unwrap_or(id),
        title: collapse_whitespace(&title),
        summary: front_matter.summary,
        sources: front_matter.sources,
        agencies: front_matter.agencies,
        tags: front_matter.tags,
        reviewed: front_matter.reviewed.or(front_matter.date),
        path: path.to_string(),
        sections,
    })
}

/// Markdown: front matter, then headings start sections and blocks become paragraphs.
/// The first level-1 heading is the title when the front matter gives none.
fn parse_markdown(path: &str, id: String, text: &str) -> Result<Document, CorpusError> {
    let split = front_matter::split(text).map_err(|error| CorpusError::FrontMatter {
        path: path.to_string(),
        line: error.line,
        message: error.message,
    })?;
    let has_title = split.front_matter.title.is_some();

    let mut sections = vec![Section {
        heading: None,
        paragraphs: Vec::new(),
    }];
    let mut found_title = None;
    let mut heading: Option<(HeadingLevel, String)> = None;
    let mut block = String::new();
    // List items are gathered into one paragraph so that a list reads as one unit.
    let mut list_depth = 0usize;
    let mut skip_depth = 0usize;

    let flush = |block: &mut String, sections: &mut Vec<Section>| {
        let text = block.trim();
        if !text.is_empty() {
            sections
                .last_mut()
                .expect("one section")
                .paragraphs
                .push(text.to_string());
        }
        block.clear();
    };

    for event in Parser::new_ext(
        split.body,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
    ) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                flush(&mut block, &mut sections);
                heading = Some((level, String::new()));
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, text)) = heading.take() {
                    let text = collapse_whitespace(&text);
                    if level == HeadingLevel::H1 && !has_title && found_title.is_none() {
                        found_title = Some(text);
                    } else if !text.is_empty() {
                        sections.push(Section {
                            heading: Some(text),
                            paragraphs: Vec::new(),
                        });
                    }
                }
            }
            Event::Start(Tag::Image { .. } | Tag::HtmlBlock | Tag::MetadataBlock(_)) => {
                skip_depth += 1
            }
            Event::End(TagEnd::Image | TagEnd::HtmlBlock | TagEnd::MetadataBlock(_)) => {
                skip_depth = skip_depth.saturating_sub(1)
            }
            Event::Start(Tag::List(_)) => {
                if list_depth == 0 {
                    flush(&mut block, &mut sections);
                }
                list_depth += 1;
            }
            Event::End(TagEnd::List(_)) => {
                list_depth = list_depth.saturating_sub(1);
                if list_depth == 0 {
                    flush(&mut block, &mut sections);
                }
            }
            Event::Start(Tag::Item) => {
                if !block.is_empty() {
                    block.push('\n');
                }
                block.push_str("• ");
            }
            Event::End(
                TagEnd::Paragraph | TagEnd::BlockQuote(_) | TagEnd::CodeBlock | TagEnd::Table,
            ) if list_depth == 0 => flush(&mut block, &mut sections),
            Event::End(TagEnd::TableCell) => block.push_str(" | "),
            Event::End(TagEnd::TableRow | TagEnd::TableHead) => block.push('\n'),
            Event::Text(text) | Event::Code(text) if skip_depth == 0 => match &mut heading {
                Some((_, heading_text)) => heading_text.push_str(&text),
                None => block.push_str(&text),
            },
            Event::SoftBreak | Event::HardBreak => match &mut heading {
                Some((_, heading_text)) => heading_text.push(' '),
                None => block.push(' '),
            },
            _ => {}
        }
    }
    flush(&mut block, &mut sections);
    build(
        path,
        id,
        split.front_matter,
        found_title,
        sections,
        split.body_line,
    )
}

/// Plain text: paragraphs are separated by blank lines. A short first line without
/// final punctuation is taken as the title.
fn parse_plain_text(path: &str, id: String, text: &str) -> Result<Document, CorpusError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut paragraphs: Vec<String> = text
        .split("\n\n")
        .flat_map(|chunk| chunk.split("\r\n\r\n"))
        .map(collapse_whitespace)
        .filter(|p| !p.is_empty())
        .collect();
    let mut title = None;
    if let Some(first) = paragraphs.first() {
        let looks_like_title = first.split_whitespace().count() <= 15
            && !first.ends_with(['.', '!', '?', ':', ';', ','])
            && paragraphs.len() > 1;
        if looks_like_title {
            title = Some(paragraphs.remove(0));
        }
    }
    let sections = vec![Section {
        heading: None,
        paragraphs,
    }];
    build(path, id, FrontMatter::default(), title, sections, 1)
}

/// Block elements whose text forms a paragraph.
const HTML_BLOCKS: &[&str] = &[
    "p",
    "li",
    "blockquote",
    "pre",
    "dd",
    "dt",
    "td",
    "th",
    "figcaption",
    "address",
    "summary",
];
/// Elements whose content is never text for readers.
const HTML_SKIPPED: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "head", "nav",
];

/// HTML: text only, scripts and styles dropped. `h1`–`h6` start sections; the page
/// `<title>` (or first `h1`) is the title.
fn parse_html(path: &str, id: String, text: &str) -> Result<Document, CorpusError> {
    let html = Html::parse_document(text);
    let page_title = html
        .root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
        .find(|e| e.value().name() == "title")
        .map(|e| collapse_whitespace(&e.text().collect::<String>()))
        .filter(|t| !t.is_empty());

    let mut walker = HtmlWalker {
        sections: vec![Section {
            heading: None,
            paragraphs: Vec::new(),
        }],
        first_h1: None,
        current: String::new(),
    };
    walker.visit(html.root_element());
    walker.flush();
    let title = page_title.or(walker.first_h1.clone());
    build(path, id, FrontMatter::default(), title, walker.sections, 1)
}

struct HtmlWalker {
    sections: Vec<Section>,
    first_h1: Option<String>,
    /// Loose text outside any block element, flushed at the next block boundary.
    current: String,
}

impl HtmlWalker {
    fn flush(&mut self) {
        let text = collapse_whitespace(&self.current);
        if !text.is_empty() {
            self.sections
                .last_mut()
                .expect("one section")
                .paragraphs
                .push(text);
        }
        self.current.clear();
    }

    fn visit(&mut self, element: ElementRef<'_>) {
        for child in element.children() {
            match child.value() {
                Node::Text(text) => self.current.push_str(text),
                Node::Element(e) => {
                    let Some(child) = ElementRef::wrap(child) else {
                        continue;
                    };
                    let name = e.name();
                    if HTML_SKIPPED.contains(&name) {
                        continue;
                    }
                    if matches!(name, "h1" | "h2" | "h3" | "h4" | "h5" | "h6") {
                        self.flush();
                        let heading = collapse_whitespace(&visible_text(child));
                        if heading.is_empty() {
                            continue;
                        }
                        if name == "h1" && self.first_h1.is_none() {
                            self.first_h1 = Some(heading.clone());
                        }
                        self.sections.push(Section {
                            heading: Some(heading),
                            paragraphs: Vec::new(),
                        });
                    } else if HTML_BLOCKS.contains(&name) && !has_block_inside(child) {
                        self.flush();
                        self.current = visible_text(child);
                        self.flush();
                    } else {
                        let is_block = matches!(
                            name,
                            "div"
                                | "section"
                                | "article"
                                | "main"
                                | "header"
                                | "footer"
                                | "ul"
                                | "ol"
                                | "table"
                                | "tr"
                                | "br"
                                | "hr"
                                | "body"
                                | "aside"
                                | "figure"
                        ) || HTML_BLOCKS.contains(&name);
                        if is_block {
                            self.flush();
                        }
                        self.visit(child);
                        if is_block {
                            self.flush();
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

fn has_block_inside(element: ElementRef<'_>) -> bool {
    element
        .descendants()
        .skip(1)
        .filter_map(ElementRef::wrap)
        .any(|e| {
            HTML_BLOCKS.contains(&e.value().name())
                || e.value().name().starts_with('h') && e.value().name().len() == 2
        })
}

/// Text of an element, leaving out scripts and styles nested in it.
fn visible_text(element: ElementRef<'_>) -> String {
    let mut text = String::new();
    for node in element.descendants() {
        if let Node::Text(t) = node.value() {
            let hidden = node
                .ancestors()
                .filter_map(ElementRef::wrap)
                .any(|a| HTML_SKIPPED.contains(&a.value().name()));
            if !hidden {
                text.push_str(t);
            }
        }
    }
    text
}

#[derive(serde::Deserialize)]
struct BeirRecord {
    #[serde(rename = "_id")]
    id: serde_json::Value,
    #[serde(default)]
    title: String,
    text: String,
}

/// BEIR JSON Lines: one `{"_id", "title", "text"}` document a line. A bad line is
/// reported with its number and the rest of the file still loads.
fn parse_json_lines(path: &str, text: &str) -> Loaded {
    let mut loaded = Loaded::default();
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let record: BeirRecord = match serde_json::from_str(line) {
            Ok(record) => record,
            Err(error) => {
                loaded.errors.push(CorpusError::JsonLine {
                    path: path.to_string(),
                    line: line_number,
                    message: error.to_string(),
                });
                continue;
            }
        };
        let id = match record.id {
            serde_json::Value::String(s) if !s.is_empty() => s,
            serde_json::Value::Number(n) => n.to_string(),
            _ => {
                loaded.errors.push(CorpusError::JsonLine {
                    path: path.to_string(),
                    line: line_number,
                    message: "`_id` must be a non-empty string or a number".to_string(),
                });
                continue;
            }
        };
        // Most records are one paragraph: a line break, looked for with `memchr`, is
        // checked for before the slower substring search for paragraph breaks.
        let pieces: Vec<&str> = if record.text.contains('\n') {
            record.text.split("\n\n").collect()
        } else {
            vec![&record.text]
        };
        let paragraphs: Vec<String> = pieces
            .into_iter()
            .map(collapse_whitespace)
            .filter(|p| !p.is_empty())
            .collect();
        let front_matter = FrontMatter {
            title: Some(record.title).filter(|t| !t.trim().is_empty()),
            ..FrontMatter::default()
        };
        let sections = vec![Section {
            heading: None,
            paragraphs,
        }];
        let location = format!("{path}:{line_number}");
        match build(&location, id, front_matter, None, sections, line_number) {
            Ok(document) => loaded.documents.push(document),
            Err(error) => loaded.errors.push(error),
        }
    }
    loaded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(name: &str, text: &str) -> Loaded {
        parse_file(Path::new(name), text.as_bytes())
    }

    #[test]
    fn markdown_headings_become_sections() {
        let text = "---\ntitle: Kibo\nsources: [https://example.org/kibo]\n---\nIntro text.\n\n## Modules\n\nThe pressurised module.\n\nThe exposed facility.\n\n## Assembly\n\n* one\n* two\n";
        let loaded = parse("iss/kibo.md", text);
        let doc = &loaded.documents[0];
        assert_eq!(doc.id, "iss/kibo");
        assert_eq!(doc.title, "Kibo");
        assert_eq!(doc.sections.len(), 3);
        assert_eq!(doc.sections[0].heading, None);
        assert_eq!(doc.sections[1].heading.as_deref(), Some("Modules"));
        assert_eq!(
            doc.sections[1].paragraphs,
            vec!["The pressurised module.", "The exposed facility."]
        );
        assert_eq!(doc.sections[2].paragraphs, vec!["• one\n• two"]);
        assert_eq!(doc.primary_source(), "https://example.org/kibo");
    }

    #[test]
    fn markdown_h1_is_the_title_without_front_matter() {
        let loaded = parse("a.md", "# The Title\n\nSome text here.");
        assert_eq!(loaded.documents[0].title, "The Title");
        assert_eq!(
            loaded.documents[0].sections[0].paragraphs,
            vec!["Some text here."]
        );
    }

    #[test]
    fn bad_front_matter_names_file_and_line() {
        let loaded = parse("bad.md", "---\ntitle: ok\ntags: [x\n---\nBody");
        assert!(loaded.documents.is_empty());
        let message = loaded.errors[0].to_string();
        // YAML notices the unclosed list where the block ends, on line 3 or 4.
        assert!(
            message.starts_with("bad.md:3: bad front matter")
                || message.starts_with("bad.md:4: bad front matter"),
            "{message}"
        );
    }

    #[test]
    fn an_empty_document_is_an_error() {
        let loaded = parse("empty.md", "---\ntitle: Nothing\n---\n\n## Heading only\n");
        assert_eq!(
            loaded.errors[0].to_string(),
            "empty.md:4: the document has no text"
        );
    }

    #[test]
    fn invalid_utf8_names_the_line() {
        let loaded = parse_file(Path::new("x.txt"), b"fine\nstill fine\nbad \xff byte");
        assert_eq!(
            loaded.errors[0].to_string(),
            "x.txt:3: the file is not valid UTF-8 text"
        );
    }

    #[test]
    fn plain_text_takes_a_short_first_line_as_title() {
        let loaded = parse(
            "essay.txt",
            "The Power of Unity\n\nFirst paragraph.\n\nSecond one.",
        );
        let doc = &loaded.documents[0];
        assert_eq!(doc.title, "The Power of Unity");
        assert_eq!(doc.sections[0].paragraphs.len(), 2);
    }

    #[test]
    fn html_drops_scripts_and_styles() {
        let html = "<html><head><title>Page</title><style>p{color:red}</style></head><body>\
            <script>alert('x')</script><h2>Part</h2><p>Visible <b>text</b>.</p><div>Loose words</div></body></html>";
        let doc = &parse("page.html", html).documents[0];
        assert_eq!(doc.title, "Page");
        let all: String = doc
            .sections
            .iter()
            .flat_map(|s| s.paragraphs.clone())
            .collect::<Vec<_>>()
            .join("|");
        assert_eq!(all, "Visible text.|Loose words");
        assert_eq!(
            doc.sections.last().unwrap().heading.as_deref(),
            Some("Part")
        );
    }

    #[test]
    fn json_lines_skip_bad_lines_and_keep_the_rest() {
        let text = "{\"_id\": \"1\", \"title\": \"One\", \"text\": \"First.\"}\nnot json\n{\"_id\": 3, \"text\": \"Third.\"}\n";
        let loaded = parse("set.jsonl", text);
        assert_eq!(loaded.documents.len(), 2);
        assert_eq!(loaded.documents[1].id, "3");
        assert!(loaded.errors[0]
            .to_string()
            .starts_with("set.jsonl:2: bad JSON Lines record"));
    }
}
