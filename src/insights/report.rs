//! What `/insights` and `spacecollab insights` show, as data, with the command line's
//! two plain renderings (text and CSV); JSON is its `Serialize`, Discord's rendering
//! lives with the Discord code.

use std::fmt;

use serde::Serialize;

/// The insights of one time window.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    pub days: u32,
    pub questions: u64,
    pub answered: u64,
    pub up_votes: u64,
    pub down_votes: u64,
    /// The ten most asked unanswered questions, grouped by their terms.
    pub unanswered: Vec<UnansweredGroup>,
    /// The answers with the most down votes.
    pub disliked: Vec<DislikedAnswer>,
    /// Titles of the indexed documents no recorded answer ever showed.
    pub never_shown: Vec<String>,
}

/// Unanswered questions that share their terms.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnansweredGroup {
    pub terms: String,
    pub count: u64,
    /// The latest question of the group, when question text is kept.
    pub example: Option<String>,
}

/// An answer people voted down.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DislikedAnswer {
    pub answer_id: i64,
    pub question: Option<String>,
    /// The title of the document of the top passage shown.
    pub document: Option<String>,
    /// The top passage's section.
    pub section: String,
    pub up: u64,
    pub down: u64,
    /// "What was wrong?" notes, latest first.
    pub notes: Vec<String>,
}

impl Report {
    /// The share of questions answered, in percent (0 with no questions).
    pub fn answered_percent(&self) -> f64 {
        if self.questions == 0 {
            0.0
        } else {
            self.answered as f64 * 100.0 / self.questions as f64
        }
    }

    /// The report as CSV for a spreadsheet: one table, a row per figure or item, with
    /// the columns `kind,count,subject,text`.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("kind,count,subject,text\n");
        let mut row = |kind: &str, count: Option<u64>, subject: &str, text: &str| {
            let count = count.map(|c| c.to_string()).unwrap_or_default();
            out.push_str(&format!(
                "{kind},{count},{},{}\n",
                csv_cell(subject),
                csv_cell(text)
            ));
        };
        row("days", Some(u64::from(self.days)), "", "");
        row("questions", Some(self.questions), "", "");
        row("answered", Some(self.answered), "", "");
        row("up_votes", Some(self.up_votes), "", "");
        row("down_votes", Some(self.down_votes), "", "");
        for group in &self.unanswered {
            row(
                "unanswered",
                Some(group.count),
                &group.terms,
                group.example.as_deref().unwrap_or(""),
            );
        }
        for answer in &self.disliked {
            row(
                "disliked",
                Some(answer.down),
                &passage(answer),
                answer.question.as_deref().unwrap_or(""),
            );
            for note in &answer.notes {
                row("note", None, &passage(answer), note);
            }
        }
        for title in &self.never_shown {
            row("never_shown", None, title, "");
        }
        out
    }
}

/// "Title › Section" of a disliked answer's top passage.
pub fn passage(answer: &DislikedAnswer) -> String {
    match (&answer.document, answer.section.is_empty()) {
        (Some(document), false) => format!("{document} › {}", answer.section),
        (Some(document), true) => document.clone(),
        (None, _) => "(no passage shown)".to_string(),
    }
}

/// A CSV cell: quoted when it must be, and with a leading apostrophe where a spreadsheet
/// would otherwise run the text as a formula (`=`, `+`, `-`, `@`).
fn csv_cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// The terminal rendering.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Last {} day(s): {} question(s), {:.1}% answered; {} 👍, {} 👎.",
            self.days,
            self.questions,
            self.answered_percent(),
            self.up_votes,
            self.down_votes
        )?;
        writeln!(f, "\nMost asked unanswered questions:")?;
        if self.unanswered.is_empty() {
            writeln!(f, "  none")?;
        }
        for (i, group) in self.unanswered.iter().enumerate() {
            let example = group.example.as_deref().unwrap_or("(text not kept)");
            writeln!(
                f,
                "  {}. {}× [{}] e.g. “{}”",
                i + 1,
                group.count,
                group.terms,
                one_line(example)
            )?;
        }
        writeln!(f, "\nMost down-voted answers:")?;
        if self.disliked.is_empty() {
            writeln!(f, "  none")?;
        }
        for (i, answer) in self.disliked.iter().enumerate() {
            writeln!(
                f,
                "  {}. {} 👎, {} 👍: “{}” → {}",
                i + 1,
                answer.down,
                answer.up,
                one_line(answer.question.as_deref().unwrap_or("(text not kept)")),
                passage(answer)
            )?;
            for note in &answer.notes {
                writeln!(f, "     - {}", one_line(note))?;
            }
        }
        writeln!(f, "\nDocuments never shown ({}):", self.never_shown.len())?;
        if self.never_shown.is_empty() {
            writeln!(f, "  none")?;
        }
        for title in &self.never_shown {
            writeln!(f, "  {title}")?;
        }
        Ok(())
    }
}

/// Text on one line, without control characters that could move a terminal's cursor.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_never_formulas() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_cell("line\nbreak"), "\"line\nbreak\"");
    }
}
