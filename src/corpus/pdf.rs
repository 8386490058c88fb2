//! Text PDFs: the text of each page in reading order (columns one after the other),
//! with headings from the outline or from font sizes, running headers, footers and
//! page numbers removed, words hyphenated at line ends rejoined, and the page each
//! paragraph starts on. Never trusts the file: the reader runs on its own thread with a
//! known stack, after checks for the loops that would make it recurse without end, and
//! its panics are caught.

use std::collections::{HashMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use pdf_extract::{Dictionary, Document as PdfDocument, MediaBox, Object, ObjectId, OutputDev};
use pdf_extract::{OutputError, Transform};

use super::split::collapse_whitespace;
use super::Section;

mod content;

/// How long one PDF may take before it is abandoned. A 100-page report takes well
/// under a second; this only stops files built to make the reader spin.
pub const TIME_LIMIT: Duration = Duration::from_secs(60);
/// The most characters read from one PDF (about 2,500 dense pages), to bound memory.
const MAX_CHARACTERS: usize = 5_000_000;
/// The reader's stack. Its recursion is bounded by the checks below and by lopdf's own
/// nesting limit of 100; this leaves room to spare.
const STACK_SIZE: usize = 64 * 1024 * 1024;
/// Form XObjects drawn inside each other deeper than this are refused (loops included).
const MAX_FORM_DEPTH: usize = 32;
/// Page tree levels followed upwards from a page (loops included).
const MAX_PARENT_DEPTH: usize = 64;
/// Outline entries read, so that a looping outline cannot hold the reader.
const MAX_OUTLINE_ENTRIES: usize = 10_000;

/// Why a PDF yields no document.
#[derive(Debug, Clone, PartialEq)]
pub enum PdfProblem {
    /// A password is needed.
    Encrypted,
    /// Pages without any text.
    NoText { pages: usize },
    /// Corrupt, truncated, or beyond what the reader handles.
    Unreadable(String),
    /// Structure that would make the reader recurse without end.
    TooComplex(String),
    /// Longer than [`TIME_LIMIT`].
    TimedOut,
}

/// What a PDF holds once read.
#[derive(Debug, Default)]
pub struct PdfText {
    pub title: Option<String>,
    /// The document information dictionary's title, for when the pages show none.
    pub info_title: Option<String>,
    pub sections: Vec<Section>,
    pub pages: usize,
}

/// Reads a PDF's text on a worker thread, within [`TIME_LIMIT`].
///
/// # Errors
/// See [`PdfProblem`].
pub fn parse(bytes: &[u8]) -> Result<PdfText, PdfProblem> {
    quiet_reader_panics();
    let bytes = bytes.to_vec();
    let abandoned = Arc::new(AtomicBool::new(false));
    let (sender, receiver) = mpsc::channel();
    let worker_abandoned = Arc::clone(&abandoned);
    let spawned = std::thread::Builder::new()
        .name(READER_THREAD.to_string())
        .stack_size(STACK_SIZE)
        .spawn(move || {
            let result = catch_unwind(AssertUnwindSafe(|| read(&bytes, &worker_abandoned)))
                .unwrap_or_else(|panic| {
                    Err(PdfProblem::Unreadable(format!(
                        "the reader failed ({})",
                        panic_message(panic.as_ref())
                    )))
                });
            // The receiver is gone when the file was abandoned; nothing to tell then.
            let _ = sender.send(result);
        });
    if let Err(error) = spawned {
        return Err(PdfProblem::Unreadable(format!(
            "no thread to read it on ({error})"
        )));
    }
    match receiver.recv_timeout(TIME_LIMIT) {
        Ok(result) => result,
        Err(_) => {
            // The worker stops at its next character; it cannot be killed sooner.
            abandoned.store(true, Ordering::Relaxed);
            Err(PdfProblem::TimedOut)
        }
    }
}

/// The name of the reader's threads, by which their panics are told apart.
const READER_THREAD: &str = "pdf reader";

/// Keeps the panics of reader threads off standard error: they are caught and become
/// the file's skip reason, which `spacecollab index` prints in one sentence. Panics of
/// every other thread go to the hook that was there before, unchanged.
fn quiet_reader_panics() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() != Some(READER_THREAD) {
                previous(info);
            }
        }));
    });
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown cause".to_string())
}

fn read(bytes: &[u8], abandoned: &AtomicBool) -> Result<PdfText, PdfProblem> {
    let mut document = match PdfDocument::load_mem(bytes) {
        Ok(document) => document,
        Err(error) => {
            let message = error.to_string();
            if is_password_error(&message) {
                return Err(PdfProblem::Encrypted);
            }
            return Err(PdfProblem::Unreadable(message));
        }
    };
    if document.is_encrypted() && document.decrypt("").is_err() {
        return Err(PdfProblem::Encrypted);
    }
    let page_ids = document.get_pages();
    if page_ids.is_empty() {
        return Err(PdfProblem::Unreadable("it has no pages".to_string()));
    }
    check_structure(&document, &page_ids).map_err(PdfProblem::TooComplex)?;
    let outline = outline(&document, &page_ids);
    let info_title = info_title(&document);

    let mut collector = Collector {
        abandoned,
        characters: 0,
        run: Vec::new(),
        drawn: Vec::new(),
        pages: Vec::new(),
    };
    // pdf-extract forgets its fonts at every page and parses their Unicode maps again,
    // which was 40% of the reading time. Pages that share their resources are therefore
    // drawn as one: their contents joined into one stream, each page moved down by
    // PAGE_STRIDE, and the characters sorted back into pages by height. Every run's
    // contents are also rewritten for text (see content.rs), a run of one page included.
    // A run the reader fails on is read again page by page from the pages' own contents,
    // so that a bad page costs that page only and the rewriting cannot lose one.
    let mut first_failure = None;
    for run in page_runs(&document, &page_ids) {
        let first_page = run[0];
        let original = join_pages(&mut document, &page_ids, &run);
        let joined = original.is_some();
        collector.run = if joined {
            run.clone()
        } else {
            vec![first_page]
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            pdf_extract::output_doc_page(&document, &mut collector, first_page)
        }));
        let mut failed = |number: u32, failure: String| {
            first_failure.get_or_insert(format!("page {number}: {failure}"));
        };
        let failure = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(error)) => Some(error.to_string()),
            Err(panic) => Some(format!(
                "the reader failed ({})",
                panic_message(panic.as_ref())
            )),
        };
        if let Some(original) = original {
            restore_contents(&mut document, page_ids[&first_page], original);
        }
        stop_if_over_limits(abandoned, collector.characters)?;
        let Some(failure) = failure else {
            continue;
        };
        if !joined {
            failed(first_page, failure);
            continue;
        }
        for &number in &run {
            collector.run = vec![number];
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                pdf_extract::output_doc_page(&document, &mut collector, number)
            }));
            stop_if_over_limits(abandoned, collector.characters)?;
            match outcome {
                Ok(Ok(())) => {}
                Ok(Err(error)) => failed(number, error.to_string()),
                Err(panic) => failed(
                    number,
                    format!("the reader failed ({})", panic_message(panic.as_ref())),
                ),
            }
        }
    }
    collector.pages.sort_by_key(|page| page.number);
    if collector.pages.is_empty() {
        return Err(PdfProblem::Unreadable(
            first_failure.unwrap_or_else(|| "no page could be read".to_string()),
        ));
    }
    let pages = collector.pages;
    let letters = pages
        .iter()
        .flat_map(|p| &p.lines)
        .any(|l| l.text.chars().any(char::is_alphanumeric));
    if !letters {
        return Err(PdfProblem::NoText {
            pages: page_ids.len(),
        });
    }
    let mut text = layout(pages, &outline);
    text.info_title = info_title;
    text.pages = page_ids.len();
    Ok(text)
}

/// How far apart joined pages are drawn: further than any page is tall.
const PAGE_STRIDE: f64 = 100_000.0;

fn stop_if_over_limits(abandoned: &AtomicBool, characters: usize) -> Result<(), PdfProblem> {
    if abandoned.load(Ordering::Relaxed) {
        return Err(PdfProblem::TimedOut);
    }
    if characters >= MAX_CHARACTERS {
        return Err(PdfProblem::TooComplex(format!(
            "it holds more than {MAX_CHARACTERS} characters of text"
        )));
    }
    Ok(())
}

/// Consecutive pages that draw with the same resources (so the same fonts under the
/// same names), at most 50 at a time.
fn page_runs(
    document: &PdfDocument,
    page_ids: &std::collections::BTreeMap<u32, ObjectId>,
) -> Vec<Vec<u32>> {
    let resources_of = |page_id: ObjectId| -> Option<ObjectId> {
        let page = document.get_dictionary(page_id).ok()?;
        page.get(b"Resources").ok()?.as_reference().ok()
    };
    let mut runs: Vec<(Option<ObjectId>, Vec<u32>)> = Vec::new();
    for (&number, &page_id) in page_ids {
        let resources = resources_of(page_id);
        match runs.last_mut() {
            Some((shared, run))
                if resources.is_some() && *shared == resources && run.len() < 50 =>
            {
                run.push(number)
            }
            _ => runs.push((resources, vec![number])),
        }
    }
    runs.into_iter().map(|(_, run)| run).collect()
}

/// Makes the first page of `run` draw the contents of every page of it, each moved down
/// by [`PAGE_STRIDE`] times its place in the run and rewritten by
/// [`content::append_for_text`] (a run of one page is only rewritten); returns the first
/// page's own contents to put back afterwards, or `None` when a page's contents cannot
/// be read.
fn join_pages(
    document: &mut PdfDocument,
    page_ids: &std::collections::BTreeMap<u32, ObjectId>,
    run: &[u32],
) -> Option<Object> {
    let mut joined = Vec::new();
    for (place, number) in run.iter().enumerate() {
        let content = document.get_page_content(page_ids[number]).ok()?;
        if run.len() == 1 {
            content::append_for_text(&content, &mut joined);
            break;
        }
        joined.extend(format!("q 1 0 0 1 0 {} cm\n", -(place as f64) * PAGE_STRIDE).as_bytes());
        content::append_for_text(&content, &mut joined);
        joined.extend(b"\nQ\n");
    }
    let stream = pdf_extract::Stream::new(Dictionary::new(), joined);
    let id = document.add_object(stream);
    let first = document
        .get_object_mut(page_ids[&run[0]])
        .ok()?
        .as_dict_mut()
        .ok()?;
    let original = first.get(b"Contents").ok()?.clone();
    first.set("Contents", Object::Reference(id));
    Some(original)
}

fn restore_contents(document: &mut PdfDocument, page_id: ObjectId, original: Object) {
    if let Ok(page) = document
        .get_object_mut(page_id)
        .and_then(Object::as_dict_mut)
    {
        page.set("Contents", original);
    }
}

/// Whether lopdf's error says a password is missing or wrong.
fn is_password_error(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    message.contains("password") || message.contains("decrypt") || message.contains("encrypt")
}

/// Refuses the two structures that make the reader recurse without end: a page whose
/// parents loop, and form XObjects that draw each other in a loop.
fn check_structure(
    document: &PdfDocument,
    page_ids: &std::collections::BTreeMap<u32, ObjectId>,
) -> Result<(), String> {
    let mut steps = 0usize;
    for (&page, &page_id) in page_ids {
        let mut seen = HashSet::new();
        let mut node = page_id;
        let mut resources = None;
        loop {
            if !seen.insert(node) || seen.len() > MAX_PARENT_DEPTH {
                return Err(format!(
                    "page {page}'s page tree loops or is more than {MAX_PARENT_DEPTH} levels deep"
                ));
            }
            let Ok(dictionary) = document.get_dictionary(node) else {
                break;
            };
            if resources.is_none() {
                resources = resolve_dictionary(document, dictionary.get(b"Resources").ok());
            }
            match dictionary.get(b"Parent").and_then(Object::as_reference) {
                Ok(parent) => node = parent,
                Err(_) => break,
            }
        }
        let Some(resources) = resources else {
            continue;
        };
        // A page without XObjects draws no forms: no need to decompress its contents,
        // which the reader does again.
        if resolve_dictionary(document, resources.get(b"XObject").ok()).is_none() {
            continue;
        }
        let content = document.get_page_content(page_id).unwrap_or_default();
        // A walk with an explicit stack: (content, resources in force, forms on the path).
        let mut stack: Vec<(Vec<u8>, &Dictionary, Vec<ObjectId>)> =
            vec![(content, resources, Vec::new())];
        let mut done: HashSet<(ObjectId, *const Dictionary)> = HashSet::new();
        while let Some((content, resources, path)) = stack.pop() {
            for name in drawn_xobjects(&content) {
                steps += 1;
                if steps > 100_000 {
                    return Err("it draws more than 100,000 form XObjects".to_string());
                }
                let Some(xobjects) = resolve_dictionary(document, resources.get(b"XObject").ok())
                else {
                    continue;
                };
                let Ok(form_id) = xobjects.get(&name).and_then(Object::as_reference) else {
                    continue;
                };
                if path.contains(&form_id) || path.len() >= MAX_FORM_DEPTH {
                    return Err(format!(
                        "page {page} draws form XObjects inside each other in a loop or more than {MAX_FORM_DEPTH} deep"
                    ));
                }
                let Ok(Object::Stream(form)) = document.get_object(form_id) else {
                    continue;
                };
                let is_form = form
                    .dict
                    .get(b"Subtype")
                    .and_then(Object::as_name)
                    .is_ok_and(|s| s == b"Form");
                if !is_form {
                    continue;
                }
                let form_resources = resolve_dictionary(document, form.dict.get(b"Resources").ok())
                    .unwrap_or(resources);
                if !done.insert((form_id, form_resources as *const Dictionary)) {
                    continue;
                }
                let content = form
                    .decompressed_content()
                    .unwrap_or_else(|_| form.content.clone());
                let mut inner_path = path.clone();
                inner_path.push(form_id);
                stack.push((content, form_resources, inner_path));
            }
        }
    }
    Ok(())
}

fn resolve_dictionary<'a>(
    document: &'a PdfDocument,
    object: Option<&'a Object>,
) -> Option<&'a Dictionary> {
    match object? {
        Object::Dictionary(dictionary) => Some(dictionary),
        Object::Reference(id) => document.get_dictionary(*id).ok(),
        _ => None,
    }
}

/// The names a content stream draws with `Do`, found from its bytes without parsing it.
fn drawn_xobjects(content: &[u8]) -> Vec<Vec<u8>> {
    let is_space = |b: u8| matches!(b, b' ' | b'\n' | b'\r' | b'\t' | b'\x0c' | b'\0');
    let is_delimiter = |b: u8| is_space(b) || b"()<>[]{}/%".contains(&b);
    let mut names = Vec::new();
    let mut at = 0;
    while let Some(offset) = content[at..].windows(2).position(|w| w == b"Do") {
        let start = at + offset;
        at = start + 2;
        let after_ok = content.get(start + 2).is_none_or(|&b| is_delimiter(b));
        if !after_ok || start == 0 || !is_space(content[start - 1]) {
            continue;
        }
        let mut end = start;
        while end > 0 && is_space(content[end - 1]) {
            end -= 1;
        }
        let mut begin = end;
        while begin > 0 && !is_delimiter(content[begin - 1]) {
            begin -= 1;
        }
        if begin > 0 && content[begin - 1] == b'/' {
            names.push(content[begin..end].to_vec());
        }
    }
    names
}

/// One entry of the document outline: a heading and the page it points to.
#[derive(Debug, Clone)]
struct OutlineEntry {
    title: String,
    page: u32,
}

/// The outline (bookmarks), walked with an explicit stack and a guard against loops.
fn outline(
    document: &PdfDocument,
    page_ids: &std::collections::BTreeMap<u32, ObjectId>,
) -> Vec<OutlineEntry> {
    let page_numbers: HashMap<ObjectId, u32> = page_ids.iter().map(|(n, id)| (*id, *n)).collect();
    let Ok(catalog) = document.catalog() else {
        return Vec::new();
    };
    let Some(root) = resolve_dictionary(document, catalog.get(b"Outlines").ok()) else {
        return Vec::new();
    };
    let mut entries = Vec::new();
    let mut seen = HashSet::new();
    let mut stack: Vec<ObjectId> = Vec::new();
    if let Ok(first) = root.get(b"First").and_then(Object::as_reference) {
        stack.push(first);
    }
    while let Some(id) = stack.pop() {
        if !seen.insert(id) || seen.len() > MAX_OUTLINE_ENTRIES {
            continue;
        }
        let Ok(item) = document.get_dictionary(id) else {
            continue;
        };
        // Siblings after children, so the stack yields them in document order.
        if let Ok(next) = item.get(b"Next").and_then(Object::as_reference) {
            stack.push(next);
        }
        if let Ok(first) = item.get(b"First").and_then(Object::as_reference) {
            stack.push(first);
        }
        let title = item
            .get(b"Title")
            .ok()
            .and_then(|t| match t {
                Object::Reference(id) => document.get_object(*id).ok(),
                other => Some(other),
            })
            .and_then(|t| t.as_str().ok())
            .map(decode_text_string);
        let destination = item.get(b"Dest").ok().or_else(|| {
            resolve_dictionary(document, item.get(b"A").ok()).and_then(|a| a.get(b"D").ok())
        });
        let page = destination
            .and_then(|d| match d {
                Object::Reference(id) => document.get_object(*id).ok(),
                other => Some(other),
            })
            .and_then(|d| d.as_array().ok())
            .and_then(|array| array.first())
            .and_then(|p| p.as_reference().ok())
            .and_then(|id| page_numbers.get(&id).copied());
        if let (Some(title), Some(page)) = (title, page) {
            let title = collapse_whitespace(&title);
            if !title.is_empty() {
                entries.push(OutlineEntry { title, page });
            }
        }
    }
    entries
}

/// A PDF text string: UTF-16 with a byte order mark, else PDFDocEncoding (read as Latin-1,
/// which agrees with it on letters, digits and punctuation).
fn decode_text_string(bytes: &[u8]) -> String {
    if let Some(utf16) = bytes.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = utf16
            .chunks_exact(2)
            .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return text.to_string();
    }
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// The title in the document information dictionary, unless it is only a file name.
fn info_title(document: &PdfDocument) -> Option<String> {
    let info = resolve_dictionary(document, document.trailer.get(b"Info").ok())?;
    let title = info.get(b"Title").ok()?;
    let title = match title {
        Object::Reference(id) => document.get_object(*id).ok()?,
        other => other,
    };
    let title = collapse_whitespace(&decode_text_string(title.as_str().ok()?));
    let lower = title.to_ascii_lowercase();
    let file_name = [".doc", ".docx", ".odt", ".pdf", ".indd", ".tex", ".rtf"]
        .iter()
        .any(|e| lower.ends_with(e));
    (!title.is_empty() && !file_name && !lower.starts_with("untitled")).then_some(title)
}

/// One character as the page draws it.
#[derive(Debug, Clone, Copy)]
struct Glyph {
    x: f64,
    /// Where the next character would start.
    end: f64,
    y: f64,
    size: f64,
}

/// A run of characters on one baseline: a line, or a column's part of one.
#[derive(Debug, Clone)]
struct Line {
    x0: f64,
    x1: f64,
    y: f64,
    size: f64,
    text: String,
}

/// The lines of one page, in the order the page draws them.
#[derive(Debug, Default)]
struct Page {
    number: u32,
    lines: Vec<Line>,
}

/// Bytes reserved for the text of a line as it starts: most lines of body text fit.
const LINE_CAPACITY: usize = 96;

/// Joins a page's characters into runs as they are drawn: characters on the same
/// baseline that follow each other closely. A wide gap (between columns) starts a new
/// run. Built as the characters come, the text goes straight into the lines: no
/// `String` per character (its allocation and freeing was a fifth of the reading time),
/// nor a list of them.
#[derive(Debug)]
struct PageLines {
    lines: Vec<Line>,
    /// Where the characters of the last line drawn so far end.
    last_end: f64,
}

impl PageLines {
    fn new() -> PageLines {
        PageLines {
            lines: Vec::new(),
            last_end: f64::NEG_INFINITY,
        }
    }

    fn add(&mut self, glyph: Glyph, text: &str) {
        let is_space = text.chars().all(char::is_whitespace);
        let last_end = self.last_end;
        let continues = self.lines.last().is_some_and(|line| {
            (glyph.y - line.y).abs() < 0.3 * line.size.max(glyph.size)
                && glyph.x > line.x0 - 0.5 * glyph.size
                && glyph.x - last_end < 1.5 * line.size.max(glyph.size)
        });
        if let (true, Some(line)) = (continues, self.lines.last_mut()) {
            if is_space {
                if !line.text.ends_with(' ') {
                    line.text.push(' ');
                }
            } else {
                if glyph.x - last_end > 0.15 * glyph.size && !line.text.ends_with(' ') {
                    line.text.push(' ');
                }
                line.text.push_str(text);
                line.x1 = line.x1.max(glyph.end);
                // The size of a line is that of its body text, not of a bigger first letter.
                if glyph.size < line.size {
                    line.size = glyph.size.max(line.size * 0.5);
                }
            }
            self.last_end = glyph.end.max(last_end);
        } else if !is_space {
            // Room for a line of body text from the start, rather than growing to it.
            let mut line_text = String::with_capacity(LINE_CAPACITY);
            line_text.push_str(text);
            self.lines.push(Line {
                x0: glyph.x,
                x1: glyph.end,
                y: glyph.y,
                size: glyph.size,
                text: line_text,
            });
            self.last_end = glyph.end;
        }
    }

    /// The lines, without trailing spaces or empty ones.
    fn finish(self) -> Vec<Line> {
        let mut lines = self.lines;
        for line in &mut lines {
            let trimmed = line.text.trim_end().len();
            line.text.truncate(trimmed);
        }
        lines.retain(|l| !l.text.is_empty());
        lines
    }
}

/// Receives characters from pdf-extract, page by page.
struct Collector<'a> {
    abandoned: &'a AtomicBool,
    characters: usize,
    /// The pages drawn as one page (see [`join_pages`]), in their order there.
    run: Vec<u32>,
    /// The lines of each page of `run` so far. Each page gets its own characters in the
    /// order they are drawn, whatever the order of the pages.
    drawn: Vec<PageLines>,
    pages: Vec<Page>,
}

impl OutputDev for Collector<'_> {
    fn begin_page(
        &mut self,
        _page_num: u32,
        _media_box: &MediaBox,
        _art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.drawn.clear();
        self.drawn
            .resize_with(self.run.len().max(1), PageLines::new);
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        for (place, lines) in self.drawn.drain(..).enumerate() {
            self.pages.push(Page {
                number: self.run.get(place).copied().unwrap_or(0),
                lines: lines.finish(),
            });
        }
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        text: &str,
    ) -> Result<(), OutputError> {
        self.characters += 1;
        if self.characters >= MAX_CHARACTERS || self.abandoned.load(Ordering::Relaxed) {
            return Err(OutputError::FormatError(std::fmt::Error));
        }
        // The size as drawn: the side of the square the text matrix makes of the font
        // size's square, as pdf-extract's own text output measures it.
        let scaled_x = font_size * (trm.m11 + trm.m21);
        let scaled_y = font_size * (trm.m12 + trm.m22);
        let size = (scaled_x * scaled_y).abs().sqrt();
        if !size.is_finite() || size <= 0.0 {
            return Ok(());
        }
        let (x, mut y) = (trm.m31, trm.m32);
        // Back to its own page, by the height its page was moved down by.
        let mut place = 0;
        if self.run.len() > 1 {
            // No `floor`: the cast truncates, which is the same for what `max` keeps.
            let moved = (PAGE_STRIDE / 2.0 - y) / PAGE_STRIDE;
            place = (moved.max(0.0) as usize).min(self.run.len() - 1);
            y += place as f64 * PAGE_STRIDE;
        }
        let glyph = Glyph {
            x,
            end: x + width * size,
            y,
            size,
        };
        if let Some(page) = self.drawn.get_mut(place) {
            page.add(glyph, text);
        }
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}

/// Lines in reading order: blocks of lines that follow each other down the page are
/// ordered top to bottom where they share a column, and left column before right
/// column where nothing spanning both lies between them (Breuel's rules).
fn reading_order(lines: Vec<Line>) -> Vec<Line> {
    // Blocks: lines in drawing order that continue each other down one column.
    let mut blocks: Vec<Vec<Line>> = Vec::new();
    for line in lines {
        let joins = blocks.last().and_then(|b| b.last()).is_some_and(|last| {
            let below = last.y - line.y;
            below > 0.0
                && below < 2.5 * last.size.max(line.size)
                && line.x0 < last.x1
                && last.x0 < line.x1
        });
        if joins {
            blocks.last_mut().expect("a block").push(line);
        } else {
            blocks.push(vec![line]);
        }
    }
    if blocks.len() <= 1 {
        return blocks.into_iter().flatten().collect();
    }
    struct Extent {
        x0: f64,
        x1: f64,
        top: f64,
        bottom: f64,
    }
    let extents: Vec<Extent> = blocks
        .iter()
        .map(|block| Extent {
            x0: block.iter().map(|l| l.x0).fold(f64::INFINITY, f64::min),
            x1: block.iter().map(|l| l.x1).fold(f64::NEG_INFINITY, f64::max),
            top: block
                .iter()
                .map(|l| l.y + l.size)
                .fold(f64::NEG_INFINITY, f64::max),
            bottom: block.iter().map(|l| l.y).fold(f64::INFINITY, f64::min),
        })
        .collect();
    let overlaps_x = |a: &Extent, b: &Extent| a.x0 < b.x1 && b.x0 < a.x1;
    let n = blocks.len();
    let mut before = vec![Vec::new(); n];
    let mut pending = vec![0usize; n];
    for a in 0..n {
        for b in 0..n {
            if a == b {
                continue;
            }
            let (ea, eb) = (&extents[a], &extents[b]);
            let above = if overlaps_x(ea, eb) {
                ea.top > eb.top || (ea.top == eb.top && a < b)
            } else if ea.x1 <= eb.x0 {
                // Left before right, unless something spanning both lies between them.
                let (high, low) = if ea.top >= eb.top { (ea, eb) } else { (eb, ea) };
                !extents.iter().enumerate().any(|(c, ec)| {
                    c != a
                        && c != b
                        && overlaps_x(ec, ea)
                        && overlaps_x(ec, eb)
                        && ec.top <= high.top
                        && ec.bottom >= low.bottom.min(low.top)
                        && ec.top > low.top.min(high.bottom)
                })
            } else {
                false
            };
            if above {
                before[a].push(b);
                pending[b] += 1;
            }
        }
    }
    // Kahn's algorithm, taking the highest ready block first; a cycle, which the rules
    // should not produce, is broken in drawing order.
    let mut order = Vec::with_capacity(n);
    let mut placed = vec![false; n];
    while order.len() < n {
        let ready = (0..n)
            .filter(|&i| !placed[i] && pending[i] == 0)
            .max_by(|&i, &j| extents[i].top.total_cmp(&extents[j].top).then(j.cmp(&i)))
            .or_else(|| (0..n).find(|&i| !placed[i]))
            .expect("a block left");
        placed[ready] = true;
        order.push(ready);
        for &next in &before[ready] {
            pending[next] = pending[next].saturating_sub(1);
        }
    }
    let mut blocks: Vec<Option<Vec<Line>>> = blocks.into_iter().map(Some).collect();
    order
        .into_iter()
        .flat_map(|i| blocks[i].take().expect("each block once"))
        .collect()
}

/// Lines that are not content: lines repeated at the top or bottom of most pages
/// (running headers and footers, with digits ignored) and bare page numbers there.
fn furniture(pages: &[Page]) -> HashSet<(usize, usize)> {
    let edge_lines = |page: &Page| -> Vec<usize> {
        let mut by_height: Vec<usize> = (0..page.lines.len()).collect();
        by_height.sort_by(|&a, &b| page.lines[b].y.total_cmp(&page.lines[a].y));
        let mut edges: Vec<usize> = by_height.iter().take(2).copied().collect();
        edges.extend(by_height.iter().rev().take(2));
        edges.sort_unstable();
        edges.dedup();
        edges
    };
    let shape = |text: &str| -> String {
        text.chars()
            .map(|c| {
                if c.is_ascii_digit() {
                    '#'
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .filter(|c| !c.is_whitespace())
            .collect()
    };
    let mut pages_with: HashMap<String, usize> = HashMap::new();
    for page in pages {
        let shapes: HashSet<String> = edge_lines(page)
            .into_iter()
            .map(|i| shape(&page.lines[i].text))
            .collect();
        for shape in shapes {
            *pages_with.entry(shape).or_default() += 1;
        }
    }
    let repeated_on = (pages.len() / 2 + 1).max(2);
    let mut furniture = HashSet::new();
    for (p, page) in pages.iter().enumerate() {
        for i in edge_lines(page) {
            let text = &page.lines[i].text;
            let repeated = pages.len() >= 2 && pages_with[&shape(text)] >= repeated_on;
            if repeated || is_page_number(text) {
                furniture.insert((p, i));
            }
        }
    }
    furniture
}

/// `12`, `- 12 -`, `Page 12`, `12 / 40`, `Page 12 of 40`, `xii`.
fn is_page_number(text: &str) -> bool {
    let lower = text.trim().to_ascii_lowercase();
    let lower = lower.strip_prefix("page").unwrap_or(&lower);
    let core: String = lower
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '–' | '—' | '/' | '|'))
        .collect();
    let core = core.replace("of", "");
    !core.is_empty()
        && (core.chars().all(|c| c.is_ascii_digit())
            || (core.len() <= 6 && core.chars().all(|c| matches!(c, 'i' | 'v' | 'x' | 'l'))))
}

/// A line of the document in reading order, with what it is.
struct Placed {
    page: u32,
    line: Line,
    heading: bool,
}

/// Turns pages of lines into a title and sections of paragraphs.
fn layout(pages: Vec<Page>, outline: &[OutlineEntry]) -> PdfText {
    let furniture = furniture(&pages);
    let mut placed: Vec<Placed> = Vec::new();
    for (p, page) in pages.into_iter().enumerate() {
        let number = page.number;
        let content: Vec<Line> = page
            .lines
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !furniture.contains(&(p, *i)))
            .map(|(_, line)| line)
            .collect();
        placed.extend(reading_order(content).into_iter().map(|line| Placed {
            page: number,
            line,
            heading: false,
        }));
    }
    let body_size = body_size(&placed);

    // The title: the largest text on the first page, when it stands out.
    let mut title = None;
    let first_page = placed.first().map(|p| p.page);
    let largest = placed
        .iter()
        .filter(|p| Some(p.page) == first_page)
        .map(|p| p.line.size)
        .fold(0.0, f64::max);
    if largest > body_size * 1.25 {
        let lines: Vec<usize> = placed
            .iter()
            .enumerate()
            .skip_while(|(_, p)| (p.line.size - largest).abs() > 0.5)
            .take_while(|(_, p)| (p.line.size - largest).abs() <= 0.5 && Some(p.page) == first_page)
            .map(|(i, _)| i)
            .collect();
        let text = lines
            .iter()
            .map(|&i| placed[i].line.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        title = Some(collapse_whitespace(&text));
        for i in lines.into_iter().rev() {
            placed.remove(i);
        }
    }

    mark_headings(&mut placed, outline, body_size);

    let mut sections = vec![Section::new(None, Vec::new())];
    let mut paragraph = String::new();
    let mut paragraph_page = 0;
    let mut previous: Option<&Placed> = None;
    let finish = |sections: &mut Vec<Section>, paragraph: &mut String, page: u32| {
        let text = collapse_whitespace(paragraph);
        if !text.is_empty() {
            let section = sections.last_mut().expect("one section");
            section.paragraphs.push(text);
            section.pages.push(page);
        }
        paragraph.clear();
    };
    let mut index = 0;
    while index < placed.len() {
        let current = &placed[index];
        if current.heading {
            finish(&mut sections, &mut paragraph, paragraph_page);
            // A heading wrapped over several lines is one heading.
            let mut heading = current.line.text.clone();
            let mut last = index;
            while last + 1 < placed.len()
                && placed[last + 1].heading
                && placed[last + 1].page == current.page
                && (placed[last + 1].line.size - current.line.size).abs() < 0.5
                && placed[last].line.y - placed[last + 1].line.y < 1.6 * current.line.size
            {
                last += 1;
                heading.push(' ');
                heading.push_str(&placed[last].line.text);
            }
            sections.push(Section::new(
                Some(collapse_whitespace(&heading)),
                Vec::new(),
            ));
            index = last + 1;
            previous = None;
            continue;
        }
        let starts_paragraph = match previous {
            None => true,
            Some(before) => {
                starts_new_paragraph(&before.line, &current.line, before.page != current.page)
            }
        };
        if starts_paragraph {
            finish(&mut sections, &mut paragraph, paragraph_page);
            paragraph_page = current.page;
            paragraph.push_str(&current.line.text);
        } else {
            join_line(&mut paragraph, &current.line.text);
        }
        previous = Some(current);
        index += 1;
    }
    finish(&mut sections, &mut paragraph, paragraph_page);
    rejoin_hyphenated_words(&mut sections);
    PdfText {
        title,
        info_title: None,
        sections,
        pages: 0,
    }
}

/// The font size of most of the text.
fn body_size(placed: &[Placed]) -> f64 {
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for p in placed {
        *counts
            .entry((p.line.size * 2.0).round() as i64)
            .or_default() += p.line.text.len();
    }
    counts
        .into_iter()
        .max_by_key(|&(size, count)| (count, -size))
        .map_or(10.0, |(size, _)| size as f64 / 2.0)
}

/// Marks heading lines: the outline's entries where it has them (matched by text on
/// their page), else lines set larger than the body text that read like headings.
fn mark_headings(placed: &mut [Placed], outline: &[OutlineEntry], body_size: f64) {
    if !mark_outline_headings(placed, outline) {
        mark_headings_by_size(placed, body_size);
    }
}

/// Marks the lines that spell the outline's entries; whether any entry was found.
fn mark_outline_headings(placed: &mut [Placed], outline: &[OutlineEntry]) -> bool {
    // Without an outline there is nothing to spell, and no line need be normalised.
    if outline.is_empty() {
        return false;
    }
    let normal = |text: &str| -> String {
        text.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let normalised: Vec<String> = placed.iter().map(|p| normal(&p.line.text)).collect();
    let mut lines_of_page: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, p) in placed.iter().enumerate() {
        lines_of_page.entry(p.page).or_default().push(i);
    }
    let mut matched = 0;
    for entry in outline {
        let wanted = normal(&entry.title);
        let Some(lines) = lines_of_page
            .get(&entry.page)
            .filter(|_| !wanted.is_empty())
        else {
            continue;
        };
        // The entry's lines: consecutive lines on its page that together spell the title.
        let mut found = None;
        'lines: for (k, &start) in lines.iter().enumerate() {
            if placed[start].heading || !wanted.starts_with(normalised[start].as_str()) {
                continue;
            }
            let mut spelled = String::new();
            for &line in lines.iter().skip(k).take(4) {
                spelled.push_str(&normalised[line]);
                if spelled == wanted {
                    found = Some((start, line));
                    break 'lines;
                }
                if !wanted.starts_with(&spelled) {
                    break;
                }
            }
        }
        if let Some((first, last)) = found {
            matched += 1;
            for p in &mut placed[first..=last] {
                p.heading = true;
            }
        }
    }
    matched > 0
}

/// Marks lines set larger than the body text that read like headings.
fn mark_headings_by_size(placed: &mut [Placed], body_size: f64) {
    for p in placed.iter_mut() {
        let text = p.line.text.trim();
        // The size first: the words of body text need not be counted.
        p.heading = p.line.size >= body_size * 1.08
            && (1..=20).contains(&text.split_whitespace().count())
            && text.chars().any(char::is_alphabetic)
            && !text.ends_with(['.', ',', ';']);
    }
}

/// Whether `line` starts a paragraph rather than continuing the one `before` is in.
fn starts_new_paragraph(before: &Line, line: &Line, new_page: bool) -> bool {
    if (before.size - line.size).abs() > 0.5 {
        return true;
    }
    let ends_sentence = before.text.ends_with(['.', '!', '?', ':', '"', '”']);
    let starts_lower = line.text.chars().next().is_some_and(char::is_lowercase);
    let gap = before.y - line.y;
    // Further down in the same column; a line higher up, or beside, starts a new column.
    let same_column = gap > 0.0 && line.x0 < before.x1 && before.x0 < line.x1;
    if new_page || !same_column {
        // Across a page or column break a paragraph goes on unless the last line ended it.
        return ends_sentence && !starts_lower;
    }
    // Lines of a paragraph follow about 1.2 sizes apart; paragraphs leave more room.
    if gap > 1.45 * line.size {
        return true;
    }
    // An indented first line.
    if line.x0 > before.x0 + 1.5 * line.size && ends_sentence {
        return true;
    }
    false
}

/// Appends a line to a paragraph. A word hyphenated at the line end is marked with
/// U+00AD (soft hyphen) so that [`rejoin_hyphenated_words`] can decide, knowing the
/// whole document, whether the hyphen belongs to the word.
fn join_line(paragraph: &mut String, line: &str) {
    let ends_hyphen = paragraph.ends_with(['-', '\u{ad}', '‐'])
        && paragraph
            .chars()
            .rev()
            .nth(1)
            .is_some_and(char::is_alphabetic);
    let next_lower = line.chars().next().is_some_and(char::is_lowercase);
    if ends_hyphen && next_lower {
        paragraph.pop();
        paragraph.push('\u{ad}');
        paragraph.push_str(line);
    } else {
        paragraph.push(' ');
        paragraph.push_str(line);
    }
}

/// Rejoins words hyphenated at line ends: `coop-` `eration` becomes `cooperation`,
/// unless the document writes the word with its hyphen elsewhere (`well-known`).
fn rejoin_hyphenated_words(sections: &mut [Section]) {
    let mut hyphenated_words: HashSet<String> = HashSet::new();
    // Most paragraphs have no hyphen at all, which is quick to see.
    for paragraph in sections
        .iter()
        .flat_map(|s| &s.paragraphs)
        .filter(|p| p.contains('-'))
    {
        for word in paragraph.split(|c: char| !c.is_alphanumeric() && c != '-') {
            if word.contains('-') && !word.contains('\u{ad}') {
                hyphenated_words.insert(word.to_lowercase());
            }
        }
    }
    for paragraph in sections.iter_mut().flat_map(|s| s.paragraphs.iter_mut()) {
        if !paragraph.contains('\u{ad}') {
            continue;
        }
        let mut rejoined = String::with_capacity(paragraph.len());
        for (i, piece) in paragraph.split('\u{ad}').enumerate() {
            if i > 0 {
                let head = rejoined
                    .rsplit(|c: char| !c.is_alphanumeric() && c != '-')
                    .next()
                    .unwrap_or("")
                    .to_lowercase();
                let tail: String = piece
                    .split(|c: char| !c.is_alphanumeric() && c != '-')
                    .next()
                    .unwrap_or("")
                    .to_lowercase();
                if hyphenated_words.contains(&format!("{head}-{tail}")) {
                    rejoined.push('-');
                }
            }
            rejoined.push_str(piece);
        }
        *paragraph = rejoined;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/tests/fixtures/formats/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn headings(text: &PdfText) -> Vec<&str> {
        text.sections
            .iter()
            .filter_map(|s| s.heading.as_deref())
            .collect()
    }

    fn paragraphs(text: &PdfText) -> Vec<&str> {
        text.sections
            .iter()
            .flat_map(|s| &s.paragraphs)
            .map(String::as_str)
            .collect()
    }

    fn section<'a>(text: &'a PdfText, heading: &str) -> &'a Section {
        text.sections
            .iter()
            .find(|s| s.heading.as_deref() == Some(heading))
            .unwrap_or_else(|| panic!("no section {heading:?} in {:?}", headings(text)))
    }

    #[test]
    fn report_title_and_headings_come_from_the_pages_and_the_outline() {
        let text = parse(&fixture("mission-report.pdf")).unwrap();
        assert_eq!(
            text.title.as_deref(),
            Some("Lunar Relay Partnership: Interim Report of the Joint Working Group")
        );
        assert_eq!(
            headings(&text),
            vec![
                "Purpose of this report",
                "Lessons from earlier partnerships",
                "Shared infrastructure in low Earth orbit",
                "Deep space tracking networks",
                "The proposed relay service",
                "Orbits and coverage",
                "Frequencies and standards",
                "Navigation as a service",
                "Organisation and responsibilities",
                "Contributions",
                "Governance",
                "Data policy",
                "Open questions",
            ]
        );
        assert_eq!(text.pages, 3);
    }

    #[test]
    fn running_headers_and_page_numbers_are_removed() {
        let text = parse(&fixture("mission-report.pdf")).unwrap();
        for paragraph in paragraphs(&text) {
            assert!(
                !paragraph.contains("Interim Report"),
                "running header left in {paragraph:?}"
            );
            assert!(
                !paragraph
                    .split_whitespace()
                    .all(|w| w.parse::<u32>().is_ok()),
                "page number left as {paragraph:?}"
            );
        }
        // Paragraphs that run over a page break go on without the footer and header.
        let all = paragraphs(&text).join("\n");
        assert!(
            !all.contains(" 1 Lunar") && !all.contains(" 2 Lunar"),
            "{all}"
        );
    }

    #[test]
    fn words_hyphenated_at_line_ends_are_rejoined() {
        let text = parse(&fixture("mission-report.pdf")).unwrap();
        let all = paragraphs(&text).join("\n");
        for phrase in [
            "cannot talk to Earth directly",
            "pays for a service with hardware",
            "Consultative Committee for Space Data Systems",
            "the group does not intend to replace it",
            "encouraging enough",
            "other multilateral projects",
            "keep link statistics",
        ] {
            assert!(all.contains(phrase), "{phrase:?} not in {all}");
        }
        assert!(!all.contains('\u{ad}'));
    }

    #[test]
    fn paragraphs_know_their_page() {
        let text = parse(&fixture("mission-report.pdf")).unwrap();
        let purpose = section(&text, "Purpose of this report");
        assert_eq!(purpose.pages.first(), Some(&1));
        assert_eq!(purpose.pages.len(), purpose.paragraphs.len());
        let open = section(&text, "Open questions");
        assert_eq!(open.pages, vec![3, 3]);
        assert!(open.paragraphs[0].starts_with("Three issues remain unresolved."));
    }

    #[test]
    fn two_columns_read_one_after_the_other() {
        let text = parse(&fixture("newsletter-two-column.pdf")).unwrap();
        assert_eq!(
            text.title.as_deref(),
            Some("Partners in Orbit: a newsletter on space cooperation")
        );
        assert_eq!(
            headings(&text),
            vec![
                "Students build a shared cubesat",
                "A common language for docking",
                "Sharing Earth observation data"
            ]
        );
        let all = paragraphs(&text).join("\n");
        let order = [
            "Column one starts here.",
            "The satellite will measure the radiation environment",
            "Engineers continue to refine the international standard",
            "This middle paragraph ends the first column.",
            "Column two starts here.",
            "Satellites that watch floods, fires and storms",
            "This paragraph ends the second column.",
        ];
        let positions: Vec<usize> = order
            .iter()
            .map(|p| all.find(p).unwrap_or_else(|| panic!("{p:?} not in {all}")))
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{all}");
        // Each paragraph is whole: no line of the other column inside it.
        let docking = section(&text, "A common language for docking");
        assert_eq!(docking.paragraphs.len(), 2, "{:#?}", docking.paragraphs);
        assert!(docking.paragraphs[0].ends_with("This middle paragraph ends the first column."));
        assert!(docking.paragraphs[1].starts_with("Column two starts here. Observers point out"));
        assert!(all.contains("lowers the barrier for rescue scenarios"));
    }

    #[test]
    fn headings_come_from_font_sizes_without_an_outline() {
        let with = parse(&fixture("handbook-headings.pdf")).unwrap();
        let without = parse(&fixture("handbook-no-bookmarks.pdf")).unwrap();
        let expected = vec![
            "Chapter 1. Starting a cooperation",
            "1.1 Before the first meeting",
            "1.1.1 Preparing a briefing note",
            "1.1.2 Export control",
            "1.2 Writing the agreement",
            "Chapter 2. Running a joint project",
            "2.1 Meetings and minutes",
            "2.2 When things go wrong",
            "2.2.1 Escalation",
        ];
        assert_eq!(headings(&with), expected);
        assert_eq!(headings(&without), expected);
        assert_eq!(
            without.title.as_deref(),
            Some("Handbook for Partner Liaison Officers")
        );
    }

    #[test]
    fn an_encrypted_pdf_is_refused() {
        assert_eq!(
            parse(&fixture("encrypted.pdf")).unwrap_err(),
            PdfProblem::Encrypted
        );
    }

    #[test]
    fn page_numbers_are_recognised() {
        for number in ["12", "- 12 -", "Page 12", "12 / 40", "Page 12 of 40", "xii"] {
            assert!(is_page_number(number), "{number}");
        }
        for text in ["12 agencies", "Mission", "in 2024."] {
            assert!(!is_page_number(text), "{text}");
        }
    }

    /// A PDF made of the given object bodies (object 1 is the catalog), with a correct
    /// cross-reference table.
    pub(crate) fn build_pdf(objects: &[String]) -> Vec<u8> {
        let mut out = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (i, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
        }
        let xref = out.len();
        out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
        for offset in offsets {
            out.extend(format!("{offset:010} 00000 n \n").as_bytes());
        }
        out.extend(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            )
            .as_bytes(),
        );
        out
    }

    fn stream(content: &str, extra: &str) -> String {
        format!(
            "<< /Length {} {extra} >>\nstream\n{content}\nendstream",
            content.len()
        )
    }

    /// One page showing `content`, with Helvetica as /F1 and the given extra resources.
    fn one_page_pdf(content: &str, resources: &str, more: &[String]) -> Vec<u8> {
        let mut objects = vec![
            "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 5 0 R \
                 /Resources << /Font << /F1 4 0 R >> {resources} >> >>"
            ),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
            stream(content, ""),
        ];
        objects.extend_from_slice(more);
        build_pdf(&objects)
    }

    #[test]
    fn a_minimal_text_pdf_is_read() {
        let bytes = one_page_pdf(
            "BT /F1 12 Tf 72 700 Td (Partners share the station.) Tj ET",
            "",
            &[],
        );
        let text = parse(&bytes).unwrap();
        assert_eq!(paragraphs(&text), vec!["Partners share the station."]);
    }

    #[test]
    fn a_pdf_without_text_is_a_scan() {
        let bytes = one_page_pdf("0 0 m 200 200 l S", "", &[]);
        assert_eq!(parse(&bytes).unwrap_err(), PdfProblem::NoText { pages: 1 });
    }

    #[test]
    fn forms_that_draw_themselves_are_refused_before_they_recurse() {
        let form = stream(
            "/Fm1 Do",
            "/Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources << /XObject << /Fm1 6 0 R >> >>",
        );
        let bytes = one_page_pdf("/Fm1 Do", "/XObject << /Fm1 6 0 R >>", &[form]);
        let problem = parse(&bytes).unwrap_err();
        assert!(
            matches!(&problem, PdfProblem::TooComplex(m) if m.contains("loop")),
            "{problem:?}"
        );
        // A form without resources of its own uses the page's, and loops the same way.
        let form = stream("/Fm1 Do", "/Type /XObject /Subtype /Form /BBox [0 0 10 10]");
        let bytes = one_page_pdf("/Fm1 Do", "/XObject << /Fm1 6 0 R >>", &[form]);
        assert!(matches!(parse(&bytes), Err(PdfProblem::TooComplex(_))));
    }

    #[test]
    fn a_page_tree_that_loops_is_refused() {
        let objects = vec![
            "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 /Parent 3 0 R >>".to_string(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>".to_string(),
            stream("BT (x) Tj ET", ""),
        ];
        let problem = parse(&build_pdf(&objects)).unwrap_err();
        assert!(
            matches!(&problem, PdfProblem::TooComplex(m) if m.contains("page tree")),
            "{problem:?}"
        );
    }

    #[test]
    fn deeply_nested_objects_do_not_overflow_the_stack() {
        let depth = 100_000;
        let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let dictionaries = format!("{}{}", "<< /A ".repeat(depth), ">>".repeat(depth));
        for deep in [nested, dictionaries] {
            let bytes = one_page_pdf(
                &format!("BT /F1 12 Tf 72 700 Td {deep} TJ (Still here.) Tj ET"),
                &format!("/Deep {deep}"),
                &[],
            );
            // Read or refused, but the process is still here to tell.
            match parse(&bytes) {
                Ok(_) | Err(PdfProblem::Unreadable(_) | PdfProblem::TooComplex(_)) => {}
                Err(other) => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn corrupt_and_truncated_pdfs_are_unreadable() {
        let mut corrupt = b"%PDF-1.7\n".to_vec();
        corrupt.extend((0..20_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
        assert!(matches!(parse(&corrupt), Err(PdfProblem::Unreadable(_))));
        let report = fixture("mission-report.pdf");
        for cut in [100, report.len() / 3, report.len() - 200] {
            match parse(&report[..cut]) {
                Ok(text) => assert!(!text.sections.is_empty()),
                Err(PdfProblem::Unreadable(_) | PdfProblem::NoText { .. }) => {}
                Err(other) => panic!("cut at {cut}: {other:?}"),
            }
        }
    }

    #[test]
    fn drawn_xobjects_are_found_in_content_bytes() {
        let names = drawn_xobjects(b"q /Fm1 Do Q /Im2   Do\n/NotDrawn Tf BT (Do) Tj ET");
        assert_eq!(names, vec![b"Fm1".to_vec(), b"Im2".to_vec()]);
    }
}
