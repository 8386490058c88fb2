//! Receives interactions from the gateway, calls the engine, and sends the rendered
//! reply. Every reply goes through [`send`]-style helpers that set an empty
//! `allowed_mentions`, so no message can ping anyone.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serenity::all::{
    ButtonStyle, Command, CommandInteraction, ComponentInteraction, Context, EventHandler, GuildId,
    Interaction, Permissions, Ready,
};
use serenity::async_trait;
use serenity::builder::{
    CreateActionRow, CreateAllowedMentions, CreateAutocompleteResponse, CreateButton, CreateEmbed,
    CreateEmbedFooter, CreateInteractionResponse, CreateInteractionResponseMessage,
    EditInteractionResponse,
};
use tokio::task::JoinHandle;

use super::commands::{self, bool_option, string_option};
use super::render::{self, Message};
use super::sessions::{Session, Sessions};
use crate::answer::Engine;
use crate::config::Config;
use crate::reindex::{Reindexer, Stage};

/// The most search results a session pages through.
const MAX_SEARCH_RESULTS: usize = 50;
/// Shortest gap between two progress edits of a `/reindex` reply.
const PROGRESS_INTERVAL: Duration = Duration::from_secs(1);
const GENERIC_ERROR: &str = "Sorry, something went wrong on my side; please try again in a moment.";

/// The bot's state, shared by every interaction.
pub struct Bot {
    engine: Arc<Engine>,
    config: Config,
    sessions: Sessions,
    reindexer: Arc<Reindexer>,
    /// Answers slower than this are deferred first, well inside Discord's 3-second deadline.
    defer_after: Duration,
}

impl Bot {
    pub fn new(config: Config, engine: Arc<Engine>, reindexer: Arc<Reindexer>) -> Bot {
        Bot {
            defer_after: Duration::from_millis(config.discord.defer_after_ms),
            engine,
            config,
            sessions: Sessions::default(),
            reindexer,
        }
    }

    /// Runs `job` on the engine in a task of its own, so that the caller can defer its
    /// reply while the task waits or runs.
    ///
    /// The job runs on a runtime worker, not in `spawn_blocking`: an answer takes a
    /// fraction of a millisecond on the bundled corpus (a few on 50,000 passages), less
    /// than handing it to a blocking thread and back costs under load (with 50
    /// interactions in flight, 2,000–2,300 interactions/s through `spawn_blocking`,
    /// 2,700–3,400 without). At most one job per worker runs at a time; limiting them
    /// further with a semaphore made no measurable difference.
    fn on_engine<T: Send + 'static>(
        &self,
        job: impl FnOnce(&Engine) -> T + Send + 'static,
    ) -> JoinHandle<T> {
        let engine = Arc::clone(&self.engine);
        tokio::spawn(async move { job(&engine) })
    }
}

fn embed(embed: &render::Embed) -> CreateEmbed {
    let mut builder = CreateEmbed::new().title(&embed.title).colour(embed.colour);
    if !embed.description.is_empty() {
        builder = builder.description(&embed.description);
    }
    if let Some(url) = &embed.url {
        builder = builder.url(url);
    }
    if !embed.footer.is_empty() {
        builder = builder.footer(CreateEmbedFooter::new(&embed.footer));
    }
    for field in &embed.fields {
        builder = builder.field(&field.name, &field.value, false);
    }
    builder
}

fn components(message: &Message) -> Vec<CreateActionRow> {
    if message.buttons.is_empty() {
        return Vec::new();
    }
    let buttons = message
        .buttons
        .iter()
        .map(|b| {
            CreateButton::new(&b.custom_id)
                .label(&b.label)
                .style(ButtonStyle::Secondary)
                .disabled(b.disabled)
        })
        .collect();
    vec![CreateActionRow::Buttons(buttons)]
}

fn response(message: &Message) -> CreateInteractionResponseMessage {
    let mut builder = CreateInteractionResponseMessage::new()
        .embeds(message.embeds.iter().map(embed).collect())
        .components(components(message))
        .ephemeral(message.ephemeral)
        .allowed_mentions(CreateAllowedMentions::new());
    if !message.content.is_empty() {
        builder = builder.content(&message.content);
    }
    builder
}

fn edit(message: &Message) -> EditInteractionResponse {
    EditInteractionResponse::new()
        .content(&message.content)
        .embeds(message.embeds.iter().map(embed).collect())
        .components(components(message))
        .allowed_mentions(CreateAllowedMentions::new())
}

/// Whether the member who sent `command` may run admin commands: Manage Server or
/// Administrator in the interaction's permissions, or listed in `[admin]`. Never from a DM.
pub fn is_admin(command: &CommandInteraction, config: &Config) -> bool {
    let Some(member) = &command.member else {
        return false;
    };
    if command.guild_id.is_none() {
        return false;
    }
    let permitted = member.permissions.is_some_and(|p| {
        p.contains(Permissions::MANAGE_GUILD) || p.contains(Permissions::ADMINISTRATOR)
    });
    let listed_user = config.admin.user_ids.contains(&command.user.id.get());
    let listed_role = member
        .roles
        .iter()
        .any(|r| config.admin.role_ids.contains(&r.get()));
    permitted || listed_user || listed_role
}

#[async_trait]
impl EventHandler for Bot {
    async fn ready(&self, ctx: Context, ready: Ready) {
        tracing::info!(user = %ready.user.name, guilds = ready.guilds.len(), "connected to Discord");
        let definitions = commands::definitions();
        if self.config.discord.guild_ids.is_empty() {
            match Command::set_global_commands(&ctx.http, definitions).await {
                Ok(registered) => {
                    tracing::info!(count = registered.len(), "registered global commands")
                }
                Err(error) => tracing::error!(%error, "could not register global commands"),
            }
        } else {
            for guild in &self.config.discord.guild_ids {
                match GuildId::new(*guild)
                    .set_commands(&ctx.http, definitions.clone())
                    .await
                {
                    Ok(registered) => {
                        tracing::info!(guild, count = registered.len(), "registered guild commands")
                    }
                    Err(error) => {
                        tracing::error!(guild, %error, "could not register guild commands")
                    }
                }
            }
        }
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let started = Instant::now();
        let outcome = match interaction {
            Interaction::Command(command) => self.command(&ctx, &command).await,
            Interaction::Autocomplete(command) => self.autocomplete(&ctx, &command).await,
            Interaction::Component(component) => self.component(&ctx, &component).await,
            _ => Ok(()),
        };
        match outcome {
            // Received to the last reply sent; `cargo bench --bench discord` collects it.
            Ok(()) => tracing::debug!(
                elapsed_us = started.elapsed().as_micros() as u64,
                "interaction handled"
            ),
            Err(error) => tracing::error!(error = %format!("{error:#}"), "interaction failed"),
        }
    }
}

impl Bot {
    async fn reply(
        &self,
        ctx: &Context,
        command: &CommandInteraction,
        message: &Message,
    ) -> anyhow::Result<()> {
        command
            .create_response(
                &ctx.http,
                CreateInteractionResponse::Message(response(message)),
            )
            .await?;
        Ok(())
    }

    async fn command(&self, ctx: &Context, command: &CommandInteraction) -> anyhow::Result<()> {
        let options = &command.data.options;
        let private = bool_option(options, "private");
        match command.data.name.as_str() {
            "ask" => match string_option(options, "question").map(str::trim).filter(|q| !q.is_empty()) {
                Some(question) => {
                    let ephemeral = private.unwrap_or(self.config.discord.ask_private);
                    self.ask(ctx, command, question.to_string(), ephemeral).await
                }
                None => self.reply(ctx, command, &render::notice("Please give a question, for example `/ask question:Who built Kibo?`.")).await,
            },
            "search" => match string_option(options, "query").map(str::trim).filter(|q| !q.is_empty()) {
                Some(query) => {
                    let ephemeral = private.unwrap_or(self.config.discord.search_private);
                    let session = self.sessions.insert(Session {
                        query: query.to_string(),
                        user_id: command.user.id.get(),
                        ephemeral,
                    });
                    let message = self.search_page(query, 0, session, ephemeral).await?;
                    self.reply(ctx, command, &message).await
                }
                None => self.reply(ctx, command, &render::notice("Please give some words to search for, for example `/search query:Kibo`.")).await,
            },
            "source" => {
                let wanted = string_option(options, "document").unwrap_or("").trim();
                let snapshot = self.engine.snapshot();
                let message = match snapshot.find_document(wanted) {
                    Some(document) => render::source_message(document, None),
                    None => render::notice(&format!(
                        "I have no document called “{}”; start typing a title and pick one from the list.",
                        render::escape_user_text(wanted)
                    )),
                };
                self.reply(ctx, command, &message).await
            }
            "help" => {
                let snapshot = self.engine.snapshot();
                self.reply(ctx, command, &render::help_message(snapshot.documents(), snapshot.passage_count())).await
            }
            "reindex" => self.reindex(ctx, command).await,
            other => {
                tracing::warn!(command = other, "unknown command");
                self.reply(ctx, command, &render::notice("I don't know that command; try `/help`.")).await
            }
        }
    }

    /// Answers within the deadline: the answer is computed off the async runtime; if it
    /// is not ready after `defer_after`, the reply is deferred and edited when it is.
    async fn ask(
        &self,
        ctx: &Context,
        command: &CommandInteraction,
        question: String,
        ephemeral: bool,
    ) -> anyhow::Result<()> {
        let asked = question.clone();
        let mut work = self.on_engine(move |engine| {
            let answer = engine.ask(&asked, None);
            // What was searched is only shown when nothing was found.
            let searched: Vec<String> = if answer.answered {
                Vec::new()
            } else {
                engine.snapshot().terms(&asked).terms
            };
            (answer, searched)
        });
        let session = self.sessions.insert(Session {
            query: question,
            user_id: command.user.id.get(),
            ephemeral,
        });
        // A zero threshold always defers: a finished task would otherwise win the race.
        let in_time = if self.defer_after.is_zero() {
            Err(())
        } else {
            tokio::time::timeout(self.defer_after, &mut work)
                .await
                .map_err(|_| ())
        };
        match in_time {
            Ok(done) => {
                let (answer, searched) = done?;
                self.reply(
                    ctx,
                    command,
                    &render::ask_message(&answer, &searched, session, ephemeral),
                )
                .await
            }
            Err(_) => {
                let defer = CreateInteractionResponse::Defer(
                    CreateInteractionResponseMessage::new()
                        .ephemeral(ephemeral)
                        .allowed_mentions(CreateAllowedMentions::new()),
                );
                command.create_response(&ctx.http, defer).await?;
                let message = match work.await {
                    Ok((answer, searched)) => {
                        render::ask_message(&answer, &searched, session, ephemeral)
                    }
                    Err(error) => {
                        tracing::error!(%error, "answering failed");
                        render::notice(GENERIC_ERROR)
                    }
                };
                command.edit_response(&ctx.http, edit(&message)).await?;
                Ok(())
            }
        }
    }

    async fn search_page(
        &self,
        query: &str,
        page: usize,
        session: u64,
        ephemeral: bool,
    ) -> anyhow::Result<Message> {
        let query_owned = query.to_string();
        let hits = self
            .on_engine(move |engine| engine.search(&query_owned, 0, MAX_SEARCH_RESULTS))
            .await?;
        Ok(render::search_page(query, &hits, page, session, ephemeral))
    }

    async fn autocomplete(
        &self,
        ctx: &Context,
        command: &CommandInteraction,
    ) -> anyhow::Result<()> {
        let typed = command.data.autocomplete().map(|o| o.value).unwrap_or("");
        let snapshot = self.engine.snapshot();
        let choices = render::document_choices(snapshot.documents(), typed);
        let response = choices
            .into_iter()
            .fold(CreateAutocompleteResponse::new(), |r, (name, value)| {
                r.add_string_choice(name, value)
            });
        command
            .create_response(&ctx.http, CreateInteractionResponse::Autocomplete(response))
            .await?;
        Ok(())
    }

    async fn component(
        &self,
        ctx: &Context,
        component: &ComponentInteraction,
    ) -> anyhow::Result<()> {
        let id = component.data.custom_id.as_str();
        let parts: Vec<&str> = id.split(':').collect();
        let session_id = parts.get(1).and_then(|s| s.parse::<u64>().ok());
        let session = session_id.and_then(|s| self.sessions.get(s));
        let answer = |message: Message| CreateInteractionResponse::Message(response(&message));
        let (Some(session_id), Some(session)) = (session_id, session) else {
            let notice = render::notice("This result list has expired; run the command again.");
            component.create_response(&ctx.http, answer(notice)).await?;
            return Ok(());
        };
        match parts[0] {
            // Anyone may ask for more results; they get their own private list.
            "more" => {
                let mut message = self
                    .search_page(&session.query, 0, session_id, true)
                    .await?;
                if session.user_id != component.user.id.get() {
                    // Someone else's session: its page buttons would refuse them, so leave them out.
                    message.buttons.clear();
                }
                component
                    .create_response(&ctx.http, answer(message))
                    .await?;
            }
            "page" => {
                if session.user_id != component.user.id.get() {
                    let notice = render::notice("Only the person who searched can turn these pages; run `/search` yourself.");
                    component.create_response(&ctx.http, answer(notice)).await?;
                    return Ok(());
                }
                let page = parts
                    .get(2)
                    .and_then(|p| p.parse::<usize>().ok())
                    .unwrap_or(0);
                let message = self
                    .search_page(&session.query, page, session_id, session.ephemeral)
                    .await?;
                component
                    .create_response(
                        &ctx.http,
                        CreateInteractionResponse::UpdateMessage(response(&message)),
                    )
                    .await?;
            }
            other => {
                tracing::warn!(kind = other, "unknown button");
                component
                    .create_response(&ctx.http, answer(render::notice(GENERIC_ERROR)))
                    .await?;
            }
        }
        Ok(())
    }

    /// `/reindex`: checked on our side, then deferred, with progress edits at most once a
    /// second and a summary at the end.
    async fn reindex(&self, ctx: &Context, command: &CommandInteraction) -> anyhow::Result<()> {
        if !is_admin(command, &self.config) {
            tracing::warn!(
                user_id = command.user.id.get(),
                "refused /reindex to a non-admin"
            );
            return self
                .reply(
                    ctx,
                    command,
                    &render::notice("Only server admins can run `/reindex`."),
                )
                .await;
        }
        let full = bool_option(&command.data.options, "full").unwrap_or(false);
        let owner = format!("{} on Discord", command.user.name);
        let progress = Arc::new(std::sync::Mutex::new(None::<Stage>));
        let ticket = match self.reindexer.try_start(&owner) {
            Ok(ticket) => ticket,
            Err(busy) => {
                return self
                    .reply(ctx, command, &render::notice(&busy.to_string()))
                    .await
            }
        };
        let defer = CreateInteractionResponse::Defer(
            CreateInteractionResponseMessage::new()
                .ephemeral(true)
                .allowed_mentions(CreateAllowedMentions::new()),
        );
        command.create_response(&ctx.http, defer).await?;
        tracing::info!(user_id = command.user.id.get(), full, "reindex started");

        let started = Instant::now();
        let reindexer = Arc::clone(&self.reindexer);
        let engine = Arc::clone(&self.engine);
        let shared = Arc::clone(&progress);
        let mut work = tokio::task::spawn_blocking(move || {
            let result = reindexer.run(ticket, full, |stage| {
                *shared.lock().unwrap_or_else(|p| p.into_inner()) = Some(stage);
            });
            if result.is_ok() {
                engine.reload()?;
            }
            result.map_err(anyhow::Error::from)
        });
        let mut ticker = tokio::time::interval(PROGRESS_INTERVAL);
        ticker.tick().await;
        let result = loop {
            tokio::select! {
                done = &mut work => break done,
                _ = ticker.tick() => {
                    let stage = *progress.lock().unwrap_or_else(|p| p.into_inner());
                    let message = render::notice(&render::reindex_progress(stage, started.elapsed()));
                    if let Err(error) = command.edit_response(&ctx.http, edit(&message)).await {
                        tracing::warn!(%error, "could not show reindex progress");
                    }
                }
            }
        };
        let message = match result {
            Ok(Ok(report)) => {
                tracing::info!(
                    documents = report.documents,
                    passages = report.passages,
                    "reindex finished"
                );
                render::notice(&render::reindex_summary(&report))
            }
            Ok(Err(error)) => {
                tracing::error!(error = %format!("{error:#}"), "reindex failed");
                render::notice(&format!(
                    "Reindex failed; the previous index stays in service. Reason: {error:#}"
                ))
            }
            Err(error) => {
                tracing::error!(%error, "reindex task failed");
                render::notice(GENERIC_ERROR)
            }
        };
        command.edit_response(&ctx.http, edit(&message)).await?;
        Ok(())
    }
}
