//! `/insights days:<n>`: admins only (the same check as `/reindex`, on every call and
//! every page turn), private. What people asked in the last `days` days, what went
//! unanswered, what they voted down, and which documents no answer showed; pages turn
//! with ◀ ▶, each turn reading the database again, so the buttons outlive a restart.

use super::{Definition, OptionDefinition, OptionType, SlashCommand};
use crate::discord::bot::Bot;
use crate::discord::error::UserError;
use crate::discord::interaction::{CommandData, Interaction, Permissions};
use crate::discord::render;
use crate::discord::response::{Message, Responder, Response};
use crate::insights::Insights;

/// Days shown when the admin does not say.
const DEFAULT_DAYS: u32 = 7;
/// Longest window an admin can ask for (retention is at most ten years).
pub const MAX_DAYS: u32 = 3_650;

#[derive(Debug)]
pub struct InsightsCommand {
    days: u32,
}

impl SlashCommand for InsightsCommand {
    const NAME: &'static str = "insights";

    fn definition() -> Definition {
        Definition::new(
            Self::NAME,
            "Admins: what people asked, what went unanswered, what they voted down",
        )
        .default_member_permissions(Permissions::MANAGE_GUILD)
        .no_direct_messages()
        .option(
            OptionDefinition::new(OptionType::Integer, "days", "The last N days (default 7)")
                .range(1, i64::from(MAX_DAYS)),
        )
    }

    fn parse(data: &CommandData) -> Result<InsightsCommand, UserError> {
        match data.integer("days") {
            None => Ok(InsightsCommand { days: DEFAULT_DAYS }),
            Some(days) if (1..=i64::from(MAX_DAYS)).contains(&days) => Ok(InsightsCommand {
                days: days as u32,
            }),
            Some(_) => Err(UserError::new(format!(
                "`days` must be between 1 and {MAX_DAYS}."
            ))),
        }
    }

    async fn run(
        self,
        bot: &Bot,
        interaction: &Interaction,
        reply: &impl Responder,
    ) -> anyhow::Result<()> {
        let insights = allowed(bot, interaction)?;
        // The report reads the whole window: deferred, so a slow disk never misses
        // Discord's 3-second deadline.
        reply.send(Response::Defer { ephemeral: true }).await?;
        let message = page(bot, insights, self.days, 0).await?;
        reply.send(Response::Edit(message)).await?;
        Ok(())
    }
}

/// The insights, when the sender may see them.
///
/// # Errors
/// A [`UserError`] for a non-admin, or when insights are off.
fn allowed<'a>(bot: &'a Bot, interaction: &Interaction) -> Result<&'a Insights, UserError> {
    if !interaction.is_admin(&bot.config.admin) {
        tracing::warn!(
            user_id = interaction.user.id,
            "refused /insights to a non-admin"
        );
        return Err(UserError::new("Only server admins can run `/insights`."));
    }
    bot.insights.as_ref().ok_or_else(|| {
        UserError::new(
            "Nothing is recorded on this bot: insights are turned off in its configuration.",
        )
    })
}

/// Page `page` of the insights of the last `days` days (the last page when past it).
async fn page(bot: &Bot, insights: &Insights, days: u32, page: usize) -> anyhow::Result<Message> {
    let snapshot = bot.engine.snapshot();
    let report = insights.store.report(days, snapshot.documents()).await?;
    Ok(render::insights_page(&report, page))
}

/// ◀ or ▶ under `/insights`: the same window, another page, for admins only.
pub(super) async fn turn_page(
    bot: &Bot,
    interaction: &Interaction,
    days: u32,
    page_number: usize,
    reply: &impl Responder,
) -> anyhow::Result<()> {
    let insights = allowed(bot, interaction)?;
    let message = page(bot, insights, days.clamp(1, MAX_DAYS), page_number).await?;
    reply.send(Response::Update(message)).await?;
    Ok(())
}
