//! The Discord edge: connects to the gateway with serenity, registers the slash
//! commands and answers interactions by calling the same engine as the command line.
//! Nothing outside this module imports serenity.

mod commands;
mod handler;
pub mod render;
mod sessions;

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use serenity::all::GatewayIntents;
use serenity::builder::CreateAllowedMentions;
use serenity::http::HttpBuilder;

pub use handler::Bot;

use crate::answer::Engine;
use crate::config::Config;
use crate::reindex::Reindexer;
use crate::watch;

/// The bot token. Its `Debug` never shows it, so it cannot reach a log by accident.
#[derive(Clone)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// Why the token cannot be used; checked before any connection is tried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the DISCORD_TOKEN environment variable is not set; put the bot token from Discord's developer portal there")]
    Missing,
    #[error("DISCORD_TOKEN does not look like a Discord bot token (expected three parts separated by dots)")]
    Malformed,
}

impl Token {
    /// Reads the token from `DISCORD_TOKEN`.
    ///
    /// # Errors
    /// When the variable is unset, empty or not shaped like a bot token.
    pub fn from_env() -> Result<Token, TokenError> {
        match std::env::var("DISCORD_TOKEN") {
            Ok(value) if !value.trim().is_empty() => Token::parse(&value),
            _ => Err(TokenError::Missing),
        }
    }

    /// Checks the shape of a token: `id.timestamp.hmac`, URL-safe base64 parts.
    ///
    /// # Errors
    /// [`TokenError::Malformed`] when it is not.
    pub fn parse(value: &str) -> Result<Token, TokenError> {
        let value = value.trim();
        let value = value.strip_prefix("Bot ").unwrap_or(value);
        let parts: Vec<&str> = value.split('.').collect();
        let base64 = |part: &&str| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '='))
        };
        if parts.len() == 3 && parts.iter().all(base64) {
            Ok(Token(value.to_string()))
        } else {
            Err(TokenError::Malformed)
        }
    }
}

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
        HttpBuilder::new(&token.0).default_allowed_mentions(CreateAllowedMentions::new());
    if let Some(base) = &config.discord.api_base_url {
        // serenity sends requests to the proxy only when its own rate limiter is off;
        // the proxy (or Discord's answers through it) then does the limiting.
        http = http.proxy(base).ratelimiter_disabled(true);
    }
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
    let bot = Bot::new(config, engine, reindexer);
    let mut client =
        serenity::client::ClientBuilder::new_with_http(http.build(), GatewayIntents::empty())
            .event_handler(bot)
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
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_checked_and_never_printed() {
        let token = Token::parse("MTA.Gx1y2z.abc-DEF_ghi").unwrap();
        assert_eq!(format!("{token:?}"), "Token(<redacted>)");
        assert_eq!(
            Token::parse("not a token").unwrap_err(),
            TokenError::Malformed
        );
        assert_eq!(Token::parse("a.b").unwrap_err(), TokenError::Malformed);
    }
}
