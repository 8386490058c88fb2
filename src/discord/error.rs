//! The two kinds of failure a Discord user can meet, as triagebot splits them: a
//! [`UserError`] is a sentence written for them and shown as is (not allowed, already
//! running, nothing found); anything else is an internal error, logged with its whole
//! chain and an id, and shown only as a fixed apology with that id. Internal details
//! (paths, index errors, Discord's HTTP errors) must never reach a message.

use std::fmt;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};

use super::redact;

/// A refusal or problem the user should read, shown to them verbatim. Its text must not
/// carry paths, error chains or anything else from inside the bot.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UserError(String);

impl UserError {
    pub fn new(text: impl Into<String>) -> UserError {
        UserError(text.into())
    }

    pub fn text(&self) -> &str {
        &self.0
    }
}

/// Sending a response to Discord failed, so no other response can be expected to get
/// through either. Its text has the interaction token scrubbed out.
#[derive(Debug, thiserror::Error)]
#[error("cannot send the response to Discord: {0}")]
pub struct SendError(String);

impl SendError {
    /// Wraps a transport's error, removing `secret` (an interaction token, which
    /// appears in the URLs that HTTP client errors quote) and any other interaction or
    /// webhook token (see [`redact::redact`]) from its text.
    pub fn new(error: &dyn std::error::Error, secret: &str) -> SendError {
        let mut text = redact::error_chain(error);
        if !secret.is_empty() {
            text = text.replace(secret, redact::REDACTED);
        }
        SendError(text)
    }
}

/// A short id that names one internal error in both the log and the apology, so that
/// an admin can find what went wrong from a user's screenshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorId(u32);

impl ErrorId {
    /// A fresh id: a counter mixed with a per-process random key, so that ids neither
    /// repeat within a run nor follow a visible sequence.
    pub fn new() -> ErrorId {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        static KEY: std::sync::OnceLock<std::collections::hash_map::RandomState> =
            std::sync::OnceLock::new();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let hash = KEY.get_or_init(Default::default).hash_one(n);
        ErrorId((hash >> 32) as u32)
    }
}

impl Default for ErrorId {
    fn default() -> ErrorId {
        ErrorId::new()
    }
}

impl fmt::Display for ErrorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

/// Logs an internal error with its chain under a new id, and returns the id.
pub fn log_internal(error: &anyhow::Error, during: &str) -> ErrorId {
    let id = ErrorId::new();
    let chain = format!("{error:#}");
    tracing::error!(error_id = %id, error = %redact::redact(&chain), "{during} failed");
    id
}

/// The fixed sentence users see for an internal error.
pub fn apology(id: ErrorId) -> String {
    format!("Sorry, something went wrong on my side; please try again in a moment (error {id}).")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_ids_differ_and_appear_in_the_apology() {
        let (a, b) = (ErrorId::new(), ErrorId::new());
        assert_ne!(a, b);
        assert_eq!(a.to_string().len(), 8);
        assert!(apology(a).contains(&a.to_string()));
    }

    #[test]
    fn send_errors_never_carry_the_token() {
        let inner = std::io::Error::other(
            "error sending request for url (http://x/interactions/1/aW50ZXJhY3Rpb24.secret/callback)",
        );
        let error = SendError::new(&inner, "aW50ZXJhY3Rpb24.secret");
        assert!(!error.to_string().contains("secret"), "{error}");
        assert!(error.to_string().contains("<token>"), "{error}");
        // A token other than the one given (an edit's webhook URL) goes too.
        let other =
            std::io::Error::other("PATCH http://x/webhooks/9/b3RoZXI.token2/messages/@original");
        assert!(!SendError::new(&other, "unrelated")
            .to_string()
            .contains("token2"));
    }
}
