//! Turns answers into Discord messages, as plain data: pure functions that enforce
//! Discord's limits, escape user text and neutralise mentions. Nothing here talks to
//! the network or knows a transport.

use super::commands::ButtonId;
use super::response::{Button, Choice, Embed, Field, Message};
use crate::answer::{Answer, Hit, Snippet};
use crate::corpus::split::collapse_whitespace;
use crate::index::DocumentInfo;
use crate::insights::{self, Counts, Report as InsightsReport, Vote};
use crate::reindex::{Report, Stage};
use crate::text::strip_format_chars;

/// Discord's limits on what one message may carry (see the API's RichEmbed and
/// message-create schemas).
pub mod limits {
    pub const CONTENT: usize = 2_000;
    pub const EMBED_TITLE: usize = 256;
    pub const EMBED_DESCRIPTION: usize = 4_096;
    pub const FIELD_NAME: usize = 256;
    pub const FIELD_VALUE: usize = 1_024;
    pub const FOOTER: usize = 2_048;
    pub const EMBED_TOTAL: usize = 6_000;
    pub const FIELDS: usize = 25;
    pub const EMBEDS: usize = 10;
    pub const CUSTOM_ID: usize = 100;
    pub const BUTTON_LABEL: usize = 80;
    pub const CHOICE: usize = 100;
    pub const CHOICES: usize = 25;
    pub const URL: usize = 2_048;
}

/// Search results shown per page of `/search`.
pub const RESULTS_PER_PAGE: usize = 5;
/// Passages from other documents shown under the top one in `/ask`.
pub const EXTRA_PASSAGES: usize = 2;
const ACCENT: u32 = 0x2B6CB0;

impl Embed {
    fn text_length(&self) -> usize {
        chars(&self.title)
            + chars(&self.description)
            + chars(&self.footer)
            + self
                .fields
                .iter()
                .map(|f| chars(&f.name) + chars(&f.value))
                .sum::<usize>()
    }
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

/// Cuts `text` to at most `max` characters at a character boundary, ending with "…"
/// when it was cut, and keeps `**` bold markers balanced.
pub fn truncate(text: &str, max: usize) -> String {
    if chars(text) <= max {
        return text.to_string();
    }
    if max == 0 {
        return String::new();
    }
    // Room for "…" and a closing "**".
    let keep = max.saturating_sub(3);
    let mut cut: String = text.chars().take(keep).collect();
    // A trailing backslash would escape the ellipsis.
    while cut.ends_with('\\') {
        cut.pop();
    }
    if cut.matches("**").count() % 2 == 1 {
        cut.push_str("**");
    }
    cut.push('…');
    cut
}

/// A snippet as Discord Markdown: highlighted words in bold, every other Markdown
/// character escaped, "…" where the fragment cuts the passage.
pub fn markdown_snippet(snippet: &Snippet) -> String {
    snippet.marked("**", "**", escape_markdown)
}

/// Escapes the characters Markdown (as Discord renders it) gives meaning to, and the
/// quote, heading and list markers that only count at the start of a line.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut line_start = true;
    // Runs between the characters to escape are copied whole: this runs on every
    // snippet of every answer, and a push per character made it the larger part of
    // rendering an answer.
    let mut copied = 0;
    for (at, c) in text.char_indices() {
        let special = matches!(c, '\\' | '*' | '_' | '~' | '`' | '|' | '[' | ']' | '<')
            || (line_start && matches!(c, '>' | '#' | '-'));
        if special {
            out.push_str(&text[copied..at]);
            out.push('\\');
            copied = at;
        }
        if c == '\n' {
            line_start = true;
        } else if !c.is_whitespace() {
            line_start = false;
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// Makes text from users or the corpus unable to ping anyone: `@everyone`, `@here`
/// and `<@id>` forms get a zero-width space after the `@`.
pub fn neutralize_mentions(text: &str) -> String {
    text.replace('@', "@\u{200B}")
}

/// Escapes user text echoed back: no formatting, links, mentions, line breaks, or
/// invisible format characters (bidi controls could reorder the reply around it). The
/// zero-width spaces added here to break mentions and links come after the stripping.
pub fn escape_user_text(text: &str) -> String {
    let visible = strip_format_chars(text);
    neutralize_mentions(&escape_markdown(&collapse_whitespace(&visible)))
        .replace("://", ":\u{200B}//")
}

/// A URL Discord accepts for an embed link, if `source` is one.
fn embed_url(source: &str) -> Option<String> {
    let ok = (source.starts_with("https://") || source.starts_with("http://"))
        && chars(source) <= limits::URL
        && !source.contains(char::is_whitespace);
    ok.then(|| source.to_string())
}

fn hit_title(hit: &Hit) -> String {
    let text = if hit.section.is_empty() {
        hit.title.clone()
    } else {
        format!("{} › {}", hit.title, hit.section)
    };
    neutralize_mentions(&text)
}

fn hit_embed(hit: &Hit, description: &str) -> Embed {
    let source = neutralize_mentions(&hit.source);
    Embed {
        title: truncate(&hit_title(hit), limits::EMBED_TITLE),
        description: truncate(&neutralize_mentions(description), limits::EMBED_DESCRIPTION),
        url: embed_url(&hit.source),
        footer: truncate(
            &format!("Source: {source} · relevance {:.1}", hit.score),
            limits::FOOTER,
        ),
        fields: Vec::new(),
        colour: ACCENT,
    }
}

/// Keeps a message within the 6,000-character budget for all its embeds, shortening
/// the later (less relevant) embeds first and dropping them if need be.
fn fit_embeds(embeds: &mut Vec<Embed>) {
    loop {
        let total: usize = embeds.iter().map(Embed::text_length).sum();
        if total <= limits::EMBED_TOTAL {
            return;
        }
        let excess = total - limits::EMBED_TOTAL;
        let several = embeds.len() > 1;
        let Some(last) = embeds.last_mut() else {
            return;
        };
        let room = chars(&last.description).saturating_sub(excess);
        if several && room < 100 {
            embeds.pop();
        } else if let Some(field) = last.fields.iter_mut().rev().find(|f| chars(&f.value) > 1) {
            let keep = chars(&field.value).saturating_sub(excess).max(1);
            field.value = truncate(&field.value, keep);
        } else {
            last.description = truncate(&last.description, room);
            if chars(&last.description) <= room {
                return;
            }
        }
    }
}

/// The `/ask` reply: the top passage with its best snippet, up to two more passages
/// from other documents, and a "More results" button. `session` names the search the
/// button continues.
pub fn ask_message(answer: &Answer, searched: &[String], session: u64, ephemeral: bool) -> Message {
    // The suggestion is the user's question with words respelled: user text.
    let did_you_mean = answer
        .suggested_question()
        .map(|s| format!("Did you mean “{}”? ", escape_user_text(s)))
        .unwrap_or_default();
    if let Some(pronoun) = &answer.unnamed_subject {
        return Message {
            content: truncate(&name_the_subject(pronoun), limits::CONTENT),
            ephemeral,
            ..Message::default()
        };
    }
    if !answer.answered || answer.passages.is_empty() {
        let mut message = no_answer_message(&answer.question, searched, ephemeral);
        message.content = truncate(
            &format!("{did_you_mean}{}", message.content),
            limits::CONTENT,
        );
        return message;
    }
    let top = &answer.passages[0];
    let mut embeds = vec![hit_embed(top, &markdown_snippet(&top.snippet))];
    let mut shown = vec![top.doc_id.as_str()];
    for hit in &answer.passages[1..] {
        if embeds.len() > EXTRA_PASSAGES || shown.contains(&hit.doc_id.as_str()) {
            continue;
        }
        shown.push(&hit.doc_id);
        embeds.push(hit_embed(hit, &markdown_snippet(&hit.snippet)));
    }
    fit_embeds(&mut embeds);
    // The sentence of the top passage that best answers, marked above the passages.
    let best = answer
        .best_sentence
        .as_deref()
        .map(|sentence| {
            format!(
                "\n**A:** {}",
                escape_markdown(&neutralize_mentions(&collapse_whitespace(sentence)))
            )
        })
        .unwrap_or_default();
    let content = truncate(
        &format!(
            "{did_you_mean}**Q:** {}{best}",
            escape_user_text(&answer.question)
        ),
        limits::CONTENT,
    );
    Message {
        content,
        embeds,
        buttons: vec![more_results_button(session)],
        ephemeral,
    }
}

fn more_results_button(session: u64) -> Button {
    Button {
        id: ButtonId::MoreResults { session },
        label: "More results".to_string(),
        disabled: false,
    }
}

/// The buttons under an answer that takes feedback: "More results", then 👍 and 👎
/// with their counts.
pub fn answer_buttons(session: u64, answer: u64, counts: Counts) -> Vec<Button> {
    let label = |emoji: &str, count: u64| {
        if count == 0 {
            emoji.to_string()
        } else {
            format!("{emoji} {count}")
        }
    };
    vec![
        more_results_button(session),
        Button {
            id: ButtonId::Vote {
                answer,
                session,
                vote: Vote::Up,
            },
            label: label("👍", counts.up),
            disabled: false,
        },
        Button {
            id: ButtonId::Vote {
                answer,
                session,
                vote: Vote::Down,
            },
            label: label("👎", counts.down),
            disabled: false,
        },
    ]
}

/// What the bot says when a question names its subject only with a pronoun.
pub fn name_the_subject(pronoun: &str) -> String {
    format!(
        "Which mission, agency or treaty do you mean by “{}”? I answer each question on its \
         own, so please ask again with its name, for example “When was Kibo launched?”.",
        escape_user_text(pronoun)
    )
}

/// What the bot says when nothing answers the question: what it searched, what to try.
pub fn no_answer_message(question: &str, searched: &[String], ephemeral: bool) -> Message {
    let question = escape_user_text(question);
    let searched = if searched.is_empty() {
        "It had no words I could search for.".to_string()
    } else {
        format!(
            "I searched for: {}.",
            escape_user_text(&searched.join(", "))
        )
    };
    let content = format!(
        "I found nothing in my documents that answers “{question}”. {searched} \
         Try other words or the full name of a mission, agency or treaty (for example \
         “Artemis Accords” or “Kibo module”), use `/search` for a list of passages, or \
         `/help` to see what I know."
    );
    Message {
        content: truncate(&content, limits::CONTENT),
        ephemeral,
        ..Message::default()
    }
}

/// One page of `/search` results, five passages a page, with ◀ ▶ buttons.
pub fn search_page(
    query: &str,
    hits: &[Hit],
    page: usize,
    session: u64,
    ephemeral: bool,
) -> Message {
    let pages = hits.len().div_ceil(RESULTS_PER_PAGE).max(1);
    let page = page.min(pages - 1);
    if hits.is_empty() {
        return Message {
            content: truncate(
                &format!(
                    "No passages match “{}”. Try fewer or other words, or `/help` to see what I know.",
                    escape_user_text(query)
                ),
                limits::CONTENT,
            ),
            ephemeral,
            ..Message::default()
        };
    }
    let start = page * RESULTS_PER_PAGE;
    let fields = hits
        .iter()
        .enumerate()
        .skip(start)
        .take(RESULTS_PER_PAGE)
        .map(|(i, hit)| {
            let link = embed_url(&hit.source)
                .map(|url| format!("\n<{url}>"))
                .unwrap_or_default();
            let budget = limits::FIELD_VALUE.saturating_sub(chars(&link));
            Field {
                name: truncate(
                    &format!("{}. {}", i + 1, hit_title(hit)),
                    limits::FIELD_NAME,
                ),
                value: format!(
                    "{}{link}",
                    truncate(
                        &neutralize_mentions(&markdown_snippet(&hit.snippet)),
                        budget
                    )
                ),
            }
        })
        .collect();
    let mut embeds = vec![Embed {
        title: truncate(
            &format!("Results for “{}”", escape_user_text(query)),
            limits::EMBED_TITLE,
        ),
        description: String::new(),
        url: None,
        footer: format!("Page {} of {pages} · {} passages", page + 1, hits.len()),
        fields,
        colour: ACCENT,
    }];
    fit_embeds(&mut embeds);
    Message {
        content: String::new(),
        embeds,
        buttons: vec![
            Button {
                id: ButtonId::Page {
                    session,
                    page: page.saturating_sub(1),
                },
                label: "◀".to_string(),
                disabled: page == 0,
            },
            Button {
                id: ButtonId::Page {
                    session,
                    page: page + 1,
                },
                label: "▶".to_string(),
                disabled: page + 1 >= pages,
            },
        ],
        ephemeral,
    }
}

/// The `/source` reply: a document's title, summary and links.
pub fn source_message(document: &DocumentInfo, first_passage: Option<&str>) -> Message {
    let summary = document
        .summary
        .clone()
        .or_else(|| first_passage.map(str::to_string))
        .unwrap_or_default();
    let mut fields = Vec::new();
    if !document.sources.is_empty() {
        let links = document
            .sources
            .iter()
            .map(|s| neutralize_mentions(s))
            .collect::<Vec<_>>()
            .join("\n");
        fields.push(Field {
            name: "Sources".to_string(),
            value: truncate(&links, limits::FIELD_VALUE),
        });
    }
    for (name, values) in [("Agencies", &document.agencies), ("Tags", &document.tags)] {
        if !values.is_empty() {
            fields.push(Field {
                name: name.to_string(),
                value: truncate(
                    &escape_markdown(&neutralize_mentions(&values.join(", "))),
                    limits::FIELD_VALUE,
                ),
            });
        }
    }
    fields.truncate(limits::FIELDS);
    let mut embeds = vec![Embed {
        title: truncate(&neutralize_mentions(&document.title), limits::EMBED_TITLE),
        description: truncate(
            &escape_markdown(&neutralize_mentions(&summary)),
            limits::EMBED_DESCRIPTION,
        ),
        url: document.sources.first().and_then(|s| embed_url(s)),
        footer: truncate(
            &format!(
                "{} · {} passages",
                neutralize_mentions(&document.path),
                document.passages
            ),
            limits::FOOTER,
        ),
        fields,
        colour: ACCENT,
    }];
    fit_embeds(&mut embeds);
    Message {
        embeds,
        ..Message::default()
    }
}

/// The `/help` reply: what the bot knows and how to ask it.
pub fn help_message(documents: &[DocumentInfo], passages: usize) -> Message {
    let mut tag_counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for document in documents {
        for tag in &document.tags {
            *tag_counts.entry(tag.as_str()).or_default() += 1;
        }
    }
    let mut topics: Vec<(&str, usize)> = tag_counts.into_iter().collect();
    topics.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let topics = topics
        .iter()
        .take(20)
        .map(|(tag, n)| format!("{tag} ({n})"))
        .collect::<Vec<_>>()
        .join(", ");
    let description = format!(
        "I answer questions about international collaboration in space — the ISS partnership, \
         space law, the Moon, science missions, agencies and commercial partners — with passages \
         from {} curated documents ({passages} passages), each with its source.",
        documents.len()
    );
    let fields = vec![
        Field {
            name: "How to ask".to_string(),
            value:
                "`/ask question:Which agencies built the ISS?` — the best passages, with sources.\n\
                    `/search query:Artemis Accords` — a list of matching passages, five a page.\n\
                    `/source document:` — a document's summary and links (start typing a title).\n\
                    Add `private:True` to see the reply alone."
                    .to_string(),
        },
        Field {
            name: "Topics".to_string(),
            value: truncate(
                &escape_markdown(&neutralize_mentions(&topics)),
                limits::FIELD_VALUE,
            ),
        },
    ];
    Message {
        embeds: vec![Embed {
            title: "spacecollab: international collaboration in space".to_string(),
            description,
            url: None,
            footer: "Answers come only from the bundled documents; check the linked sources."
                .to_string(),
            fields,
            colour: ACCENT,
        }],
        ephemeral: true,
        ..Message::default()
    }
}

/// A short ephemeral sentence, for refusals and errors.
pub fn notice(text: &str) -> Message {
    Message {
        content: truncate(text, limits::CONTENT),
        ephemeral: true,
        ..Message::default()
    }
}

/// The `/reindex` progress line: a bar, the stage, and the time so far.
pub fn reindex_progress(stage: Option<Stage>, elapsed: std::time::Duration) -> String {
    let percent = stage.map_or(0, Stage::percent);
    let filled = usize::from(percent) / 10;
    let bar = format!("{}{}", "█".repeat(filled), "░".repeat(10 - filled));
    let detail = match stage {
        None => "starting".to_string(),
        Some(Stage::Reading(done, total)) => format!("reading files {done}/{total}"),
        Some(Stage::Indexing(done, total)) => format!("indexing documents {done}/{total}"),
    };
    format!(
        "Reindexing… {bar} {percent}% · {detail} · {:.0} s",
        elapsed.as_secs_f64()
    )
}

/// Names up to `limit` titles, then says how many more there are.
fn named(titles: &[String], limit: usize) -> String {
    let mut shown: Vec<String> = titles
        .iter()
        .take(limit)
        .map(|t| escape_markdown(&neutralize_mentions(t)))
        .collect();
    if titles.len() > limit {
        shown.push(format!("and {} more", titles.len() - limit));
    }
    shown.join("; ")
}

/// The `/reindex` summary: what changed, what was skipped and why, and the time taken.
pub fn reindex_summary(report: &Report) -> String {
    let mut lines = vec![format!(
        "Reindex done in {:.1} s: {} documents, {} passages.",
        report.seconds, report.documents, report.passages
    )];
    for (label, titles) in [
        ("Added", &report.added),
        ("Changed", &report.changed),
        ("Removed", &report.removed),
    ] {
        if !titles.is_empty() {
            lines.push(format!("{label} ({}): {}", titles.len(), named(titles, 10)));
        }
    }
    if report.added.is_empty() && report.changed.is_empty() && report.removed.is_empty() {
        lines.push("No document was added, changed or removed.".to_string());
    }
    if !report.skipped.is_empty() {
        lines.push(format!("Skipped {} file(s):", report.skipped.len()));
        for skipped in report.skipped.iter().take(10) {
            lines.push(format!(
                "• {}",
                escape_markdown(&neutralize_mentions(&skipped.to_string()))
            ));
        }
        if report.skipped.len() > 10 {
            lines.push(format!(
                "• and {} more (see the log)",
                report.skipped.len() - 10
            ));
        }
    }
    truncate(&lines.join("\n"), limits::CONTENT)
}

/// Autocomplete choices for `/source`: titles containing what was typed, prefix
/// matches first, at most 25, names and values within 100 characters.
pub fn document_choices(documents: &[DocumentInfo], typed: &str) -> Vec<Choice> {
    let typed = typed.trim().to_lowercase();
    let mut matches: Vec<(bool, &DocumentInfo)> = documents
        .iter()
        .filter_map(|d| {
            let title = d.title.to_lowercase();
            let found =
                typed.is_empty() || title.contains(&typed) || d.id.to_lowercase().contains(&typed);
            found.then(|| (title.starts_with(&typed), d))
        })
        .collect();
    matches.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.title.cmp(&b.1.title)));
    matches
        .into_iter()
        .filter(|(_, d)| chars(&d.id) <= limits::CHOICE)
        .take(limits::CHOICES)
        .map(|(_, d)| Choice {
            name: truncate(&d.title, limits::CHOICE),
            value: d.id.clone(),
        })
        .collect()
}

/// Most characters of report lines on one `/insights` page: well inside a description
/// (4,096) and the 6,000 of a message with its title and footer.
const INSIGHTS_PAGE_CHARS: usize = 3_500;
/// Longest line of the report; a longer note or question is cut.
const INSIGHTS_LINE_CHARS: usize = 600;

/// The report's lines, section by section, escaped: questions, notes and terms are user
/// text; titles and sections come from the corpus.
fn insights_lines(report: &InsightsReport) -> Vec<String> {
    let corpus = |text: &str| escape_markdown(&neutralize_mentions(&collapse_whitespace(text)));
    let not_kept = "(text not kept)";
    let mut lines = vec!["**Most asked unanswered questions**".to_string()];
    if report.unanswered.is_empty() {
        lines.push("None.".to_string());
    }
    for (i, group) in report.unanswered.iter().enumerate() {
        lines.push(format!(
            "{}. {}× “{}” · {}",
            i + 1,
            group.count,
            escape_user_text(group.example.as_deref().unwrap_or(not_kept)),
            escape_user_text(&group.terms)
        ));
    }
    lines.push("**Most down-voted answers**".to_string());
    if report.disliked.is_empty() {
        lines.push("None.".to_string());
    }
    for (i, answer) in report.disliked.iter().enumerate() {
        lines.push(format!(
            "{}. 👎 {} · 👍 {} · “{}” → {}",
            i + 1,
            answer.down,
            answer.up,
            escape_user_text(answer.question.as_deref().unwrap_or(not_kept)),
            corpus(&insights::passage(answer))
        ));
        for note in &answer.notes {
            lines.push(format!("  › {}", escape_user_text(note)));
        }
    }
    lines.push(format!(
        "**Documents never shown ({})**",
        report.never_shown.len()
    ));
    if report.never_shown.is_empty() {
        lines.push("None.".to_string());
    }
    for title in &report.never_shown {
        lines.push(format!("• {}", corpus(title)));
    }
    lines
        .into_iter()
        .map(|line| truncate(&line, INSIGHTS_LINE_CHARS))
        .collect()
}

/// The report's lines in pages of at most [`INSIGHTS_PAGE_CHARS`].
fn insights_pages(report: &InsightsReport) -> Vec<String> {
    let mut pages = vec![String::new()];
    for line in insights_lines(report) {
        let current = pages.last_mut().expect("one page at least");
        if !current.is_empty() && chars(current) + 1 + chars(&line) > INSIGHTS_PAGE_CHARS {
            pages.push(line);
        } else {
            if !current.is_empty() {
                current.push('\n');
            }
            current.push_str(&line);
        }
    }
    pages
}

/// One page of `/insights` (the last when `page` is past it): the figures above, the
/// page's lines in an embed, and ◀ ▶ when there are several pages. Private.
pub fn insights_page(report: &InsightsReport, page: usize) -> Message {
    let pages = insights_pages(report);
    let page = page.min(pages.len() - 1);
    let content = format!(
        "**Insights, last {} day(s):** {} question(s), {:.0}% answered · 👍 {} · 👎 {}",
        report.days,
        report.questions,
        report.answered_percent(),
        report.up_votes,
        report.down_votes
    );
    let mut buttons = Vec::new();
    if pages.len() > 1 {
        let days = report.days;
        buttons = vec![
            Button {
                id: ButtonId::InsightsPage {
                    days,
                    page: page.saturating_sub(1),
                },
                label: "◀".to_string(),
                disabled: page == 0,
            },
            Button {
                id: ButtonId::InsightsPage {
                    days,
                    page: page + 1,
                },
                label: "▶".to_string(),
                disabled: page + 1 == pages.len(),
            },
        ];
    }
    let mut embeds = vec![Embed {
        title: format!("Page {} of {}", page + 1, pages.len()),
        description: truncate(&pages[page], limits::EMBED_DESCRIPTION),
        url: None,
        footer:
            "Who asked is never shown or kept. Improve the corpus where questions go unanswered."
                .to_string(),
        fields: Vec::new(),
        colour: ACCENT,
    }];
    fit_embeds(&mut embeds);
    Message {
        content: truncate(&content, limits::CONTENT),
        embeds,
        buttons,
        ephemeral: true,
    }
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        /// The escaping that copies runs gives what escaping each character in turn
        /// gives, for any text (Unicode whitespace and line starts included).
        #[test]
        fn escaping_by_runs_matches_escaping_by_characters(text in "[-a-z \u{a0}\u{2003}\n>#*_~`|\\[\\]<\\\\é😀]{0,40}") {
            let mut expected = String::new();
            let mut line_start = true;
            for c in text.chars() {
                if matches!(c, '\\' | '*' | '_' | '~' | '`' | '|' | '[' | ']' | '<')
                    || (line_start && matches!(c, '>' | '#' | '-'))
                {
                    expected.push('\\');
                }
                expected.push(c);
                if c == '\n' {
                    line_start = true;
                } else if !c.is_whitespace() {
                    line_start = false;
                }
            }
            proptest::prop_assert_eq!(super::escape_markdown(&text), expected);
        }
    }

    use super::*;

    fn hit(doc: &str, snippet: &str) -> Hit {
        Hit {
            doc_id: doc.to_string(),
            title: format!("Title of {doc}"),
            section: "Section".to_string(),
            source: format!("https://example.org/{doc}"),
            score: 12.5,
            text: snippet.to_string(),
            snippet: Snippet::new(snippet, snippet, &[]),
            position: 0,
        }
    }

    fn answer(passages: Vec<Hit>) -> Answer {
        Answer {
            question: "Who built **Kibo**? @everyone".to_string(),
            answered: true,
            passages,
            best_sentence: None,
            suggestion: None,
            unnamed_subject: None,
        }
    }

    #[test]
    fn snippets_bold_highlights_and_escape_markdown() {
        let text = "The *Kibo* module_a was built by JAXA.";
        let start = text.find("JAXA").unwrap();
        let snippet = Snippet::new(text, text, std::slice::from_ref(&(start..start + 4)));
        assert_eq!(
            markdown_snippet(&snippet),
            "The \\*Kibo\\* module\\_a was built by **JAXA**."
        );
        let cut = Snippet::new("One two three.", "two", &[]);
        assert_eq!(markdown_snippet(&cut), "…two…");
    }

    #[test]
    fn truncation_respects_the_limit_and_character_boundaries() {
        let text = "🚀".repeat(300);
        let cut = truncate(&text, 256);
        assert_eq!(cut.chars().count(), 254);
        assert!(cut.ends_with('…'));
        assert_eq!(truncate("short", 256), "short");
    }

    #[test]
    fn truncation_keeps_bold_balanced() {
        let cut = truncate("aaaa **bold words that go on and on**", 12);
        assert!(cut.chars().count() <= 12, "{cut}");
        assert_eq!(cut.matches("**").count() % 2, 0, "{cut}");
    }

    #[test]
    fn user_text_cannot_mention_link_or_format() {
        let escaped = escape_user_text("@everyone <@123> **bold** [x](https://evil.example)\nnext");
        assert!(!escaped.contains("@everyone"));
        assert!(!escaped.contains("<@123>"));
        assert!(!escaped.contains("https://"));
        assert!(!escaped.contains('\n'));
        assert!(escaped.contains("\\*\\*bold\\*\\*"));
    }

    #[test]
    fn echoed_user_text_loses_bidi_controls_but_corpus_text_keeps_its_characters() {
        let question = "Who built \u{202E}obiK\u{202C}\u{2066}?\u{2069}\u{200F}";
        assert_eq!(escape_user_text(question), "Who built obiK?");
        let mut asked = answer(vec![hit("a", "Kibo\u{200D}lab \u{200F}hope")]);
        asked.question = question.to_string();
        let message = ask_message(&asked, &[], 1, false);
        assert!(
            message.content.starts_with("**Q:** Who built obiK?"),
            "{}",
            message.content
        );
        assert!(!message
            .content
            .contains(['\u{202E}', '\u{2066}', '\u{200F}']));
        assert!(message.embeds[0]
            .description
            .contains("Kibo\u{200D}lab \u{200F}hope"));
    }

    #[test]
    fn ask_shows_the_top_passage_and_two_from_other_documents() {
        let message = ask_message(
            &answer(vec![
                hit("a", "one"),
                hit("a", "two"),
                hit("b", "three"),
                hit("c", "four"),
                hit("d", "five"),
            ]),
            &[],
            7,
            false,
        );
        let titles: Vec<_> = message.embeds.iter().map(|e| e.title.as_str()).collect();
        assert_eq!(
            titles,
            vec![
                "Title of a › Section",
                "Title of b › Section",
                "Title of c › Section"
            ]
        );
        assert_eq!(
            message.embeds[0].url.as_deref(),
            Some("https://example.org/a")
        );
        assert!(message.embeds[0].footer.contains("https://example.org/a"));
        assert_eq!(message.buttons[0].id.to_string(), "more:7");
        assert!(!message.content.contains("@everyone"));
    }

    #[test]
    fn the_best_sentence_and_a_respelling_are_shown_escaped() {
        let mut answered = answer(vec![hit("a", "one")]);
        answered.best_sentence = Some("Japan *built* Kibo,\nwith @here watching.".to_string());
        answered.suggestion = Some("Who built **Kibo**? @everyone".to_string());
        let content = ask_message(&answered, &[], 7, false).content;
        assert!(
            content.contains("**A:** Japan \\*built\\* Kibo, with"),
            "{content}"
        );
        assert!(
            content.starts_with("Did you mean “Who built \\*\\*Kibo"),
            "{content}"
        );
        assert!(
            !content.contains("@here") && !content.contains("@everyone"),
            "{content}"
        );

        answered.answered = false;
        let declined = ask_message(&answered, &["kibbo".to_string()], 7, false).content;
        assert!(declined.starts_with("Did you mean"), "{declined}");
        assert!(!declined.contains("**A:**"), "{declined}");
    }

    #[test]
    fn over_long_answers_fit_discords_limits() {
        let long = "word ".repeat(3_000);
        let mut long_hit = hit("a", &long);
        long_hit.title = "T".repeat(500);
        long_hit.source = format!("https://example.org/{}", "x".repeat(3_000));
        let mut question = answer(vec![long_hit, hit("b", &long), hit("c", &long)]);
        question.question = "q".repeat(5_000);
        let message = ask_message(&question, &[], 1, false);
        assert!(message.content.chars().count() <= limits::CONTENT);
        let total: usize = message.embeds.iter().map(Embed::text_length).sum();
        assert!(total <= limits::EMBED_TOTAL, "{total}");
        for embed in &message.embeds {
            assert!(embed.title.chars().count() <= limits::EMBED_TITLE);
            assert!(embed.description.chars().count() <= limits::EMBED_DESCRIPTION);
            assert!(embed.footer.chars().count() <= limits::FOOTER);
            assert!(embed.url.is_none() || embed.url.as_ref().unwrap().len() <= limits::URL);
        }
    }

    #[test]
    fn corpus_text_cannot_ping() {
        let message = ask_message(
            &answer(vec![hit("a", "hello @everyone and @here")]),
            &[],
            1,
            false,
        );
        assert!(!message.embeds[0].description.contains("@everyone"));
        assert!(!message.embeds[0].description.contains("@here"));
    }

    #[test]
    fn unanswered_questions_get_a_helpful_message_without_passages() {
        let mut unanswered = answer(vec![hit("a", "weak")]);
        unanswered.answered = false;
        let message = ask_message(&unanswered, &["bread".to_string()], 1, true);
        assert!(message.embeds.is_empty());
        assert!(message.content.contains("I searched for: bread."));
        assert!(message.ephemeral);
    }

    #[test]
    fn search_pages_have_five_results_and_buttons() {
        let hits: Vec<Hit> = (0..12).map(|i| hit(&format!("d{i}"), "text")).collect();
        let first = search_page("moon", &hits, 0, 3, true);
        assert_eq!(first.embeds[0].fields.len(), 5);
        assert!(first.buttons[0].disabled && !first.buttons[1].disabled);
        assert_eq!(first.buttons[1].id.to_string(), "page:3:1");
        let last = search_page("moon", &hits, 2, 3, true);
        assert_eq!(last.embeds[0].fields.len(), 2);
        assert!(last.buttons[1].disabled);
        assert!(last.embeds[0].footer.starts_with("Page 3 of 3"));
    }

    #[test]
    fn custom_ids_fit() {
        let page = ButtonId::Page {
            session: u64::MAX,
            page: usize::MAX,
        };
        assert!(page.to_string().len() <= limits::CUSTOM_ID);
        let more = ButtonId::MoreResults { session: u64::MAX };
        assert!(more.to_string().len() <= limits::CUSTOM_ID);
    }

    #[test]
    fn choices_prefer_prefix_matches_and_stay_within_limits() {
        let documents: Vec<DocumentInfo> = (0..40)
            .map(|i| DocumentInfo {
                id: format!("doc-{i}"),
                title: if i == 39 {
                    "Kibo module".to_string()
                } else {
                    format!("About Kibo {i} {}", "x".repeat(200))
                },
                summary: None,
                sources: vec![],
                agencies: vec![],
                tags: vec![],
                path: String::new(),
                hash: String::new(),
                passages: 1,
            })
            .collect();
        let choices = document_choices(&documents, "kibo");
        assert_eq!(choices.len(), limits::CHOICES);
        assert_eq!(choices[0].value, "doc-39");
        assert!(choices
            .iter()
            .all(|c| c.name.chars().count() <= 100 && c.value.len() <= 100));
    }

    #[test]
    fn insights_pages_stay_within_limits_escape_user_text_and_turn() {
        use crate::insights::{DislikedAnswer, Report, UnansweredGroup};
        let note = "@everyone **look** ".repeat(20);
        let report = Report {
            days: 7,
            questions: 1_000,
            answered: 640,
            up_votes: 3,
            down_votes: 9,
            unanswered: (0..10)
                .map(|i| UnansweredGroup {
                    terms: format!("term{i}"),
                    count: 100 - i,
                    example: Some(format!("<@{i}> why {}", "x".repeat(280))),
                })
                .collect(),
            disliked: (0..5)
                .map(|i| DislikedAnswer {
                    answer_id: i,
                    question: Some("Who built Kibo?".into()),
                    document: Some("Kibo".into()),
                    section: "What Kibo is".into(),
                    up: 0,
                    down: 5,
                    notes: vec![note.clone(); 5],
                })
                .collect(),
            never_shown: (0..200).map(|i| format!("Document {i}")).collect(),
        };
        let first = insights_page(&report, 0);
        assert!(first.ephemeral);
        assert!(
            first.content.contains("1000 question(s), 64% answered"),
            "{}",
            first.content
        );
        let pages: usize = first.embeds[0]
            .title
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(pages > 2, "{pages}");
        let mut seen = String::new();
        for page in 0..pages {
            let message = insights_page(&report, page);
            let embed = &message.embeds[0];
            assert!(embed.text_length() <= limits::EMBED_TOTAL);
            assert!(chars(&embed.description) <= limits::EMBED_DESCRIPTION);
            assert!(!embed.description.contains("@everyone"));
            assert!(!embed.description.contains("<@0>"));
            assert!(!embed.description.contains("**look**"));
            assert_eq!(message.buttons.len(), 2);
            assert_eq!(message.buttons[0].disabled, page == 0);
            assert_eq!(message.buttons[1].disabled, page + 1 == pages);
            assert_eq!(
                message.buttons[1].id,
                ButtonId::InsightsPage {
                    days: 7,
                    page: page + 1
                }
            );
            seen.push_str(&embed.description);
        }
        // Every document is on some page, and a page past the end shows the last.
        assert!(seen.contains("Document 0\n") && seen.ends_with("Document 199"));
        assert_eq!(
            insights_page(&report, 99),
            insights_page(&report, pages - 1)
        );
        let empty = insights_page(&Report::default(), 0);
        assert!(empty.buttons.is_empty());
        assert!(empty.embeds[0].description.contains("None."));
    }
}
