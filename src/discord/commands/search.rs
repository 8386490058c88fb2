//! `/search query:<text> private:<bool>`: the passages that match, five a page, with ◀ ▶
//! buttons that only the searcher can press.

use super::definition::private_option;
use super::{session, Definition, OptionDefinition, OptionType, SlashCommand, MAX_QUESTION_CHARS};
use crate::discord::bot::Bot;
use crate::discord::error::UserError;
use crate::discord::interaction::{CommandData, Interaction};
use crate::discord::render;
use crate::discord::response::{Message, Responder, Response};
use crate::discord::sessions::Session;
use crate::text::strip_format_chars;

/// The most search results a session pages through.
const MAX_SEARCH_RESULTS: usize = 50;

#[derive(Debug)]
pub struct Search {
    query: String,
    private: Option<bool>,
}

impl SlashCommand for Search {
    const NAME: &'static str = "search";

    fn definition() -> Definition {
        Definition::new(
            Self::NAME,
            "List the passages that match your words, five a page",
        )
        .option(
            OptionDefinition::new(OptionType::String, "query", "Words to search for")
                .required()
                .length(1, MAX_QUESTION_CHARS),
        )
        .option(private_option())
    }

    fn parse(data: &CommandData) -> Result<Search, UserError> {
        // Invisible format characters go at once: they would split the words searched
        // and could reorder the reply that echoes the text.
        let query = data.string("query").map(strip_format_chars);
        match query.as_deref().map(str::trim) {
            Some(query) if !query.is_empty() => Ok(Search {
                query: query.to_string(),
                private: data.bool("private"),
            }),
            _ => Err(UserError::new(
                "Please give some words to search for, for example `/search query:Kibo`.",
            )),
        }
    }

    async fn run(
        self,
        bot: &Bot,
        interaction: &Interaction,
        reply: &impl Responder,
    ) -> anyhow::Result<()> {
        let ephemeral = self.private.unwrap_or(bot.config.discord.search_private);
        let session = bot.sessions.insert(Session {
            query: self.query.clone(),
            user_id: interaction.user.id,
            ephemeral,
        })
        .await;
        let message = page(bot, &self.query, 0, session, ephemeral).await?;
        reply.send(Response::Message(message)).await?;
        Ok(())
    }
}

/// One page of a search's results, as a message whose buttons continue `session`.
pub(super) async fn page(
    bot: &Bot,
    query: &str,
    page: usize,
    session: u64,
    ephemeral: bool,
) -> anyhow::Result<Message> {
    let query_owned = query.to_string();
    let hits = bot
        .on_engine(move |engine| engine.search(&query_owned, 0, MAX_SEARCH_RESULTS))
        .await?;
    Ok(render::search_page(query, &hits, page, session, ephemeral))
}

/// ◀ or ▶: the searcher's press turns the page in place; anyone else is told to search
/// themselves.
pub(super) async fn turn_page(
    bot: &Bot,
    interaction: &Interaction,
    session_id: u64,
    page_number: usize,
    reply: &impl Responder,
) -> anyhow::Result<()> {
    let session = session(bot, session_id).await?;
    if session.user_id != interaction.user.id {
        return Err(UserError::new(
            "Only the person who searched can turn these pages; run `/search` yourself.",
        )
        .into());
    }
    let message = page(bot, &session.query, page_number, session_id, session.ephemeral).await?;
    reply.send(Response::Update(message)).await?;
    Ok(())
}
