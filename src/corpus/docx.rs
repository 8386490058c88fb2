//! Word documents (`.docx`): the paragraphs of `word/document.xml`, with paragraphs in
//! heading styles as sections and the Title style (or the document properties' title)
//! as the title. The XML is read as a stream of events with a stack of open paragraphs,
//! never as a tree, so no nesting can overflow the stack; parts are read up to a size
//! limit, so a zip bomb cannot fill the memory.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use quick_xml::events::Event;
use quick_xml::Reader;

use super::split::collapse_whitespace;
use super::Section;

/// The most bytes read from one part of the archive once decompressed.
const MAX_PART_BYTES: u64 = 64_000_000;
/// The first bytes of an OLE compound file: how Word stores a password-protected document.
const OLE_MAGIC: &[u8] = &[0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];

/// Why a Word document yields no text.
#[derive(Debug, PartialEq)]
pub enum DocxProblem {
    /// A password is needed (Word then writes an encrypted OLE file, not a zip).
    Encrypted,
    /// Not a zip, no `word/document.xml`, malformed XML, or a part over the size limit.
    Unreadable(String),
}

/// What a Word document holds once read.
pub struct DocxText {
    pub title: Option<String>,
    pub sections: Vec<Section>,
}

/// What a paragraph style makes of a paragraph.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    Title,
    Heading,
    Body,
}

/// Reads a `.docx` file.
///
/// # Errors
/// See [`DocxProblem`].
pub fn parse(bytes: &[u8]) -> Result<DocxText, DocxProblem> {
    if bytes.starts_with(OLE_MAGIC) {
        return Err(DocxProblem::Encrypted);
    }
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| DocxProblem::Unreadable(format!("it is not a valid zip archive ({e})")))?;
    let document = read_part(&mut archive, "word/document.xml")?
        .ok_or_else(|| DocxProblem::Unreadable("it has no word/document.xml".to_string()))?;
    let styles = match read_part(&mut archive, "word/styles.xml")? {
        Some(xml) => style_roles(&xml)?,
        None => HashMap::new(),
    };
    let properties_title =
        read_part(&mut archive, "docProps/core.xml")?.and_then(|xml| properties_title(&xml));
    let (title, sections) = paragraphs(&document, &styles)?;
    Ok(DocxText {
        title: title.or(properties_title),
        sections,
    })
}

/// One part of the archive as text, if the archive has it.
fn read_part(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
) -> Result<Option<String>, DocxProblem> {
    let part = match archive.by_name(name) {
        Ok(part) => part,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(DocxProblem::Unreadable(format!("{name}: {e}"))),
    };
    let too_large = || {
        DocxProblem::Unreadable(format!(
            "{name} is larger than {} MB once decompressed",
            MAX_PART_BYTES / 1_000_000
        ))
    };
    if part.size() > MAX_PART_BYTES {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    part.take(MAX_PART_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| DocxProblem::Unreadable(format!("{name}: {e}")))?;
    if bytes.len() as u64 > MAX_PART_BYTES {
        return Err(too_large());
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| DocxProblem::Unreadable(format!("{name} is not UTF-8")))
}

/// The value of an element's `w:val` attribute.
fn val(element: &quick_xml::events::BytesStart<'_>) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == "val")
        .map(|a| a.value.into_owned())
}

fn xml_error(part: &str, error: quick_xml::Error) -> DocxProblem {
    DocxProblem::Unreadable(format!("{part} is not well-formed XML ({error})"))
}

/// The role of each paragraph style: a name like "heading 2" or an outline level makes
/// a heading, whatever the style's id (ids are translated in Word's other languages).
fn style_roles(xml: &str) -> Result<HashMap<String, Role>, DocxProblem> {
    let mut roles = HashMap::new();
    let mut reader = Reader::from_str(xml);
    let mut current: Option<(String, Role)> = None;
    loop {
        match reader
            .read_event()
            .map_err(|e| xml_error("word/styles.xml", e))?
        {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "style" => {
                    let id = e
                        .attributes()
                        .flatten()
                        .find(|a| a.key.local_name().as_ref() == "styleId")
                        .map(|a| a.value.into_owned());
                    current = id.map(|id| {
                        let role = role_of_name(&id);
                        (id, role)
                    });
                }
                "name" => {
                    if let (Some((_, role)), Some(name)) = (&mut current, val(&e)) {
                        if role_of_name(&name) != Role::Body {
                            *role = role_of_name(&name);
                        }
                    }
                }
                "outlineLvl" => {
                    if let Some((_, role)) = &mut current {
                        // Level 9 means "body text" in Word's outline.
                        if val(&e).is_some_and(|level| level != "9") && *role == Role::Body {
                            *role = Role::Heading;
                        }
                    }
                }
                _ => {}
            },
            Event::End(e) if e.local_name().as_ref() == "style" => {
                if let Some((id, role)) = current.take() {
                    roles.insert(id, role);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(roles)
}

/// "Title" and "Heading 2" (or the ids `Title`, `Heading2`), in any case.
fn role_of_name(name: &str) -> Role {
    let name = name.to_ascii_lowercase().replace(' ', "");
    if name == "title" {
        return Role::Title;
    }
    match name.strip_prefix("heading") {
        Some(level) if !level.is_empty() && level.chars().all(|c| c.is_ascii_digit()) => {
            Role::Heading
        }
        _ => Role::Body,
    }
}

/// A paragraph being read: its text and what its style or outline level makes it.
#[derive(Default)]
struct Open {
    text: String,
    role: Option<Role>,
}

/// The document's title paragraph and its sections.
fn paragraphs(
    xml: &str,
    styles: &HashMap<String, Role>,
) -> Result<(Option<String>, Vec<Section>), DocxProblem> {
    let mut reader = Reader::from_str(xml);
    let mut title = None;
    let mut sections = vec![Section::new(None, Vec::new())];
    // Text boxes put paragraphs inside paragraphs: each is read on its own.
    let mut open: Vec<Open> = Vec::new();
    let mut in_text = false;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| xml_error("word/document.xml", e))?;
        match event {
            Event::Start(e) => match e.local_name().as_ref() {
                "p" => open.push(Open::default()),
                "t" => in_text = true,
                _ => {}
            },
            Event::Empty(e) => match (e.local_name().as_ref(), open.last_mut()) {
                ("pStyle", Some(paragraph)) => {
                    paragraph.role = val(&e).map(|id| {
                        styles
                            .get(&id)
                            .copied()
                            .unwrap_or_else(|| role_of_name(&id))
                    });
                }
                // Level 9 means "body text" in Word's outline.
                ("outlineLvl", Some(paragraph)) if val(&e).is_some_and(|level| level != "9") => {
                    paragraph.role = Some(Role::Heading);
                }
                ("tab" | "br" | "cr", Some(paragraph)) => paragraph.text.push(' '),
                _ => {}
            },
            Event::Text(text) if in_text => {
                if let Some(paragraph) = open.last_mut() {
                    paragraph.text.push_str(&text.xml10_content());
                }
            }
            Event::GeneralRef(reference) if in_text => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => Some(c.to_string()),
                    _ => quick_xml::escape::resolve_predefined_entity(&reference.xml10_content())
                        .map(str::to_string),
                };
                if let (Some(paragraph), Some(resolved)) = (open.last_mut(), resolved) {
                    paragraph.text.push_str(&resolved);
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                "t" => in_text = false,
                "p" => {
                    let Some(paragraph) = open.pop() else {
                        continue;
                    };
                    let text = collapse_whitespace(&paragraph.text);
                    if text.is_empty() {
                        continue;
                    }
                    match paragraph.role.unwrap_or(Role::Body) {
                        Role::Title if title.is_none() => title = Some(text),
                        Role::Heading | Role::Title => {
                            sections.push(Section::new(Some(text), Vec::new()))
                        }
                        Role::Body => sections
                            .last_mut()
                            .expect("one section")
                            .paragraphs
                            .push(text),
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    Ok((title, sections))
}

/// The `dc:title` of `docProps/core.xml`.
fn properties_title(xml: &str) -> Option<String> {
    let mut reader = Reader::from_str(xml);
    let mut in_title = false;
    let mut title = String::new();
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) if e.local_name().as_ref() == "title" => in_title = true,
            Event::End(e) if e.local_name().as_ref() == "title" => break,
            Event::Text(text) if in_title => title.push_str(&text.xml10_content()),
            Event::GeneralRef(reference) if in_title => {
                if let Some(resolved) =
                    quick_xml::escape::resolve_predefined_entity(&reference.xml10_content())
                {
                    title.push_str(resolved);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let title = collapse_whitespace(&title);
    (!title.is_empty()).then_some(title)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> DocxText {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/formats/handbook-headings.docx"
        );
        parse(&std::fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn title_and_headings_come_from_paragraph_styles() {
        let text = fixture();
        assert_eq!(
            text.title.as_deref(),
            Some("Handbook for Partner Liaison Officers")
        );
        let headings: Vec<&str> = text
            .sections
            .iter()
            .filter_map(|s| s.heading.as_deref())
            .collect();
        assert_eq!(
            headings,
            vec![
                "Chapter 1. Starting a cooperation",
                "1.1 Before the first meeting",
                "1.1.1 Preparing a briefing note",
                "1.1.2 Export control",
                "1.2 Writing the agreement",
                "Chapter 2. Running a joint project",
                "2.1 Meetings and minutes",
                "2.2 When things go wrong",
                "2.2.1 Escalation",
            ]
        );
        let escalation = text.sections.last().unwrap();
        assert_eq!(escalation.paragraphs.len(), 1);
        assert!(escalation.paragraphs[0].starts_with("If a problem cannot be solved"));
        // The running header lives in its own part and is not read.
        assert!(text
            .sections
            .iter()
            .flat_map(|s| &s.paragraphs)
            .all(|p| !p.contains("Partner Liaison Handbook")));
    }

    #[test]
    fn styles_are_recognised_by_name_in_any_language() {
        let styles = style_roles(
            r#"<w:styles xmlns:w="x"><w:style w:styleId="berschrift1"><w:name w:val="heading 1"/></w:style>
               <w:style w:styleId="Titel"><w:name w:val="Title"/></w:style>
               <w:style w:styleId="Standard"><w:name w:val="Normal"/></w:style></w:styles>"#,
        )
        .unwrap();
        assert_eq!(styles["berschrift1"], Role::Heading);
        assert_eq!(styles["Titel"], Role::Title);
        assert_eq!(styles["Standard"], Role::Body);
    }

    #[test]
    fn entities_text_boxes_and_deep_nesting_are_read_without_recursion() {
        let deep = "<w:sdt>".repeat(100_000) + &"</w:sdt>".repeat(100_000);
        let xml = format!(
            r#"<w:document xmlns:w="x"><w:body>{deep}<w:p><w:r><w:t>Partners &amp; rivals</w:t></w:r>
               <w:r><w:txbxContent><w:p><w:r><w:t>In a box</w:t></w:r></w:p></w:txbxContent></w:r></w:p></w:body></w:document>"#
        );
        let (_, sections) = paragraphs(&xml, &HashMap::new()).unwrap();
        assert_eq!(
            sections[0].paragraphs,
            vec!["In a box", "Partners & rivals"]
        );
    }

    #[test]
    fn a_password_protected_or_broken_file_is_refused() {
        let mut ole = OLE_MAGIC.to_vec();
        ole.extend([0; 512]);
        assert_eq!(parse(&ole).err(), Some(DocxProblem::Encrypted));
        assert!(matches!(
            parse(b"PK\x03\x04 broken"),
            Err(DocxProblem::Unreadable(_))
        ));
    }
}
