//! The gateway transport: a serenity client that receives interactions over Discord's
//! websocket, turns each into our [`Interaction`], hands it to [`Bot::handle`], and
//! sends the [`Response`] values it gets back as REST calls. The only module that
//! imports serenity; it decides nothing about what to answer.

use std::future::Future;
use std::sync::{Arc, OnceLock};
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
use super::error::SendError;
use super::interaction::{
    CommandData, CommandOption, ComponentData, Data, Interaction, Member, ModalData, ModalField,
    OptionValue, Permissions, User,
};
use super::response::{Responder, Response};
use super::rest::Rest;
use super::retry::RetryPolicy;
use super::service::{drain, register, Service};
use super::Token;
use crate::answer::Engine;
use crate::config::Config;

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
    let gateway_url = config.discord.gateway_url.clone();
    let grace = Duration::from_millis(config.discord.shutdown_grace_ms);
    let guild_ids = config.discord.guild_ids.clone();
    let shards = config.discord.shards;
    let service = Service::start(config, engine, &token).await?;
    let gateway_address = Arc::new(OnceLock::new());
    let gateway = Gateway {
        guild_ids,
        bot: Arc::clone(&service.bot),
        rest: Arc::clone(&service.rest),
        gateway_address: Arc::clone(&gateway_address),
    };
    let mut client =
        serenity::client::ClientBuilder::new_with_http(http.build(), GatewayIntents::empty())
            .event_handler(gateway)
            .await
            .context("cannot create the Discord client")?;
    if let Some(url) = gateway_url {
        *client.ws_url.lock().await = url;
    }
    let _ = gateway_address.set(Arc::clone(&client.ws_url));
    let manager = Arc::clone(&client.shard_manager);
    let bot = Arc::clone(&service.bot);
    tokio::spawn(async move {
        shutdown.await;
        // The gateway stays open while the interactions in flight finish: their responses
        // go over REST, and new interactions that arrive meanwhile get a note rather than
        // Discord's "the application did not respond".
        drain(&bot, grace).await;
        // Closes the gateway with code 1000, so that Discord ends the session at once.
        manager.shutdown_all().await;
    });
    let started = match shards {
        // serenity starts the range's shards, each identifying with [shard, total].
        Some(range) => {
            tracing::info!(
                first = range.first,
                last = range.last,
                total = range.total,
                "running a range of gateway shards"
            );
            client
                .start_shard_range(range.first..range.last + 1, range.total)
                .await
        }
        None => client.start().await,
    };
    let result = started.context("the Discord gateway connection failed");
    service.finish().await;
    result
}

/// The serenity event handler: registers the commands when connected, and passes every
/// interaction to the bot.
struct Gateway {
    bot: Arc<Bot>,
    rest: Arc<Rest>,
    /// Servers to register the commands in; globally when empty.
    guild_ids: Vec<u64>,
    /// The address serenity's shards connect to, read at every connection (serenity
    /// 0.12.5, `Shard::initialize`); set once the client exists.
    gateway_address: Arc<OnceLock<Arc<tokio::sync::Mutex<String>>>>,
}

#[async_trait]
impl EventHandler for Gateway {
    async fn ready(&self, _ctx: Context, ready: Ready) {
        tracing::info!(user = %ready.user.name, guilds = ready.guilds.len(), "connected to Discord");
        // Discord asks clients to resume at READY's `resume_gateway_url`. serenity 0.12.5
        // keeps no such address: every shard reconnects to the client's one gateway
        // address, which it reads at each connection. Pointing that at the resume
        // address makes resumes go there. A session started afresh after that connects
        // there too (serenity has the one address); Discord documents the resume address
        // for resuming, so this is a workaround until serenity keeps both.
        if let Some(address) = self.gateway_address.get() {
            if !ready.resume_gateway_url.is_empty() {
                *address.lock().await = ready.resume_gateway_url.clone();
            }
        }
        register(&self.rest, ready.application.id.get(), &self.guild_ids).await;
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
