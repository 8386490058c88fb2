//! 👍 and 👎 under an `/ask` answer, and the "What was wrong?" form a 👎 opens. The
//! buttons carry the answer id (which holds the answer's time), so a vote works after a
//! restart and a vote on an answer past the retention period is told so without asking
//! the database. One vote per person and answer: voting again replaces it.
//!
//! Modal submits (Discord's interaction type 5) are parsed here: the form's `custom_id`
//! into a [`NoteForm`], its text box into the note.

use std::fmt;
use std::str::FromStr;

use super::UnknownButton;
use crate::discord::bot::Bot;
use crate::discord::error::UserError;
use crate::discord::interaction::{Interaction, ModalData};
use crate::discord::render;
use crate::discord::response::{Modal, Responder, Response, TextInput};
use crate::insights::{self, Insights, Vote};

/// Longest "What was wrong?" note, in characters.
pub const MAX_NOTE_CHARS: u16 = 300;
/// The `custom_id` of the form's text box.
const NOTE_INPUT: &str = "note";

/// The "What was wrong?" form of one answer, as its `custom_id` names it; `session` is
/// the answer's "More results" search, so that the buttons can be shown again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoteForm {
    pub answer: u64,
    pub session: u64,
}

impl fmt::Display for NoteForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "wrong:{}:{}", self.answer, self.session)
    }
}

impl FromStr for NoteForm {
    type Err = UnknownButton;

    fn from_str(id: &str) -> Result<NoteForm, UnknownButton> {
        let mut parts = id.split(':');
        if parts.next() != Some("wrong") {
            return Err(UnknownButton);
        }
        let mut number = || parts.next().and_then(|n| n.parse::<u64>().ok());
        let form = NoteForm {
            answer: number().ok_or(UnknownButton)?,
            session: number().ok_or(UnknownButton)?,
        };
        match parts.next() {
            None => Ok(form),
            Some(_) => Err(UnknownButton),
        }
    }
}

/// A submitted "What was wrong?" form: which answer, and the note (possibly empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSubmit {
    pub form: NoteForm,
    pub note: String,
}

impl NoteSubmit {
    /// Reads a modal submit of ours.
    ///
    /// # Errors
    /// [`UnknownButton`] when the form is not one of ours.
    pub fn parse(modal: &ModalData) -> Result<NoteSubmit, UnknownButton> {
        let form = modal.custom_id.parse()?;
        let note = modal
            .fields
            .iter()
            .find(|field| field.custom_id == NOTE_INPUT)
            .map(|field| {
                // Discord holds the box to 300 characters; a client that does not is cut.
                field
                    .value
                    .trim()
                    .chars()
                    .take(usize::from(MAX_NOTE_CHARS))
                    .collect()
            })
            .unwrap_or_default();
        Ok(NoteSubmit { form, note })
    }
}

impl NoteSubmit {
    /// Keeps the note; see [`submit_note`].
    ///
    /// # Errors
    /// As [`super::SlashCommand::run`].
    pub async fn send(
        self,
        bot: &Bot,
        interaction: &Interaction,
        reply: &impl Responder,
    ) -> anyhow::Result<()> {
        submit_note(bot, interaction, self, reply).await
    }
}

/// The insights, or the sentence saying feedback is off.
fn enabled(bot: &Bot) -> Result<&Insights, UserError> {
    bot.insights
        .as_ref()
        .ok_or_else(|| UserError::new("Feedback is turned off on this bot."))
}

/// Whether the answer is too old for feedback; the reply says so politely.
async fn too_old(insights: &Insights, answer: u64, reply: &impl Responder) -> anyhow::Result<bool> {
    let days = insights.settings.retention_days;
    if !insights::is_expired(answer as i64, days) {
        return Ok(false);
    }
    let text = format!(
        "Thank you! This answer is more than {days} days old, and feedback is kept only \
         for answers of the last {days} days, so this vote was not recorded."
    );
    reply.send(Response::Message(render::notice(&text))).await?;
    Ok(true)
}

/// A press of 👍 or 👎: 👍 is counted and the buttons show the new counts; 👎 is
/// counted and opens the "What was wrong?" form, whose submit shows the counts.
pub(super) async fn vote(
    bot: &Bot,
    interaction: &Interaction,
    answer: u64,
    session: u64,
    vote: Vote,
    reply: &impl Responder,
) -> anyhow::Result<()> {
    let insights = enabled(bot)?;
    if too_old(insights, answer, reply).await? {
        return Ok(());
    }
    let voter = insights.hasher.hash(interaction.user.id);
    let counts = insights.store.vote(answer as i64, &voter, vote).await?;
    let response = match vote {
        Vote::Up => Response::UpdateButtons(render::answer_buttons(session, answer, counts)),
        Vote::Down => Response::Modal(Modal {
            custom_id: NoteForm { answer, session }.to_string(),
            title: "What was wrong?".to_string(),
            inputs: vec![TextInput {
                custom_id: NOTE_INPUT.to_string(),
                label: "What was wrong? (optional)".to_string(),
                paragraph: true,
                required: false,
                max_length: Some(MAX_NOTE_CHARS),
            }],
        }),
    };
    reply.send(response).await?;
    Ok(())
}

/// The "What was wrong?" form sent: the note is kept with the 👎, and the answer's
/// buttons show the counts.
async fn submit_note(
    bot: &Bot,
    interaction: &Interaction,
    submit: NoteSubmit,
    reply: &impl Responder,
) -> anyhow::Result<()> {
    let insights = enabled(bot)?;
    let NoteForm { answer, session } = submit.form;
    if too_old(insights, answer, reply).await? {
        return Ok(());
    }
    let voter = insights.hasher.hash(interaction.user.id);
    let counts = insights
        .store
        .note(answer as i64, &voter, &submit.note)
        .await?;
    reply
        .send(Response::UpdateButtons(render::answer_buttons(
            session, answer, counts,
        )))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discord::interaction::ModalField;

    #[test]
    fn note_forms_round_trip_and_foreign_ones_are_refused() {
        let form = NoteForm {
            answer: u64::MAX >> 1,
            session: 7,
        };
        assert_eq!(form.to_string().parse(), Ok(form));
        for id in ["", "wrong", "wrong:1", "wrong:1:2:3", "wrong:x:1", "more:1"] {
            assert_eq!(id.parse::<NoteForm>(), Err(UnknownButton), "{id}");
        }
    }

    #[test]
    fn the_note_is_read_trimmed_and_cut() {
        let modal = |value: &str| ModalData {
            custom_id: "wrong:5:6".into(),
            fields: vec![ModalField {
                custom_id: NOTE_INPUT.into(),
                value: value.into(),
            }],
        };
        let submit = NoteSubmit::parse(&modal("  out of date \n")).unwrap();
        assert_eq!(submit.note, "out of date");
        assert_eq!(
            submit.form,
            NoteForm {
                answer: 5,
                session: 6
            }
        );
        let long = "é".repeat(400);
        assert_eq!(
            NoteSubmit::parse(&modal(&long))
                .unwrap()
                .note
                .chars()
                .count(),
            300
        );
        let empty = ModalData {
            custom_id: "wrong:5:6".into(),
            fields: Vec::new(),
        };
        assert_eq!(NoteSubmit::parse(&empty).unwrap().note, "");
    }
}
