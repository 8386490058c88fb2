//! `/ask question:<text> private:<bool>`: the best passages for a question, and the
//! "More results" button under them. Answers in time or defers, never past Discord's
//! 3-second deadline.

use std::time::Instant;

use super::definition::private_option;
use super::{session, Definition, OptionDefinition, OptionType, SlashCommand, MAX_QUESTION_CHARS};
use crate::answer::Answer;
use crate::discord::bot::Bot;
use crate::discord::error::{self, UserError};
use crate::discord::interaction::{CommandData, Interaction};
use crate::discord::render;
use crate::discord::response::{Message, Responder, Response};
use crate::discord::sessions::Session;
use crate::insights::{self, Counts};
use crate::text::strip_format_chars;

#[derive(Debug)]
pub struct Ask {
    question: String,
    private: Option<bool>,
}

impl SlashCommand for Ask {
    const NAME: &'static str = "ask";

    fn definition() -> Definition {
        Definition::new(
            Self::NAME,
            "Ask a question about international collaboration in space",
        )
        .option(
            OptionDefinition::new(OptionType::String, "question", "Your question, in plain words")
                .required()
                .length(1, MAX_QUESTION_CHARS),
        )
        .option(private_option())
    }

    fn parse(data: &CommandData) -> Result<Ask, UserError> {
        // Invisible format characters go at once: they would split the words searched
        // and could reorder the reply that echoes the text.
        let question = data.string("question").map(strip_format_chars);
        match question.as_deref().map(str::trim) {
            Some(question) if !question.is_empty() => Ok(Ask {
                question: question.to_string(),
                private: data.bool("private"),
            }),
            _ => Err(UserError::new(
                "Please give a question, for example `/ask question:Who built Kibo?`.",
            )),
        }
    }

    /// The answer is computed on the engine in a task of its own; if it is not ready
    /// after `defer_after`, the reply is deferred and edited in when it is.
    async fn run(
        self,
        bot: &Bot,
        interaction: &Interaction,
        reply: &impl Responder,
    ) -> anyhow::Result<()> {
        let ephemeral = self.private.unwrap_or(bot.config.discord.ask_private);
        let asked = self.question.clone();
        let answer_id = insights::new_answer_id();
        let mut work = bot.on_engine(move |engine| {
            let started = Instant::now();
            let answer = engine.ask(&asked, None);
            let latency = started.elapsed();
            // What was searched is only shown when nothing was found.
            let searched: Vec<String> = if answer.answered {
                Vec::new()
            } else {
                engine.snapshot().terms(&asked).terms
            };
            (answer, searched, latency)
        });
        let session = bot.sessions.insert(Session {
            query: self.question,
            user_id: interaction.user.id,
            ephemeral,
        })
        .await;
        // A zero threshold always defers: a finished task would otherwise win the race.
        let in_time = if bot.defer_after.is_zero() {
            None
        } else {
            tokio::time::timeout(bot.defer_after, &mut work).await.ok()
        };
        // The record is queued after the reply is sent, and never waits for the database.
        if let Some(done) = in_time {
            let (answer, searched, latency) = done?;
            let message = bot.answer_message(&answer, &searched, session, answer_id, ephemeral);
            reply.send(Response::Message(message)).await?;
            bot.record(answer_id, &answer, interaction, latency);
            return Ok(());
        }
        reply.send(Response::Defer { ephemeral }).await?;
        let (message, answered) = match work.await {
            Ok((answer, searched, latency)) => (
                bot.answer_message(&answer, &searched, session, answer_id, ephemeral),
                Some((answer, latency)),
            ),
            Err(failed) => (
                render::notice(&error::apology(error::log_internal(
                    &failed.into(),
                    "answering a deferred question",
                ))),
                None,
            ),
        };
        reply.send(Response::Edit(message)).await?;
        if let Some((answer, latency)) = answered {
            bot.record(answer_id, &answer, interaction, latency);
        }
        Ok(())
    }
}

impl Bot {
    /// The `/ask` reply, with 👍 and 👎 under a shown answer when feedback is recorded.
    fn answer_message(
        &self,
        answer: &Answer,
        searched: &[String],
        session: u64,
        answer_id: i64,
        ephemeral: bool,
    ) -> Message {
        let mut message = render::ask_message(answer, searched, session, ephemeral);
        if self.insights.is_some() && !message.buttons.is_empty() {
            message.buttons = render::answer_buttons(session, answer_id as u64, Counts::default());
        }
        message
    }
}

/// "More results" under an answer: anyone may press it, and gets their own private list
/// of the search, without the page buttons when the search is someone else's.
pub(super) async fn more_results(
    bot: &Bot,
    interaction: &Interaction,
    session_id: u64,
    reply: &impl Responder,
) -> anyhow::Result<()> {
    let session = session(bot, session_id).await?;
    let mut message = super::search::page(bot, &session.query, 0, session_id, true).await?;
    if session.user_id != interaction.user.id {
        // Someone else's session: its page buttons would refuse them, so leave them out.
        message.buttons.clear();
    }
    reply.send(Response::Message(message)).await?;
    Ok(())
}
