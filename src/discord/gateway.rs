//! The gateway transport: a serenity client that receives interactions over Discord's
//! websocket, turns each into our [`Interaction`], hands it to [`Bot::handle`], and
//! sends the [`Response`] values it gets back as REST calls. The only module that
//! imports serenity; it decides nothing about what to answer.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use reqwest::Method;
use serenity::all::{
    ActionRowComponent, CommandData as SerenityCommandData, CommandDataOptionValue, Context,
    EventHandler, GatewayIntents, GuildId, Interaction as SerenityInteraction,
    Member as SerenityMember, ModalInteractionData, Ready, User as SerenityUser,
};
use serenity::async_trait;
use serenity::builder::CreateAllowedMentions;
use serenity::http::HttpBuilder;

use super::bot::Bot;
use super::commands::Command;
use super::error::SendError;
use super::interaction::{
    CommandData, CommandOption, ComponentData, Data, Interaction, Member, ModalData, ModalField,
    OptionValue, Permissions, User,
};
use super::response::{Responder, Response};
use super::rest::Rest;
use super::retry::RetryPolicy;
use super::Token;
use crate::answer::Engine;
use crate::config::Config;
use crate::insights::Insights;
use crate::reindex::Reindexer;
use crate::watch;

/// Connects to Discord and serves interactions until `shutdown` completes; then stops
/// taking new ones, lets those in flight finish (for at most `[discord]
/// shutdown_grace_ms`), closes the gateway with code 1000 and returns.
///
/// # Errors
/// When the client cannot be built or the gateway connection fails for good.
pub async fn serve(
    config: Config,
    engine: Arc<Engine>,
    token: Token,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let mut http =
        HttpBuilder::new(token.secret()).default_allowed_mentions(CreateAllowedMentions::new());
    if let Some(base) = &config.discord.api_base_url {
        // serenity's rate limiter sends every request to discord.com, ignoring the proxy
        // (0.12.5, `Ratelimiter::perform`), so serenity reaches a proxy only with it off.
        // serenity's `Http` makes one call, for the gateway's address, which Discord does
        // not limit; every limited call goes through `Rest`, whose limiter stays on.
        http = http.proxy(base).ratelimiter_disabled(true);
    }
    // Opened first: a database this version cannot use stops the start with a
    // sentence naming it, before anything runs, rather than losing every record later.
    let (insights, writer) = if config.insights.enabled {
        let (insights, writer) = Insights::start(&config.database(), config.insights)
            .await
            .context("cannot start recording insights")?;
        (Some(insights), Some(writer))
    } else {
        (None, None)
    };
    let rest = Arc::new(
        Rest::new(
            token.secret(),
            config.discord.api_base_url.as_deref(),
            !config.discord.proxy_ratelimits,
        )
        .context("cannot create the Discord REST client")?,
    );
    let reindexer = Arc::new(Reindexer::new(
        &config.corpus_path,
        &config.index_path,
        config.index_threads,
    ));
    reindexer.clean_up();
    if let Some(listen) = config.metrics_listen {
        crate::metrics::serve(listen, Arc::clone(&engine)).await?;
    }
    let gateway_url = config.discord.gateway_url.clone();
    let (stop_watchers, stopped) = tokio::sync::watch::channel(false);
    let timing = watch::Timing::default();
    tokio::spawn(watch::follow_index(
        Arc::clone(&engine),
        timing.poll,
        stopped.clone(),
    ));
    if config.watch {
        tokio::spawn(watch::watch_corpus(
            Arc::clone(&reindexer),
            Arc::clone(&engine),
            config.corpus_path.clone(),
            timing,
            stopped,
        ));
    }
    let grace = Duration::from_millis(config.discord.shutdown_grace_ms);
    let guild_ids = config.discord.guild_ids.clone();
    let bot = Arc::new(Bot::new(config, engine, reindexer).with_insights(insights));
    let gateway = Gateway {
        guild_ids,
        bot: Arc::clone(&bot),
        rest,
    };
    let mut client =
        serenity::client::ClientBuilder::new_with_http(http.build(), GatewayIntents::empty())
            .event_handler(gateway)
            .await
            .context("cannot create the Discord client")?;
    if let Some(url) = gateway_url {
        *client.ws_url.lock().await = url;
    }
    let shards = Arc::clone(&client.shard_manager);
    tokio::spawn(async move {
        shutdown.await;
        // The gateway stays open while the interactions in flight finish: their responses
        // go over REST, and new interactions that arrive meanwhile get a note rather than
        // Discord's "the application did not respond".
        tracing::info!("shutting down: finishing the interactions in flight");
        let started = Instant::now();
        match bot.drain(grace).await {
            0 => tracing::info!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "every interaction in flight finished"
            ),
            left => tracing::warn!(
                left,
                grace_ms = grace.as_millis() as u64,
                "stopped waiting for the interactions in flight"
            ),
        }
        // Closes the gateway with code 1000, so that Discord ends the session at once.
        shards.shutdown_all().await;
    });
    let result = client
        .start()
        .await
        .context("the Discord gateway connection failed");
    let _ = stop_watchers.send(true);
    if let Some(writer) = writer {
        // The questions still queued are written before the bot exits.
        if !writer.finish(Duration::from_secs(5)).await {
            tracing::warn!("insights still queued at shutdown were not all written");
        }
    }
    result
}

/// The serenity event handler: registers the commands when connected, and passes every
/// interaction to the bot.
struct Gateway {
    bot: Arc<Bot>,
    rest: Arc<Rest>,
    /// Servers to register the commands in; globally when empty.
    guild_ids: Vec<u64>,
}

#[async_trait]
impl EventHandler for Gateway {
    async fn ready(&self, _ctx: Context, ready: Ready) {
        tracing::info!(user = %ready.user.name, guilds = ready.guilds.len(), "connected to Discord");
        let application = ready.application.id.get();
        let definitions = match serde_json::to_vec(&Command::definitions()) {
            Ok(json) => json,
            Err(error) => {
                tracing::error!(%error, "cannot serialise the command definitions");
                return;
            }
        };
        let paths: Vec<(Option<u64>, String)> = if self.guild_ids.is_empty() {
            vec![(None, format!("/applications/{application}/commands"))]
        } else {
            self.guild_ids
                .iter()
                .map(|&guild| {
                    let path = format!("/applications/{application}/guilds/{guild}/commands");
                    (Some(guild), path)
                })
                .collect()
        };
        for (guild, path) in paths {
            let sent = self
                .rest
                .send(
                    Method::PUT,
                    &path,
                    definitions.clone(),
                    RetryPolicy::EDIT,
                    Instant::now(),
                )
                .await;
            match sent {
                Ok(answer) => {
                    let count = serde_json::from_slice::<Vec<serde_json::Value>>(&answer)
                        .map_or(0, |registered| registered.len());
                    match guild {
                        Some(guild) => {
                            tracing::info!(guild, count, "registered guild commands")
                        }
                        None => tracing::info!(count, "registered global commands"),
                    }
                }
                Err(error) => tracing::error!(%error, ?guild, "could not register the commands"),
            }
        }
    }

    async fn interaction_create(&self, _ctx: Context, interaction: SerenityInteraction) {
        let started = Instant::now();
        let Some((parsed, application, token)) = parse(&interaction) else {
            return;
        };
        let reply = GatewayReply {
            rest: &self.rest,
            id: parsed.id,
            application,
            token,
            received: started,
        };
        match self.bot.handle(&parsed, &reply).await {
            // Received to the last response sent; `cargo bench --bench discord` collects it.
            Ok(()) => tracing::debug!(
                elapsed_us = started.elapsed().as_micros() as u64,
                "interaction handled"
            ),
            Err(error) => tracing::error!(%error, "interaction failed"),
        }
    }
}

/// Answers one interaction through Discord's REST API: callbacks to the interaction,
/// edits to its original response, each retried as [`RetryPolicy`] says.
struct GatewayReply<'a> {
    rest: &'a Rest,
    id: u64,
    application: u64,
    /// Valid for 15 minutes; never logged (see [`SendError::new`]).
    token: &'a str,
    /// When the interaction arrived: its callback must reach Discord within 3 seconds.
    received: Instant,
}

impl Responder for GatewayReply<'_> {
    async fn send(&self, response: Response) -> Result<(), SendError> {
        let body = serde_json::to_vec(&response).map_err(|e| SendError::new(&e, self.token))?;
        let (id, application, token) = (self.id, self.application, self.token);
        let sent = if response.is_edit() {
            let path = format!("/webhooks/{application}/{token}/messages/@original");
            let began = Instant::now();
            (self.rest)
                .send(Method::PATCH, &path, body, RetryPolicy::EDIT, began)
                .await
        } else {
            let path = format!("/interactions/{id}/{token}/callback");
            (self.rest)
                .send(
                    Method::POST,
                    &path,
                    body,
                    RetryPolicy::CALLBACK,
                    self.received,
                )
                .await
        };
        sent.map(drop)
            .map_err(|error| SendError::new(&error, self.token))
    }
}

/// Our view of a serenity interaction, with the application id and token to answer it; `None` for
/// kinds the bot does not handle (pings).
fn parse(interaction: &SerenityInteraction) -> Option<(Interaction, u64, &str)> {
    let (id, application, token, user, guild_id, channel_id, member, data) = match interaction {
        SerenityInteraction::Command(command) => (
            command.id,
            command.application_id,
            &command.token,
            &command.user,
            command.guild_id,
            command.channel_id,
            command.member.as_deref(),
            Data::Command(command_data(&command.data)),
        ),
        SerenityInteraction::Autocomplete(command) => (
            command.id,
            command.application_id,
            &command.token,
            &command.user,
            command.guild_id,
            command.channel_id,
            command.member.as_deref(),
            Data::Autocomplete(command_data(&command.data)),
        ),
        SerenityInteraction::Component(component) => (
            component.id,
            component.application_id,
            &component.token,
            &component.user,
            component.guild_id,
            component.channel_id,
            component.member.as_ref(),
            Data::Component(ComponentData {
                custom_id: component.data.custom_id.clone(),
            }),
        ),
        SerenityInteraction::Modal(modal) => (
            modal.id,
            modal.application_id,
            &modal.token,
            &modal.user,
            modal.guild_id,
            modal.channel_id,
            modal.member.as_ref(),
            Data::ModalSubmit(modal_data(&modal.data)),
        ),
        _ => return None,
    };
    let parsed = Interaction {
        id: id.get(),
        user: user_of(user),
        guild_id: guild_id.map(GuildId::get),
        channel_id: Some(channel_id.get()),
        member: member.map(member_of),
        data,
    };
    Some((parsed, application.get(), token.as_str()))
}

fn user_of(user: &SerenityUser) -> User {
    User {
        id: user.id.get(),
        name: user.name.clone(),
    }
}

fn member_of(member: &SerenityMember) -> Member {
    Member {
        permissions: member.permissions.map(|p| Permissions(p.bits())),
        roles: member.roles.iter().map(|r| r.get()).collect(),
    }
}

/// A submitted form: its id and the value of each text box.
fn modal_data(data: &ModalInteractionData) -> ModalData {
    let fields = data
        .components
        .iter()
        .flat_map(|row| &row.components)
        .filter_map(|component| match component {
            ActionRowComponent::InputText(input) => Some(ModalField {
                custom_id: input.custom_id.clone(),
                value: input.value.clone().unwrap_or_default(),
            }),
            _ => None,
        })
        .collect();
    ModalData {
        custom_id: data.custom_id.clone(),
        fields,
    }
}

/// The options the bot reads: strings, booleans and numbers, and the one being typed.
fn command_data(data: &SerenityCommandData) -> CommandData {
    let options = data
        .options
        .iter()
        .filter_map(|option| {
            let (value, focused) = match &option.value {
                CommandDataOptionValue::String(s) => (OptionValue::String(s.clone()), false),
                CommandDataOptionValue::Boolean(b) => (OptionValue::Bool(*b), false),
                CommandDataOptionValue::Integer(i) => (OptionValue::Integer(*i), false),
                CommandDataOptionValue::Number(n) => (OptionValue::Number(*n), false),
                CommandDataOptionValue::Autocomplete { value, .. } => {
                    (OptionValue::String(value.clone()), true)
                }
                _ => return None,
            };
            Some(CommandOption {
                name: option.name.clone(),
                value,
                focused,
            })
        })
        .collect();
    CommandData {
        name: data.name.clone(),
        options,
    }
}
