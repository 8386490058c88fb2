//! The slash commands and buttons the bot understands, as types. Each command is one
//! file in this folder that owns its definition (what Discord registers), the parsing of
//! its options, its handling and the call of its renderer; the list at the bottom of
//! this file is the only other place that names it. An interaction is parsed here once,
//! into an [`Action`]. Never touches a transport: handling gets a [`Responder`].

mod definition;
mod feedback;

use std::fmt;
use std::future::Future;
use std::str::FromStr;

pub use definition::{Definition, OptionDefinition, OptionType};

use super::bot::Bot;
use super::error::UserError;
use super::interaction::{CommandData, Data, Interaction};
use super::response::{Choice, Responder};
use super::sessions::Session;
use crate::insights::Vote;
pub use feedback::{NoteForm, NoteSubmit};

/// Longest question or query a command accepts, in characters.
pub const MAX_QUESTION_CHARS: u16 = 300;

/// One slash command: a file in this folder implements it for its parsed options.
pub trait SlashCommand: Sized + Send {
    /// The name users type after the slash.
    const NAME: &'static str;

    /// What Discord registers: description, options, who may see it.
    fn definition() -> Definition;

    /// Reads the options the user gave.
    ///
    /// # Errors
    /// A [`UserError`] saying what to type when an option is missing or unusable.
    fn parse(data: &CommandData) -> Result<Self, UserError>;

    /// Answers the command through `reply`: one first response (a message, a deferral,
    /// ...), then any number of edits.
    ///
    /// # Errors
    /// A [`UserError`] for the user to read, a [`super::error::SendError`] when Discord
    /// could not be reached, or anything else, which is logged and apologised for.
    fn run(
        self,
        bot: &Bot,
        interaction: &Interaction,
        reply: &impl Responder,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Choices for an option marked `autocomplete`, given what the user typed so far.
    fn autocomplete(_bot: &Bot, _typed: &str) -> Vec<Choice> {
        Vec::new()
    }
}

/// Lists the commands: declares each one's module and builds [`Command`], which has one
/// variant per command, from the list. A macro, because a function cannot declare an
/// enum; it keeps "add a command" to one new file plus one line here.
macro_rules! commands {
    ($($variant:ident($module:ident::$command:ident),)*) => {
        $(mod $module;)*

        /// A slash command with its options parsed.
        #[derive(Debug)]
        pub enum Command {
            $($variant($module::$command),)*
        }

        impl Command {
            /// Every command's name, in the order Discord lists them.
            pub const NAMES: &'static [&'static str] =
                &[$(<$module::$command as SlashCommand>::NAME,)*];

            /// Every command, in the order Discord lists them.
            pub fn definitions() -> Vec<Definition> {
                vec![$(<$module::$command as SlashCommand>::definition(),)*]
            }

            /// The command named in `data`, with its options read.
            ///
            /// # Errors
            /// A [`UserError`] for an unknown name or a missing option.
            pub fn parse(data: &CommandData) -> Result<Command, UserError> {
                $(if data.name == <$module::$command as SlashCommand>::NAME {
                    return <$module::$command as SlashCommand>::parse(data).map(Command::$variant);
                })*
                tracing::warn!(command = %data.name, "unknown command");
                Err(UserError::new("I don't know that command; try `/help`."))
            }

            /// Runs the command; see [`SlashCommand::run`].
            pub async fn run(
                self,
                bot: &Bot,
                interaction: &Interaction,
                reply: &impl Responder,
            ) -> anyhow::Result<()> {
                match self {
                    $(Command::$variant(command) => command.run(bot, interaction, reply).await,)*
                }
            }

            /// Choices for the command `name`'s option being typed (none for an unknown command).
            pub fn autocomplete(bot: &Bot, name: &str, typed: &str) -> Vec<Choice> {
                $(if name == <$module::$command as SlashCommand>::NAME {
                    return <$module::$command as SlashCommand>::autocomplete(bot, typed);
                })*
                Vec::new()
            }
        }
    };
}

commands! {
    Ask(ask::Ask),
    Search(search::Search),
    Source(source::Source),
    Help(help::Help),
    Reindex(reindex::Reindex),
    Insights(insights::InsightsCommand),
    ForgetMe(forget_me::ForgetMe),
}

impl Command {
    /// Whether this is a question for the engine, which `[limits]` counts: `/ask` and
    /// `/search`. Buttons continue a question already counted, and the rest is cheap.
    pub fn is_question(&self) -> bool {
        matches!(self, Command::Ask(_) | Command::Search(_))
    }
}

/// An interaction, parsed: what to do.
#[derive(Debug)]
pub enum Action {
    Command(Command),
    /// The user is typing an option of `command`; `typed` is what they typed so far.
    Autocomplete {
        command: String,
        typed: String,
    },
    Button(ButtonId),
    /// The "What was wrong?" form sent after a 👎.
    Note(NoteSubmit),
}

impl Action {
    /// Parses what the user did.
    ///
    /// # Errors
    /// A [`UserError`] for an unknown command, a missing option or a button that is not
    /// ours (or no longer is).
    pub fn parse(data: &Data) -> Result<Action, UserError> {
        match data {
            Data::Command(command) => Command::parse(command).map(Action::Command),
            Data::Autocomplete(command) => Ok(Action::Autocomplete {
                command: command.name.clone(),
                typed: command.focused().map_or("", |(_, typed)| typed).to_string(),
            }),
            Data::Component(component) => {
                component
                    .custom_id
                    .parse()
                    .map(Action::Button)
                    .map_err(|_| {
                        tracing::warn!(custom_id = %component.custom_id, "unknown button");
                        expired()
                    })
            }
            Data::ModalSubmit(modal) => NoteSubmit::parse(modal).map(Action::Note).map_err(|_| {
                tracing::warn!(custom_id = %modal.custom_id, "unknown form");
                UserError::new("This form is not one of mine (or no longer is).")
            }),
        }
    }
}

fn expired() -> UserError {
    UserError::new("This result list has expired; run the command again.")
}

/// The search a button continues.
///
/// # Errors
/// A [`UserError`] when it has expired (or never existed); the database's error when
/// it cannot be read.
async fn session(bot: &Bot, id: u64) -> anyhow::Result<Session> {
    Ok(bot.sessions.get(id).await?.ok_or_else(expired)?)
}

/// What a button of ours does, as its `custom_id` says. Holds only numbers, never user
/// text: the search it continues is kept in [`super::sessions`] under its session number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ButtonId {
    /// "More results" under an `/ask` answer: the search to list.
    MoreResults { session: u64 },
    /// ◀ or ▶ under a `/search` page: the search and the page to show.
    Page { session: u64, page: usize },
    /// 👍 or 👎 under an `/ask` answer: the answer (its id holds its time), and the
    /// answer's "More results" search, to show that button again.
    Vote {
        answer: u64,
        session: u64,
        vote: Vote,
    },
    /// ◀ or ▶ under `/insights`: the window and the page to show (read afresh).
    InsightsPage { days: u32, page: usize },
}

impl ButtonId {
    /// Handles a press of this button; see [`SlashCommand::run`].
    ///
    /// # Errors
    /// As [`SlashCommand::run`].
    pub async fn press(
        self,
        bot: &Bot,
        interaction: &Interaction,
        reply: &impl Responder,
    ) -> anyhow::Result<()> {
        match self {
            ButtonId::MoreResults { session } => {
                ask::more_results(bot, interaction, session, reply).await
            }
            ButtonId::Page { session, page } => {
                search::turn_page(bot, interaction, session, page, reply).await
            }
            ButtonId::Vote {
                answer,
                session,
                vote,
            } => feedback::vote(bot, interaction, answer, session, vote, reply).await,
            ButtonId::InsightsPage { days, page } => {
                insights::turn_page(bot, interaction, days, page, reply).await
            }
        }
    }
}

impl fmt::Display for ButtonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ButtonId::MoreResults { session } => write!(f, "more:{session}"),
            ButtonId::Page { session, page } => write!(f, "page:{session}:{page}"),
            ButtonId::Vote {
                answer,
                session,
                vote: Vote::Up,
            } => write!(f, "up:{answer}:{session}"),
            ButtonId::Vote {
                answer,
                session,
                vote: Vote::Down,
            } => write!(f, "down:{answer}:{session}"),
            ButtonId::InsightsPage { days, page } => write!(f, "insights:{days}:{page}"),
        }
    }
}

/// A `custom_id` that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a button of this bot")]
pub struct UnknownButton;

impl FromStr for ButtonId {
    type Err = UnknownButton;

    fn from_str(id: &str) -> Result<ButtonId, UnknownButton> {
        let mut parts = id.split(':');
        let kind = parts.next();
        let mut number = || parts.next().and_then(|n| n.parse::<u64>().ok());
        let button = match kind {
            Some("more") => ButtonId::MoreResults {
                session: number().ok_or(UnknownButton)?,
            },
            Some("page") => ButtonId::Page {
                session: number().ok_or(UnknownButton)?,
                page: number()
                    .and_then(|p| usize::try_from(p).ok())
                    .ok_or(UnknownButton)?,
            },
            Some("insights") => ButtonId::InsightsPage {
                days: number()
                    .and_then(|d| u32::try_from(d).ok())
                    .ok_or(UnknownButton)?,
                page: number()
                    .and_then(|p| usize::try_from(p).ok())
                    .ok_or(UnknownButton)?,
            },
            Some(kind @ ("up" | "down")) => ButtonId::Vote {
                answer: number().ok_or(UnknownButton)?,
                session: number().ok_or(UnknownButton)?,
                vote: if kind == "up" { Vote::Up } else { Vote::Down },
            },
            _ => return Err(UnknownButton),
        };
        match parts.next() {
            None => Ok(button),
            Some(_) => Err(UnknownButton),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::discord::render::limits;

    fn button() -> impl Strategy<Value = ButtonId> {
        prop_oneof![
            any::<u64>().prop_map(|session| ButtonId::MoreResults { session }),
            (any::<u64>(), any::<usize>())
                .prop_map(|(session, page)| ButtonId::Page { session, page }),
            (any::<u64>(), any::<u64>(), any::<bool>()).prop_map(|(answer, session, up)| {
                ButtonId::Vote {
                    answer,
                    session,
                    vote: if up { Vote::Up } else { Vote::Down },
                }
            }),
            (any::<u32>(), any::<usize>())
                .prop_map(|(days, page)| ButtonId::InsightsPage { days, page }),
        ]
    }

    proptest! {
        #[test]
        fn button_ids_round_trip_and_fit(button in button()) {
            let id = button.to_string();
            prop_assert!(id.len() <= limits::CUSTOM_ID);
            prop_assert_eq!(id.parse::<ButtonId>(), Ok(button));
        }

        #[test]
        fn any_text_parses_or_is_refused_without_panicking(id in "(more|page|up|down|insights|[a-z]{0,5})(:[0-9+-]{0,22}){0,3}") {
            if let Ok(button) = id.parse::<ButtonId>() {
                prop_assert_eq!(button.to_string().parse::<ButtonId>(), Ok(button));
            }
        }
    }

    #[test]
    fn foreign_button_ids_are_refused() {
        for id in [
            "",
            "zzz",
            "more",
            "more:",
            "more:x",
            "page:1",
            "page:1:",
            "page:1:2:3",
            "more:1:2",
            "page:-1:2",
            "PAGE:1:2",
        ] {
            assert_eq!(id.parse::<ButtonId>(), Err(UnknownButton), "{id}");
        }
        assert_eq!("more:7".parse(), Ok(ButtonId::MoreResults { session: 7 }));
        assert_eq!(
            "page:3:1".parse(),
            Ok(ButtonId::Page {
                session: 3,
                page: 1
            })
        );
    }

    #[test]
    fn every_command_parses_by_its_registered_name() {
        for definition in Command::definitions() {
            let data = CommandData {
                name: definition.name.to_string(),
                options: Vec::new(),
            };
            // Without options a command either parses or asks for the missing one;
            // it is never "unknown".
            match Command::parse(&data) {
                Ok(_) => {}
                Err(refusal) => assert!(
                    !refusal.text().contains("don't know"),
                    "{}",
                    definition.name
                ),
            }
        }
        let unknown = CommandData {
            name: "launch".into(),
            options: Vec::new(),
        };
        assert!(Command::parse(&unknown)
            .unwrap_err()
            .text()
            .contains("/help"));
    }
}
