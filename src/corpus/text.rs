//! Plain text: MediaWiki (`== X ==`) and Markdown (`# X`) heading lines start sections;
//! paragraphs are blank-line separated, except in files that write each paragraph on
//! one long line (as Wikipedia exports do), where every line is a paragraph.

use super::split::collapse_whitespace;
use super::Section;

/// Lines of hard-wrapped text are at most this long; a block with a longer line writes
/// its paragraphs one a line. Editors wrap at 72–80 characters, some tools at 100.
const WRAP_WIDTH: usize = 100;

/// What a plain text file holds once read.
pub struct PlainText {
    pub title: Option<String>,
    pub sections: Vec<Section>,
}

/// Reads a plain text file. The title is a level-1 heading on the first line (`= X =`
/// or `# X`), else a short first line without final punctuation followed by more text;
/// when there is neither, `None` (the caller names it after the file).
pub fn parse(text: &str) -> PlainText {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut sections = vec![Section::new(None, Vec::new())];
    let mut title = None;
    let mut block: Vec<&str> = Vec::new();
    let mut first_line = true;
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some((level, heading)) = heading_of(trimmed) {
            flush(&mut block, &mut sections);
            if level == 1 && first_line && title.is_none() {
                title = Some(heading);
            } else {
                sections.push(Section::new(Some(heading), Vec::new()));
            }
        } else if trimmed.is_empty() {
            flush(&mut block, &mut sections);
        } else {
            block.push(trimmed);
        }
        if !trimmed.is_empty() {
            first_line = false;
        }
    }
    flush(&mut block, &mut sections);

    if title.is_none() {
        let more_text = sections[0].paragraphs.len() > 1 || sections.len() > 1;
        let first = &mut sections[0];
        if let Some(candidate) = first.paragraphs.first() {
            let looks_like_title = candidate.split_whitespace().count() <= 15
                && !candidate.ends_with(['.', '!', '?', ':', ';', ','])
                && more_text;
            if looks_like_title {
                title = Some(first.paragraphs.remove(0));
            }
        }
    }
    PlainText { title, sections }
}

/// A heading line's level and text: `== History ==` (MediaWiki, `=` is level 1) or
/// `## History` (Markdown).
fn heading_of(line: &str) -> Option<(usize, String)> {
    if line.starts_with('=') && line.ends_with('=') {
        let opening = line.bytes().take_while(|&b| b == b'=').count();
        let closing = line.bytes().rev().take_while(|&b| b == b'=').count();
        let inner = line
            .get(opening..line.len().saturating_sub(closing))?
            .trim();
        if opening == closing && opening <= 6 && !inner.is_empty() {
            return Some((opening, collapse_whitespace(inner)));
        }
        return None;
    }
    if line.starts_with('#') {
        let level = line.bytes().take_while(|&b| b == b'#').count();
        let rest = &line[level..];
        if level <= 6 && rest.starts_with([' ', '\t']) {
            let inner = rest.trim().trim_end_matches('#').trim();
            if !inner.is_empty() {
                return Some((level, collapse_whitespace(inner)));
            }
        }
    }
    None
}

/// The text of a list line (`* item`, `- item`, `• item`).
fn list_item(line: &str) -> Option<&str> {
    let rest = line.strip_prefix(['*', '-', '•'])?;
    rest.starts_with([' ', '\t']).then(|| rest.trim())
}

/// Ends a block of consecutive non-blank lines: hard-wrapped lines are joined into one
/// paragraph; a block with a line too long to be wrapped is one paragraph a line.
fn flush(block: &mut Vec<&str>, sections: &mut [Section]) {
    if block.is_empty() {
        return;
    }
    let section = sections.last_mut().expect("one section");
    if block.iter().all(|line| list_item(line).is_some()) {
        // A list reads as one unit, one item a line, as Markdown lists do.
        let items: Vec<String> = block
            .iter()
            .filter_map(|line| list_item(line))
            .map(|item| format!("• {}", collapse_whitespace(item)))
            .collect();
        section.paragraphs.push(items.join("\n"));
        block.clear();
        return;
    }
    let wrapped = block[..block.len() - 1]
        .iter()
        .all(|line| line.chars().count() <= WRAP_WIDTH);
    if wrapped {
        section
            .paragraphs
            .push(collapse_whitespace(&block.join(" ")));
    } else {
        section
            .paragraphs
            .extend(block.iter().map(|line| collapse_whitespace(line)));
    }
    block.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> &'static str {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/formats/iss-partners.txt"
        ))
    }

    #[test]
    fn mediawiki_headings_become_sections() {
        let text = parse(fixture());
        let headings: Vec<&str> = text
            .sections
            .iter()
            .filter_map(|s| s.heading.as_deref())
            .collect();
        assert_eq!(
            headings,
            vec![
                "Origins",
                "The first agreements",
                "Sharing the Moon",
                "Hard-wrapped notes",
                "See also"
            ]
        );
    }

    #[test]
    fn single_line_paragraphs_stay_apart() {
        let text = parse(fixture());
        // The lead has three paragraphs on three consecutive lines, with no blank line.
        let lead = &text.sections[0].paragraphs;
        assert_eq!(lead.len(), 3, "{lead:#?}");
        assert!(lead[0].starts_with("The ISS partnership is the agreement"));
        assert!(lead[1].starts_with("Most of these arrangements"));
        assert!(lead[2].starts_with("Critics of the arrangements"));
    }

    #[test]
    fn hard_wrapped_lines_are_joined() {
        let text = parse(fixture());
        let notes = text
            .sections
            .iter()
            .find(|s| s.heading.as_deref() == Some("Hard-wrapped notes"))
            .unwrap();
        assert_eq!(notes.paragraphs.len(), 2, "{:#?}", notes.paragraphs);
        assert!(notes.paragraphs[0].contains("were wrapped by an editor at seventy"));
        assert!(!notes.paragraphs[0].contains('\n'));
    }

    #[test]
    fn a_file_without_a_title_line_has_none() {
        assert!(parse(fixture()).title.is_none());
    }

    #[test]
    fn list_lines_stay_lines() {
        let text = parse(fixture());
        let see_also = text.sections.last().unwrap();
        assert_eq!(
            see_also.paragraphs,
            vec![
                "• Intergovernmental Agreement\n• Lunar Gateway\n• Multilateral Coordination Board"
            ]
        );
    }

    #[test]
    fn markdown_and_level_one_headings() {
        let text = parse("= Lunar Gateway =\nIntro line.\n== Partners ==\nNASA, ESA.\n");
        assert_eq!(text.title.as_deref(), Some("Lunar Gateway"));
        assert_eq!(text.sections[1].heading.as_deref(), Some("Partners"));
        let text = parse("# Gateway\n\nIntro.\n\n## Modules ##\n\nHALO and PPE.\n#hashtag\n");
        assert_eq!(text.title.as_deref(), Some("Gateway"));
        assert_eq!(text.sections[1].heading.as_deref(), Some("Modules"));
        assert_eq!(text.sections[1].paragraphs, vec!["HALO and PPE. #hashtag"]);
    }

    #[test]
    fn unbalanced_equals_signs_are_text() {
        assert_eq!(heading_of("== x ="), None);
        assert_eq!(heading_of("=== Deep ==="), Some((3, "Deep".to_string())));
        assert_eq!(heading_of("===="), None);
    }
}
