//! The slash commands the bot registers, and the options it reads from them.

use serenity::all::{CommandDataOption, CommandDataOptionValue, CommandOptionType, Permissions};
use serenity::builder::{CreateCommand, CreateCommandOption};

/// Longest question `/ask` accepts.
pub const MAX_QUESTION_CHARS: u16 = 300;

/// Every command, as registered at start-up.
pub fn definitions() -> Vec<CreateCommand> {
    let private = || {
        CreateCommandOption::new(
            CommandOptionType::Boolean,
            "private",
            "Show the reply only to you",
        )
        .required(false)
    };
    vec![
        CreateCommand::new("ask")
            .description("Ask a question about international collaboration in space")
            .add_option(
                CreateCommandOption::new(
                    CommandOptionType::String,
                    "question",
                    "Your question, in plain words",
                )
                .required(true)
                .min_length(1)
                .max_length(MAX_QUESTION_CHARS),
            )
            .add_option(private()),
        CreateCommand::new("search")
            .description("List the passages that match your words, five a page")
            .add_option(
                CreateCommandOption::new(CommandOptionType::String, "query", "Words to search for")
                    .required(true)
                    .min_length(1)
                    .max_length(MAX_QUESTION_CHARS),
            )
            .add_option(private()),
        CreateCommand::new("source")
            .description("Show a document's summary and source links")
            .add_option(
                CreateCommandOption::new(
                    CommandOptionType::String,
                    "document",
                    "Start typing a title",
                )
                .required(true)
                .set_autocomplete(true),
            ),
        CreateCommand::new("help").description("What this bot knows and how to ask it"),
        CreateCommand::new("reindex")
            .description("Admins: reread the corpus and update the index")
            .default_member_permissions(Permissions::MANAGE_GUILD)
            .dm_permission(false)
            .add_option(
                CreateCommandOption::new(
                    CommandOptionType::Boolean,
                    "full",
                    "Rebuild everything instead of only what changed",
                )
                .required(false),
            ),
    ]
}

/// The string value of option `name`, if given.
pub fn string_option<'a>(options: &'a [CommandDataOption], name: &str) -> Option<&'a str> {
    options
        .iter()
        .find(|o| o.name == name)
        .and_then(|o| match &o.value {
            CommandDataOptionValue::String(s) => Some(s.as_str()),
            CommandDataOptionValue::Autocomplete { value, .. } => Some(value.as_str()),
            _ => None,
        })
}

/// The boolean value of option `name`, if given.
pub fn bool_option(options: &[CommandDataOption], name: &str) -> Option<bool> {
    options
        .iter()
        .find(|o| o.name == name)
        .and_then(|o| match o.value {
            CommandDataOptionValue::Boolean(b) => Some(b),
            _ => None,
        })
}
