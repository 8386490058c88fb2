//! Turns the bytes of one corpus file into documents, one reader per format.
//! Each reader reports problems as [`CorpusError`]s naming the file and line.

use std::path::Path;

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use super::front_matter::{self, FrontMatter};
use super::pdf::PdfProblem;
use super::split::collapse_whitespace;
use super::{html, pdf, text, title, CorpusError, Document, Format, Section};

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
    let id = document_id(path);
    let format = Format::of(path);
    if format == Some(Format::Pdf) {
        return Loaded::one(parse_pdf(&display, id, bytes));
    }
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
    match format {
        Some(Format::Markdown) => Loaded::one(parse_markdown(&display, id, text)),
        Some(Format::PlainText) => Loaded::one(parse_plain_text(&display, id, text)),
        Some(Format::Html) => Loaded::one(parse_html(&display, id, text)),
        Some(Format::JsonLines) => parse_json_lines(&display, text),
        Some(Format::Pdf) => unreachable!("PDFs are read before the UTF-8 check"),
        None => Loaded::one(Err(CorpusError::Unsupported {
            path: display,
            extension: path
                .extension()
                .map(|e| e.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default(),
        })),
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

/// A title from a JSON Lines record's id: `doc-12` becomes `Doc 12`.
fn title_from_record_id(id: &str) -> String {
    let stem = id.replace(['-', '_'], " ");
    let mut chars = stem.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Assembles a document. Without a title from its front matter or its text, the document
/// is named after its file, spelled as `text` spells the file name's words.
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
        .or(found_title.filter(|t| !t.trim().is_empty()))
        .unwrap_or_else(|| {
            let text: Vec<&str> = sections
                .iter()
                .flat_map(|s| s.heading.iter().chain(&s.paragraphs))
                .map(String::as_str)
                .collect();
            title::from_file_name(&id, &text.join("\n"))
        });
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

    let mut sections = vec![Section::new(None, Vec::new())];
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
                        sections.push(Section::new(Some(text), Vec::new()));
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

/// Plain text: see [`text`]. Without a title line, the file name is the title.
fn parse_plain_text(path: &str, id: String, text: &str) -> Result<Document, CorpusError> {
    let parsed = text::parse(text);
    build(
        path,
        id,
        FrontMatter::default(),
        parsed.title,
        parsed.sections,
        1,
    )
}

/// HTML: see [`html`]. The canonical link, when the page has one, is the source.
fn parse_html(path: &str, id: String, text: &str) -> Result<Document, CorpusError> {
    let page = html::parse(text).map_err(|too_deep| CorpusError::TooComplex {
        path: path.to_string(),
        message: format!(
            "its elements nest {} deep, more than the {} read",
            too_deep.depth,
            html::MAX_NESTING
        ),
    })?;
    let front_matter = FrontMatter {
        sources: page.canonical.into_iter().collect(),
        ..FrontMatter::default()
    };
    build(path, id, front_matter, page.title, page.sections, 1)
}

/// PDF: see [`pdf`]. The title is the largest text of the first page, else the
/// document's information title, else the file name.
fn parse_pdf(path: &str, id: String, bytes: &[u8]) -> Result<Document, CorpusError> {
    let path_string = || path.to_string();
    let text = pdf::parse(bytes).map_err(|problem| match problem {
        PdfProblem::Encrypted => CorpusError::Encrypted {
            path: path_string(),
        },
        PdfProblem::NoText { pages } => CorpusError::NoTextLayer {
            path: path_string(),
            pages,
        },
        PdfProblem::Unreadable(message) => CorpusError::Pdf {
            path: path_string(),
            message: first_sentence(&message),
        },
        PdfProblem::TooComplex(message) => CorpusError::TooComplex {
            path: path_string(),
            message,
        },
        PdfProblem::TimedOut => CorpusError::TimedOut {
            path: path_string(),
            seconds: pdf::TIME_LIMIT.as_secs(),
        },
    })?;
    build(
        path,
        id,
        FrontMatter::default(),
        text.title.or(text.info_title),
        text.sections,
        1,
    )
}

/// A library's error message as part of one sentence: its first line, without a final
/// full stop.
fn first_sentence(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default().trim();
    line.trim_end_matches('.').to_string()
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
        // A record without a title is named after its id, as it always was (BEIR ids
        // are numbers or codes, not words a text would spell).
        let title = Some(record.title)
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| title_from_record_id(&id));
        let front_matter = FrontMatter {
            title: Some(title),
            ..FrontMatter::default()
        };
        let sections = vec![Section::new(None, paragraphs)];
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
    use super::super::split;
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

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/tests/fixtures/formats/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn markdown_without_front_matter_is_named_as_its_text_spells_the_file_name() {
        let loaded = parse_file(
            Path::new("notes/esa-and-jaxa.md"),
            &fixture("esa-and-jaxa.md"),
        );
        let doc = &loaded.documents[0];
        assert_eq!(doc.title, "ESA and JAXA");
        let headings: Vec<_> = doc
            .sections
            .iter()
            .filter_map(|s| s.heading.as_deref())
            .collect();
        assert_eq!(
            headings,
            vec!["BepiColombo", "Astronauts and the station", "Looking ahead"]
        );
        assert_eq!(doc.primary_source(), "notes/esa-and-jaxa.md");
    }

    #[test]
    fn plain_text_without_a_title_line_is_named_after_its_file() {
        let loaded = parse_file(Path::new("iss-partners.txt"), &fixture("iss-partners.txt"));
        assert_eq!(loaded.documents[0].title, "ISS Partners");
        let loaded = parse(
            "nasa.txt",
            "NASA was founded in 1958.\nNASA runs the Artemis programme.",
        );
        assert_eq!(loaded.documents[0].title, "NASA");
    }

    #[test]
    fn html_pages_cite_their_canonical_address() {
        let loaded = parse_file(
            Path::new("saved/accords.html"),
            &fixture("artemis-accords.html"),
        );
        let doc = &loaded.documents[0];
        assert_eq!(doc.title, "The Artemis Accords and how nations join them");
        let passages = doc.passages();
        assert!(passages
            .iter()
            .all(|p| p.source == "https://www.example.org/cooperation/artemis-accords"));
        assert_eq!(passages[0].section, "");
    }

    #[test]
    fn pdf_passages_cite_their_page() {
        let loaded = parse_file(
            Path::new("reports/relay.pdf"),
            &fixture("mission-report.pdf"),
        );
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let doc = &loaded.documents[0];
        assert_eq!(doc.id, "reports/relay");
        let passages = doc.passages();
        assert_eq!(passages[0].source, "reports/relay.pdf#page=1");
        let last = passages.last().unwrap();
        assert_eq!(last.section, "Open questions");
        assert_eq!(last.source, "reports/relay.pdf#page=3");
    }

    #[test]
    fn unpaged_documents_hash_as_before_pages_existed() {
        let loaded = parse(
            "a.md",
            "---\ntitle: Kibo\n---\n## Modules\n\nThe pressurised module.\n",
        );
        let json = serde_json::to_string(&loaded.documents[0]).unwrap();
        assert!(!json.contains("pages"), "{json}");
    }

    #[test]
    fn bad_files_are_skipped_with_one_sentence_naming_them() {
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            (
                "kits/locked.pdf",
                fixture("encrypted.pdf"),
                "kits/locked.pdf: the PDF is encrypted with a password, so its text cannot be read",
            ),
            (
                "broken.pdf",
                b"%PDF-1.4\n1 0 obj << /Type /Catalog".to_vec(),
                "broken.pdf: the PDF cannot be read: ",
            ),
            (
                "deep.html",
                "<div>".repeat(100_000).into_bytes(),
                "deep.html: the file is too complex to read safely: its elements nest 100000 deep, more than the 512 read",
            ),
            (
                "notes.docx",
                b"PK".to_vec(),
                "notes.docx: the loader does not read .docx files (it reads .md, .markdown, .txt, .text, .html, .htm, .pdf and .jsonl)",
            ),
        ];
        for (name, bytes, expected) in cases {
            let loaded = parse_file(Path::new(name), &bytes);
            assert!(loaded.documents.is_empty(), "{name}");
            let message = loaded.errors[0].to_string();
            assert!(message.starts_with(expected), "{message}");
            assert!(!message.contains('\n'), "{message}");
        }
    }

    #[test]
    fn a_five_megabyte_line_loads_in_passages_of_bounded_size() {
        let line = "Partners share the station and its costs. ".repeat(120_000);
        assert!(line.len() > 5_000_000);
        let loaded = parse("long.txt", &line);
        let passages = loaded.documents[0].passages();
        assert!(passages.len() > 1_000);
        assert!(passages
            .iter()
            .all(|p| split::word_count(&p.text) <= split::MAX_WORDS));
        // Without any sentence end, the words are still cut into passages.
        let words = "orbit ".repeat(900_000);
        let passages = parse("words.txt", &words).documents[0].passages();
        assert!(passages
            .iter()
            .all(|p| split::word_count(&p.text) <= 4 * split::MAX_WORDS));
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
