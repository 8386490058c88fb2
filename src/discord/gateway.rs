//! The gateway transport: a serenity client that receives interactions over Discord's
//! websocket, turns each into our [`Interaction`], hands it to [`Bot::handle`], and
//! sends the [`Response`] values it gets back as REST calls. The only module that
//! imports serenity; it decides nothing about what to answer.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serenity::all::{
    ActionRowComponent, CommandData as SerenityCommandData, CommandDataOptionValue, Context,
    EventHandler, GatewayIntents, GuildId, Interaction as SerenityInteraction, InteractionId,
    Member as SerenityMember, ModalInteractionData, Ready, User as SerenityUser,
};
use serenity::async_trait;
use serenity::builder::CreateAllowedMentions;
use serenity::http::{Http, HttpBuilder};

use super::bot::Bot;
use super::commands::Command;
use super::error::SendError;
use super::interaction::{
    CommandData, CommandOption, ComponentData, Data, Interaction, Member, ModalData, ModalField,
    OptionValue, Permissions, User,
};
use super::response::{Responder, Response};
use super::Token;
use crate::answer::Engine;
use crate::config::Config;
use crate::insights::{self, Insights};
use crate::reindex::Reindexer;
use crate::watch;

/// Connects to Discord and serves interactions until `shutdown` completes.
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
        // serenity sends requests to the proxy only when its own rate limiter is off;
        // the proxy (or Discord's answers through it) then does the limiting.
        http = http.proxy(base).ratelimiter_disabled(true);
    }
    // Opened first: a database this version cannot use stops the start with a
    // sentence naming it, before anything runs, rather than losing every record later.
    let (insights, writer) = if config.insights.enabled {
        let path = insights::database_path(&config.index_path);
        let (insights, writer) = Insights::start(&path, config.insights)
            .await
            .context("cannot start recording insights")?;
        (Some(insights), Some(writer))
    } else {
        (None, None)
    };
    let reindexer = Arc::new(Reindexer::new(
        &config.corpus_path,
        &config.index_path,
        config.index_threads,
    ));
    reindexer.clean_up();
    let gateway_url = config.discord.gateway_url.clone();
    let (stop_watchers, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(watch::follow_index(Arc::clone(&engine), stopped.clone()));
    if config.watch {
        tokio::spawn(watch::watch_corpus(
            Arc::clone(&reindexer),
            Arc::clone(&engine),
            config.corpus_path.clone(),
            stopped,
        ));
    }
    let gateway = Gateway {
        guild_ids: config.discord.guild_ids.clone(),
        bot: Bot::new(config, engine, reindexer).with_insights(insights),
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
        tracing::info!("shutting down");
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
    bot: Bot,
    /// Servers to register the commands in; globally when empty.
    guild_ids: Vec<u64>,
}

#[async_trait]
impl EventHandler for Gateway {
    async fn ready(&self, ctx: Context, ready: Ready) {
        tracing::info!(user = %ready.user.name, guilds = ready.guilds.len(), "connected to Discord");
        let definitions = Command::definitions();
        if self.guild_ids.is_empty() {
            match ctx.http.create_global_commands(&definitions).await {
                Ok(registered) => {
                    tracing::info!(count = registered.len(), "registered global commands")
                }
                Err(error) => tracing::error!(%error, "could not register global commands"),
            }
        } else {
            for &guild in &self.guild_ids {
                match ctx
                    .http
                    .create_guild_commands(GuildId::new(guild), &definitions)
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

    async fn interaction_create(&self, ctx: Context, interaction: SerenityInteraction) {
        let started = Instant::now();
        let Some((parsed, id, token)) = parse(&interaction) else {
            return;
        };
        let reply = GatewayReply {
            http: &ctx.http,
            id,
            token,
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
/// edits to its original response.
struct GatewayReply<'a> {
    http: &'a Http,
    id: InteractionId,
    /// Valid for 15 minutes; never logged (see [`SendError::new`]).
    token: &'a str,
}

impl Responder for GatewayReply<'_> {
    async fn send(&self, response: Response) -> Result<(), SendError> {
        let sent = if response.is_edit() {
            self.http
                .edit_original_interaction_response(self.token, &response, Vec::new())
                .await
                .map(drop)
        } else {
            self.http
                .create_interaction_response(self.id, self.token, &response, Vec::new())
                .await
        };
        sent.map_err(|error| SendError::new(&error, self.token))
    }
}

/// Our view of a serenity interaction, with the id and token to answer it; `None` for
/// kinds the bot does not handle (pings).
fn parse(interaction: &SerenityInteraction) -> Option<(Interaction, InteractionId, &str)> {
    let (id, token, user, guild_id, channel_id, member, data) = match interaction {
        SerenityInteraction::Command(command) => (
            command.id,
            &command.token,
            &command.user,
            command.guild_id,
            command.channel_id,
            command.member.as_deref(),
            Data::Command(command_data(&command.data)),
        ),
        SerenityInteraction::Autocomplete(command) => (
            command.id,
            &command.token,
            &command.user,
            command.guild_id,
            command.channel_id,
            command.member.as_deref(),
            Data::Autocomplete(command_data(&command.data)),
        ),
        SerenityInteraction::Component(component) => (
            component.id,
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
    Some((parsed, id, token.as_str()))
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
