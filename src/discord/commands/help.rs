//! `/help`: what the bot knows (the corpus's documents and topics) and how to ask it.

use super::{Definition, SlashCommand};
use crate::discord::bot::Bot;
use crate::discord::error::UserError;
use crate::discord::interaction::{CommandData, Interaction};
use crate::discord::render;
use crate::discord::response::{Responder, Response};

#[derive(Debug)]
pub struct Help;

impl SlashCommand for Help {
    const NAME: &'static str = "help";

    fn definition() -> Definition {
        Definition::new(Self::NAME, "What this bot knows and how to ask it")
    }

    fn parse(_data: &CommandData) -> Result<Help, UserError> {
        Ok(Help)
    }

    async fn run(
        self,
        bot: &Bot,
        _interaction: &Interaction,
        reply: &impl Responder,
    ) -> anyhow::Result<()> {
        let snapshot = bot.engine.snapshot();
        let message = render::help_message(snapshot.documents(), snapshot.passage_count());
        reply.send(Response::Message(message)).await?;
        Ok(())
    }
}
