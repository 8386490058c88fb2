//! `/source document:<title>`: a document's summary and source links; titles
//! autocomplete as the user types.

use super::{Definition, OptionDefinition, OptionType, SlashCommand};
use crate::discord::bot::Bot;
use crate::discord::error::UserError;
use crate::discord::interaction::{CommandData, Interaction};
use crate::discord::render;
use crate::discord::response::{Choice, Responder, Response};
use crate::text::strip_format_chars;

#[derive(Debug)]
pub struct Source {
    /// A document id (what autocomplete fills in) or a title.
    document: String,
}

impl SlashCommand for Source {
    const NAME: &'static str = "source";

    fn definition() -> Definition {
        Definition::new(Self::NAME, "Show a document's summary and source links").option(
            OptionDefinition::new(OptionType::String, "document", "Start typing a title")
                .required()
                .autocomplete(),
        )
    }

    fn parse(data: &CommandData) -> Result<Source, UserError> {
        Ok(Source {
            document: strip_format_chars(data.string("document").unwrap_or(""))
                .trim()
                .to_string(),
        })
    }

    async fn run(
        self,
        bot: &Bot,
        _interaction: &Interaction,
        reply: &impl Responder,
    ) -> anyhow::Result<()> {
        let message = {
            let snapshot = bot.engine.snapshot();
            let Some(document) = snapshot.find_document(&self.document) else {
                return Err(UserError::new(format!(
                    "I have no document called “{}”; start typing a title and pick one from the list.",
                    render::escape_user_text(&self.document)
                ))
                .into());
            };
            render::source_message(document, None)
        };
        reply.send(Response::Message(message)).await?;
        Ok(())
    }

    fn autocomplete(bot: &Bot, typed: &str) -> Vec<Choice> {
        let snapshot = bot.engine.snapshot();
        render::document_choices(snapshot.documents(), typed)
    }
}
