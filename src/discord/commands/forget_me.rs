//! `/forget-me`: deletes everything recorded about the caller (their questions and
//! votes, found by their salted hash) and says how many records went. Anyone may run
//! it, in a server or a direct message; the reply is private.

use super::{Definition, SlashCommand};
use crate::discord::bot::Bot;
use crate::discord::error::UserError;
use crate::discord::interaction::{CommandData, Interaction};
use crate::discord::render;
use crate::discord::response::{Responder, Response};

#[derive(Debug)]
pub struct ForgetMe;

impl SlashCommand for ForgetMe {
    const NAME: &'static str = "forget-me";

    fn definition() -> Definition {
        Definition::new(
            Self::NAME,
            "Delete everything this bot recorded about you (questions and votes)",
        )
    }

    fn parse(_data: &CommandData) -> Result<ForgetMe, UserError> {
        Ok(ForgetMe)
    }

    async fn run(
        self,
        bot: &Bot,
        interaction: &Interaction,
        reply: &impl Responder,
    ) -> anyhow::Result<()> {
        let Some(insights) = &bot.insights else {
            let text = "This bot records nothing about anyone, so there is nothing to forget.";
            reply.send(Response::Message(render::notice(text))).await?;
            return Ok(());
        };
        let deleted = insights
            .store
            .forget(&insights.hasher.hash(interaction.user.id))
            .await?;
        tracing::info!(deleted, "forgot an asker on request");
        let text = match deleted {
            0 => "Nothing was recorded about you, so nothing was deleted.".to_string(),
            1 => "Done: I deleted the 1 record I kept about you.".to_string(),
            n => format!("Done: I deleted the {n} records I kept about you (questions and votes)."),
        };
        reply.send(Response::Message(render::notice(&text))).await?;
        Ok(())
    }
}
