//! What every transport starts before it takes interactions and stops after: the
//! insights recorder, the REST client, the reindexer, the index follower and corpus
//! watcher, the metrics endpoint and the [`Bot`] itself; and command registration,
//! which the gateway does on READY and the HTTP mode at start-up.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use reqwest::Method;

use super::bot::Bot;
use super::commands::Command;
use super::rest::Rest;
use super::retry::RetryPolicy;
use super::Token;
use crate::answer::Engine;
use crate::cluster::{self, Cluster};
use crate::config::Config;
use crate::insights::{Insights, Store, Writer};
use crate::reindex::Reindexer;
use crate::watch;

/// The running parts a transport serves with; [`Service::finish`] stops them.
pub(super) struct Service {
    pub bot: Arc<Bot>,
    pub rest: Arc<Rest>,
    writer: Option<Writer>,
    stop_watchers: tokio::sync::watch::Sender<bool>,
}

impl Service {
    /// Opens the insights database (first: a database this version cannot use stops
    /// the start with a sentence naming it, before anything runs, rather than losing
    /// every record later), and starts everything else.
    ///
    /// # Errors
    /// When the database, the REST client or the metrics endpoint cannot be started.
    pub async fn start(config: Config, engine: Arc<Engine>, token: &Token) -> anyhow::Result<Self> {
        let database = config.database();
        let (insights, writer) = if config.insights.enabled {
            let (insights, writer) = Insights::start(&database, config.insights)
                .await
                .context("cannot start recording insights")?;
            (Some(insights), Some(writer))
        } else {
            (None, None)
        };
        // Searches (and, when shared, the cluster) live in the database whenever there
        // is one: insights on, or a `[database] url` set.
        let store = match &insights {
            Some(insights) => Some(insights.store.clone()),
            None if config.database_url.is_some() => Some(
                Store::connect(&database)
                    .await
                    .with_context(|| format!("cannot open the database {}", database.name()))?,
            ),
            None => None,
        };
        // Postgres is shared by replicas: follow the reindexes of the others.
        let cluster = store
            .as_ref()
            .filter(|store| store.backend() == "postgres")
            .map(|store| Cluster::new(store.clone(), Cluster::default_replica_name()));
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
        let (stop_watchers, stopped) = tokio::sync::watch::channel(false);
        let timing = watch::Timing::default();
        tokio::spawn(watch::follow_index(
            Arc::clone(&engine),
            timing.poll,
            stopped.clone(),
        ));
        if let Some(cluster) = &cluster {
            tracing::info!(
                replica = cluster.replica(),
                "one replica of a cluster: following its reindexes"
            );
            tokio::spawn(cluster::follow(
                cluster.clone(),
                Arc::clone(&reindexer),
                Arc::clone(&engine),
                cluster::POLL_INTERVAL,
                stopped.clone(),
            ));
        }
        if config.watch {
            tokio::spawn(watch::watch_corpus(
                Arc::clone(&reindexer),
                Arc::clone(&engine),
                config.corpus_path.clone(),
                timing,
                stopped,
            ));
        }
        let bot = Bot::new(config, engine, reindexer)
            .with_insights(insights)
            .with_database(store)
            .in_cluster(cluster);
        let bot = Arc::new(bot);
        Ok(Service {
            bot,
            rest,
            writer,
            stop_watchers,
        })
    }

    /// Stops the watchers and writes the questions still queued.
    pub async fn finish(self) {
        let _ = self.stop_watchers.send(true);
        if let Some(writer) = self.writer {
            if !writer.finish(Duration::from_secs(5)).await {
                tracing::warn!("insights still queued at shutdown were not all written");
            }
        }
    }
}

/// Lets the interactions in flight finish, for at most `grace`, logging how it went.
pub(super) async fn drain(bot: &Bot, grace: Duration) {
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
}

/// Registers the slash commands of `application`: in each of `guild_ids` (instant), or
/// globally when there are none (Discord takes up to an hour to show those). Logs each
/// outcome and returns how many registrations failed.
pub(super) async fn register(rest: &Rest, application: u64, guild_ids: &[u64]) -> usize {
    let definitions = match serde_json::to_vec(&Command::definitions()) {
        Ok(json) => json,
        Err(error) => {
            tracing::error!(%error, "cannot serialise the command definitions");
            return 1;
        }
    };
    let paths: Vec<(Option<u64>, String)> = if guild_ids.is_empty() {
        vec![(None, format!("/applications/{application}/commands"))]
    } else {
        guild_ids
            .iter()
            .map(|&guild| {
                let path = format!("/applications/{application}/guilds/{guild}/commands");
                (Some(guild), path)
            })
            .collect()
    };
    let mut failed = 0;
    for (guild, path) in paths {
        let sent = rest
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
                    Some(guild) => tracing::info!(guild, count, "registered guild commands"),
                    None => tracing::info!(count, "registered global commands"),
                }
            }
            Err(error) => {
                failed += 1;
                tracing::error!(%error, ?guild, "could not register the commands");
            }
        }
    }
    failed
}

/// The application the bot token belongs to, asked of Discord (the HTTP mode has no
/// READY event to read it from).
///
/// # Errors
/// When Discord cannot be reached or refuses the token.
pub(super) async fn application_id(rest: &Rest) -> anyhow::Result<u64> {
    let answer = rest
        .send(
            Method::GET,
            "/applications/@me",
            Vec::new(),
            RetryPolicy::EDIT,
            Instant::now(),
        )
        .await
        .context("cannot ask Discord which application the token belongs to")?;
    let application: serde_json::Value = serde_json::from_slice(&answer)
        .context("Discord's answer about the application is not JSON")?;
    application["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .context("Discord's answer about the application has no id")
}

/// Registers the commands once, for `spacecollab register`: for deployments that do not
/// want every replica to do it at start-up. Returns how many registrations failed.
///
/// # Errors
/// When the REST client cannot be built or the application cannot be found.
pub async fn register_with_token(
    token: &Token,
    api_base_url: Option<&str>,
    guild_ids: &[u64],
) -> anyhow::Result<usize> {
    let rest = Rest::new(token.secret(), api_base_url, true)
        .context("cannot create the Discord REST client")?;
    let application = application_id(&rest).await?;
    Ok(register(&rest, application, guild_ids).await)
}
