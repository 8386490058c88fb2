//! Lays answers out for a person at a terminal (or a pipe): plain text, with matched
//! words in bold when the output takes colour (see [`stdout_has_color`]), and between
//! `**` markers when it does not. Never writes to the terminal itself.

use std::fmt::Write;

use anstream::ColorChoice;
use anstyle::Style;

use crate::answer::{Answer, Hit};

/// How matched words look on a terminal.
const BOLD: Style = Style::new().bold();

/// Whether standard output takes colour, as anstream decides for every CLI built on
/// it: never with `NO_COLOR` set, always with `CLICOLOR_FORCE`, otherwise only on a
/// terminal that supports it (not a pipe or a file).
pub fn stdout_has_color() -> bool {
    anstream::AutoStream::choice(&std::io::stdout()) != ColorChoice::Never
}

/// Turns our escaped Markdown snippet into terminal text: `**x**` becomes bold (or stays
/// as is without colour), and Markdown escapes are removed.
pub fn snippet_text(snippet: &str, color: bool) -> String {
    let mut out = String::with_capacity(snippet.len());
    let mut chars = snippet.chars().peekable();
    let mut bold = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                bold = !bold;
                match (color, bold) {
                    (true, true) => {
                        let _ = write!(out, "{}", BOLD.render());
                    }
                    (true, false) => {
                        let _ = write!(out, "{}", BOLD.render_reset());
                    }
                    (false, _) => out.push_str("**"),
                }
            }
            _ => out.push(c),
        }
    }
    out
}

fn indent(text: &str, prefix: &str) -> String {
    text.lines()
        .map(|line| format!("{prefix}{line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// "Title › Section", or just the title.
pub fn heading(hit: &Hit) -> String {
    if hit.section.is_empty() {
        hit.title.clone()
    } else {
        format!("{} › {}", hit.title, hit.section)
    }
}

/// Renders one ranked passage as a numbered block.
pub fn render_hit(out: &mut String, rank: usize, hit: &Hit, color: bool) {
    let _ = writeln!(out, "{rank}. {}", heading(hit));
    let _ = writeln!(out, "{}", indent(&snippet_text(&hit.snippet, color), "   "));
    let _ = writeln!(
        out,
        "   Source: {}  (relevance {:.1})",
        hit.source, hit.score
    );
}

/// Renders an answer, or a helpful "nothing found" with what was searched.
pub fn render_answer(answer: &Answer, searched_terms: &[String], color: bool) -> String {
    let mut out = String::new();
    if let Some(suggestion) = answer.suggested_question() {
        let _ = writeln!(out, "Did you mean: {suggestion}?");
    }
    if !answer.answered {
        let _ = writeln!(out, "No passage in the corpus answers that question well.");
        if searched_terms.is_empty() {
            let _ = writeln!(
                out,
                "The question had no words to search for; try naming a mission, agency or treaty."
            );
        } else {
            let _ = writeln!(out, "Searched for: {}.", searched_terms.join(", "));
            let _ = writeln!(
                out,
                "Try fewer or different words, or the full name of a mission, agency or treaty (for example \"Artemis Accords\" or \"Kibo module\")."
            );
        }
        return out;
    }
    if let Some(sentence) = &answer.best_sentence {
        let _ = writeln!(out, "Answer: {sentence}\n");
    }
    for (i, hit) in answer.passages.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        render_hit(&mut out, i + 1, hit, color);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_lose_escapes_and_keep_bold_markers_without_color() {
        assert_eq!(snippet_text("a \\*b\\* **c** d", false), "a *b* **c** d");
        assert_eq!(snippet_text("**c**", true), "\x1b[1mc\x1b[0m");
    }
}
