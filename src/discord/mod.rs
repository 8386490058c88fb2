//! The Discord edge: slash commands and buttons answered by the same engine as the
//! command line. Commands are types ([`commands`]) that take a parsed [`Interaction`]
//! and return [`Response`] values; transports (the serenity [`gateway`], and Discord's HTTP
//! interactions endpoint in [`http`]) only translate events in and responses out. Nothing outside this module imports serenity,
//! and nothing in it but [`gateway`] does.

mod bot;
pub mod commands;
pub mod error;
mod gateway;
pub mod http;
mod in_flight;
pub mod interaction;
mod limits;
pub mod redact;
pub mod render;
pub mod response;
mod rest;
mod retry;
mod service;
mod sessions;

pub use bot::Bot;
pub use gateway::serve;
pub use http::serve_http;
pub use interaction::Interaction;
pub use response::{Responder, Response};
pub use service::register_with_token;

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

    /// The token itself, for the transport that authenticates with it.
    pub(crate) fn secret(&self) -> &str {
        &self.0
    }
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
