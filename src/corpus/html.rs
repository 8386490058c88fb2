//! HTML pages: the text of the page's main content, with `<h2>`–`<h6>` as sections and
//! menus, banners, cookie notices, scripts and styles left out. The tree is walked with
//! an explicit stack, never by recursion, so no page can overflow the stack.

use ego_tree::NodeRef;
use scraper::{Html, Node};

use super::split::collapse_whitespace;
use super::Section;

/// Pages whose elements nest deeper than this are not read: browsers stop nesting at
/// 512 levels too, and real pages stay far below it. Deep nesting also makes the HTML
/// parser slow (its scope checks walk the open elements), so it is checked first.
pub const MAX_NESTING: usize = 512;

/// Elements whose content is never text for readers.
const DROPPED: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "math", "head", "nav", "aside", "form",
    "button", "select", "iframe", "object", "dialog",
];
/// Parts of a page that frame the content: dropped unless they belong to an article or
/// section, where they hold its title or byline.
const PAGE_FRAME: &[&str] = &["header", "footer"];
/// Words in a class or id that mark page furniture rather than content.
const FURNITURE_HINTS: &[&str] = &[
    "cookie",
    "consent",
    "banner",
    "menu",
    "navbar",
    "breadcrumb",
    "sidebar",
    "skip-link",
    "share-",
    "newsletter-signup",
];
/// ARIA roles of page furniture.
const FURNITURE_ROLES: &[&str] = &[
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "search",
    "menu",
    "menubar",
    "dialog",
    "alertdialog",
];
/// Elements whose start and end break the text into paragraphs.
const BLOCKS: &[&str] = &[
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
    "div",
    "section",
    "article",
    "main",
    "header",
    "footer",
    "ul",
    "ol",
    "dl",
    "table",
    "tr",
    "br",
    "hr",
    "body",
    "figure",
    "details",
    "h1",
];
/// Elements with no end tag, which never deepen the nesting.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];
/// Elements whose end tag may be left out; the parser closes them itself, so they are
/// not counted by the nesting check.
const OPTIONAL_END: &[&str] = &[
    "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "thead", "tbody", "tfoot",
    "colgroup", "caption", "rb", "rt", "rp", "html", "head", "body",
];

/// What an HTML page holds once read.
pub struct HtmlPage {
    pub title: Option<String>,
    /// The page's `<link rel="canonical">` address, when it gives an absolute one.
    pub canonical: Option<String>,
    pub sections: Vec<Section>,
}

/// Why a page is not read.
#[derive(Debug, PartialEq)]
pub struct TooDeep {
    pub depth: usize,
}

/// Reads a page.
///
/// # Errors
/// [`TooDeep`] when its elements nest deeper than [`MAX_NESTING`].
pub fn parse(text: &str) -> Result<HtmlPage, TooDeep> {
    let depth = nesting_depth(text);
    if depth > MAX_NESTING {
        return Err(TooDeep { depth });
    }
    let html = Html::parse_document(text);
    let root = html.tree.root();

    let mut page_title = None;
    let mut canonical = None;
    let mut main = None;
    let mut articles = Vec::new();
    let mut body = None;
    for node in root.descendants() {
        let Node::Element(element) = node.value() else {
            continue;
        };
        match element.name() {
            "title" if page_title.is_none() && !inside(node, &["svg"]) => {
                page_title = Some(collapse_whitespace(&text_of(node)));
            }
            "link" if canonical.is_none() => {
                let is_canonical = element.attr("rel").is_some_and(|rel| {
                    rel.split_whitespace()
                        .any(|r| r.eq_ignore_ascii_case("canonical"))
                });
                let href = element.attr("href").map(str::trim).unwrap_or_default();
                if is_canonical && (href.starts_with("https://") || href.starts_with("http://")) {
                    canonical = Some(href.to_string());
                }
            }
            "main" if main.is_none() => main = Some(node),
            "article" => articles.push(node),
            "body" if body.is_none() => body = Some(node),
            _ => {}
        }
    }
    // The main content: `<main>`, else a single `<article>`, else the whole body.
    let content = main
        .or(if articles.len() == 1 {
            articles.first().copied()
        } else {
            None
        })
        .or(body)
        .unwrap_or(root);

    let mut walker = Walker {
        sections: vec![Section::new(None, Vec::new())],
        first_h1: None,
        current: String::new(),
    };
    walker.walk(content);
    let title = page_title.filter(|t| !t.is_empty());
    // A page title often carries the site's name ("Gateway | Agency"): the page's own
    // `<h1>` is the cleaner title when the rest of the page title is only that.
    let title = match (title, walker.first_h1.take()) {
        (Some(title), Some(h1)) if is_site_name_around(&title, &h1) => Some(h1),
        (Some(title), _) => Some(title),
        (None, h1) => h1,
    };
    Ok(HtmlPage {
        title,
        canonical,
        sections: walker.sections,
    })
}

struct Walker {
    sections: Vec<Section>,
    first_h1: Option<String>,
    /// Text since the last block boundary.
    current: String,
}

/// A step of the walk: entering a node, or leaving the element that was entered.
enum Step<'a> {
    Enter(NodeRef<'a, Node>),
    Leave(&'a str),
}

impl Walker {
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

    fn walk(&mut self, content: NodeRef<'_, Node>) {
        // Articles and sections own the headers and footers inside them; counted on the way.
        let mut in_sectioning = 0usize;
        let mut stack = vec![Step::Enter(content)];
        while let Some(step) = stack.pop() {
            let node = match step {
                Step::Leave(name) => {
                    if matches!(name, "article" | "section" | "main") {
                        in_sectioning -= 1;
                    }
                    if BLOCKS.contains(&name) {
                        self.flush();
                    }
                    continue;
                }
                Step::Enter(node) => node,
            };
            let element = match node.value() {
                Node::Text(text) => {
                    self.current.push_str(text);
                    continue;
                }
                Node::Element(element) => element,
                _ => {
                    continue;
                }
            };
            let name = element.name();
            let is_content_root = node == content;
            if !is_content_root && is_furniture(element, name, in_sectioning > 0) {
                continue;
            }
            if let Some(level) = heading_level(name) {
                self.flush();
                let heading = collapse_whitespace(&visible_text(node));
                if heading.is_empty() {
                    continue;
                }
                if level == 1 && self.first_h1.is_none() {
                    self.first_h1 = Some(heading);
                } else {
                    self.sections.push(Section::new(Some(heading), Vec::new()));
                }
                continue;
            }
            if BLOCKS.contains(&name) {
                self.flush();
            }
            if matches!(name, "article" | "section" | "main") {
                in_sectioning += 1;
            }
            stack.push(Step::Leave(name));
            let children: Vec<_> = node.children().collect();
            stack.extend(children.into_iter().rev().map(Step::Enter));
        }
        self.flush();
    }
}

/// Whether `title` is `heading` with a site name joined by a separator, before or after
/// it ("Gateway | Agency", "Agency - Gateway").
fn is_site_name_around(title: &str, heading: &str) -> bool {
    const SEPARATORS: &[char] = &['|', '-', '–', '—', '·', ':', '•'];
    if heading.is_empty() || title == heading {
        return false;
    }
    if let Some(rest) = title.strip_prefix(heading) {
        return rest.trim_start().starts_with(SEPARATORS);
    }
    if let Some(rest) = title.strip_suffix(heading) {
        return rest.trim_end().ends_with(SEPARATORS);
    }
    false
}

/// Whether an element is part of the page's frame rather than its content.
fn is_furniture(element: &scraper::node::Element, name: &str, in_sectioning: bool) -> bool {
    if DROPPED.contains(&name) || (PAGE_FRAME.contains(&name) && !in_sectioning) {
        return true;
    }
    if element.attr("hidden").is_some()
        || element
            .attr("aria-hidden")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        return true;
    }
    if element
        .attr("role")
        .is_some_and(|role| FURNITURE_ROLES.contains(&role.trim().to_ascii_lowercase().as_str()))
    {
        return true;
    }
    // Whole-page wrappers are never furniture, whatever their classes say (a body may
    // carry `has-cookie-banner`).
    if matches!(name, "html" | "body" | "main" | "article") {
        return false;
    }
    let hinted = |value: &str| {
        let value = value.to_ascii_lowercase();
        FURNITURE_HINTS.iter().any(|hint| value.contains(hint))
    };
    element.attr("class").is_some_and(hinted) || element.attr("id").is_some_and(hinted)
}

fn heading_level(name: &str) -> Option<u8> {
    match name {
        "h1" => Some(1),
        "h2" => Some(2),
        "h3" => Some(3),
        "h4" => Some(4),
        "h5" => Some(5),
        "h6" => Some(6),
        _ => None,
    }
}

/// Whether a node lies inside one of the named elements.
fn inside(node: NodeRef<'_, Node>, names: &[&str]) -> bool {
    node.ancestors().any(|a| match a.value() {
        Node::Element(e) => names.contains(&e.name()),
        _ => false,
    })
}

/// All text below a node.
fn text_of(node: NodeRef<'_, Node>) -> String {
    node.descendants()
        .filter_map(|n| match n.value() {
            Node::Text(t) => Some(&**t),
            _ => None,
        })
        .collect()
}

/// Text below a node, leaving out what a reader never sees (scripts, styles, ...).
fn visible_text(node: NodeRef<'_, Node>) -> String {
    let mut text = String::new();
    let mut stack = vec![node];
    while let Some(node) = stack.pop() {
        match node.value() {
            Node::Text(t) => text.push_str(t),
            Node::Element(e) if DROPPED.contains(&e.name()) => continue,
            _ => {}
        }
        let children: Vec<_> = node.children().collect();
        stack.extend(children.into_iter().rev());
    }
    text
}

/// How deep the page's elements nest, from its tags alone: void elements, elements whose
/// end tag may be left out, comments and the content of scripts and styles are not
/// counted. Linear in the page's length.
fn nesting_depth(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut deepest = 0usize;
    let mut at = 0;
    while let Some(offset) = memchr(b'<', &bytes[at..]) {
        at += offset + 1;
        if bytes[at..].starts_with(b"!--") {
            at = find(bytes, at, b"-->").unwrap_or(bytes.len());
            continue;
        }
        let closing = bytes.get(at) == Some(&b'/');
        let name_start = at + usize::from(closing);
        let name_end = name_start
            + bytes[name_start..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
                .count();
        if name_end == name_start {
            continue;
        }
        let name = text[name_start..name_end].to_ascii_lowercase();
        let tag_end = memchr(b'>', &bytes[name_end..]).map_or(bytes.len(), |i| name_end + i);
        let self_closing = tag_end > 0 && bytes.get(tag_end - 1) == Some(&b'/');
        at = tag_end.min(bytes.len());
        if VOID.contains(&name.as_str()) || OPTIONAL_END.contains(&name.as_str()) {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
        } else if !self_closing {
            depth += 1;
            deepest = deepest.max(depth);
            if matches!(name.as_str(), "script" | "style" | "textarea" | "title") {
                // Raw text: its `<` are not tags.
                let end_tag = format!("</{name}");
                at = find_ignore_case(bytes, at, end_tag.as_bytes()).unwrap_or(bytes.len());
            }
        }
    }
    deepest
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| from + i + needle.len())
}

fn find_ignore_case(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|i| from + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> HtmlPage {
        parse(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/formats/artemis-accords.html"
        )))
        .unwrap()
    }

    fn all_text(page: &HtmlPage) -> String {
        page.sections
            .iter()
            .flat_map(|s| s.heading.iter().chain(&s.paragraphs))
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn title_is_the_h1_when_the_page_title_adds_the_site_name() {
        assert_eq!(
            fixture().title.as_deref(),
            Some("The Artemis Accords and how nations join them")
        );
    }

    #[test]
    fn canonical_link_is_the_source() {
        assert_eq!(
            fixture().canonical.as_deref(),
            Some("https://www.example.org/cooperation/artemis-accords")
        );
    }

    #[test]
    fn sections_come_from_h2_to_h6() {
        let page = fixture();
        let headings: Vec<&str> = page
            .sections
            .iter()
            .filter_map(|s| s.heading.as_deref())
            .collect();
        assert_eq!(
            headings,
            vec![
                "What the accords say",
                "Interoperability and rescue",
                "How a nation signs",
                "Criticism"
            ]
        );
    }

    #[test]
    fn navigation_banners_and_scripts_are_dropped() {
        let text = all_text(&fixture());
        for furniture in [
            "Accept all cookies",
            "Skip to content",
            "Home",
            "Site map",
            "Related stories",
            "Subscribe to our newsletter",
            "trackVisit",
            "font-family",
            "You are here",
            "Copyright",
        ] {
            assert!(
                !text.contains(furniture),
                "{furniture:?} leaked into {text}"
            );
        }
        assert!(text.contains("The accords are a set of non-binding principles"));
        assert!(
            text.contains("By Editorial Team"),
            "the article's own header stays"
        );
    }

    #[test]
    fn a_page_title_that_only_adds_a_site_name_gives_way_to_the_h1() {
        assert!(is_site_name_around("Gateway | Agency", "Gateway"));
        assert!(is_site_name_around("Agency - Gateway", "Gateway"));
        assert!(!is_site_name_around(
            "The Outer Space Treaty of 1967",
            "The Outer Space Treaty"
        ));
        assert!(!is_site_name_around("Gateway", "Gateway"));
    }

    #[test]
    fn nesting_is_measured_from_tags() {
        assert_eq!(nesting_depth("<div><p>a<p>b<div>c</div></div>"), 2);
        assert_eq!(
            nesting_depth("<script>if (a < b) { x('<div>') }</script>"),
            1
        );
        assert_eq!(nesting_depth("<!-- <div><div> --><br><img src=x>"), 0);
        let deep = "<div>".repeat(600);
        assert_eq!(parse(&deep).err(), Some(TooDeep { depth: 600 }));
    }

    #[test]
    fn deep_but_allowed_nesting_is_walked_without_recursion() {
        let page = format!("{}text{}", "<div>".repeat(500), "</div>".repeat(500));
        let page = parse(&page).unwrap();
        assert_eq!(page.sections[0].paragraphs, vec!["text"]);
    }
}
