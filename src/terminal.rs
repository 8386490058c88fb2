//! Lays answers out for a person at a terminal (or a pipe): plain text, with matched
//! words in bold when the output takes colour (see [`stdout_has_color`]), and between
//! `**` markers when it does not. Never writes to the terminal itself.

use std::fmt::Write;

use anstream::ColorChoice;
use anstyle::Style;

use crate::answer::{Answer, Hit, Snippet};

/// How matched words look on a terminal.
const BOLD: Style = Style::new().bold();

/// Whether standard output takes colour, as anstream decides for every CLI built on
/// it: never with `NO_COLOR` set, always with `CLICOLOR_FORCE`, otherwise only on a
/// terminal that supports it (not a pipe or a file).
pub fn stdout_has_color() -> bool {
    anstream::AutoStream::choice(&std::io::stdout()) != ColorChoice::Never
}

/// A snippet as terminal text: highlighted words in bold where colour is wanted, between
/// `**` markers elsewhere (a pipe, a file, `NO_COLOR`), so that they still stand out.
pub fn snippet_text(snippet: &Snippet, color: bool) -> String {
    if color {
        let (open, close) = (BOLD.render().to_string(), BOLD.render_reset().to_string());
        snippet.marked(&open, &close, str::to_string)
    } else {
        snippet.marked("**", "**", str::to_string)
    }
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
    if let Some(pronoun) = &answer.unnamed_subject {
        let _ = writeln!(
            out,
            "Which mission, agency or treaty do you mean by \"{pronoun}\"? Each question is answered on its own: ask again with its name, for example \"When was Kibo launched?\"."
        );
        return out;
    }
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
    fn snippets_are_bold_on_a_terminal_and_marked_elsewhere() {
        let text = "a *b* c d";
        let snippet = Snippet::new(text, text, std::slice::from_ref(&(6..7)));
        assert_eq!(snippet_text(&snippet, false), "a *b* **c** d");
        assert_eq!(snippet_text(&snippet, true), "a *b* \x1b[1mc\x1b[0m d");
    }
}
