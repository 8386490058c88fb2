//! Keeps tokens out of logs. An interaction token lets anyone answer as the bot in that
//! interaction for 15 minutes, and the bot token is the bot: HTTP client errors quote
//! request URLs (`/interactions/{id}/{token}/callback`, `/webhooks/{app}/{token}/...`),
//! and libraries logging at debug or trace print gateway payloads (`"token":"..."`).
//! [`redact`] rewrites all of these; [`RedactingWriter`] applies it, and the removal of
//! known secrets, to every log line the binary writes, whatever its level or source.

use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::{Arc, OnceLock};

use regex::Regex;

/// What replaces a token.
pub const REDACTED: &str = "<token>";

/// An error's whole chain ("outer: cause: cause"), with tokens redacted: HTTP client
/// errors quote the URL they failed on, and Discord's URLs carry interaction tokens.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    redact(&text).into_owned()
}

/// `text` with the token of every interaction or webhook URL, and every `token` field
/// of JSON or of a Rust `Debug` dump, replaced by [`REDACTED`].
pub fn redact(text: &str) -> Cow<'_, str> {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    let pattern = PATTERN.get_or_init(|| {
        // A URL's token runs to the next `/`, query, space, quote or bracket; a field's
        // to its closing quote.
        Regex::new(concat!(
            r#"(?P<url>/(?:interactions|webhooks)/[0-9]+/)[^/\s?\#)"',]+"#,
            r#"|(?P<field>"token"\s*:\s*"|\btoken:\s*")[^"]*"#,
        ))
        .expect("a valid regex")
    });
    if !text.contains("token") && !text.contains("/interactions/") && !text.contains("/webhooks/") {
        return Cow::Borrowed(text);
    }
    pattern.replace_all(text, |caps: &regex::Captures| {
        let kept = caps
            .name("url")
            .or_else(|| caps.name("field"))
            .map_or("", |m| m.as_str());
        format!("{kept}{REDACTED}")
    })
}

/// A log writer that redacts each line (see [`redact`]) and removes `secrets` (the bot
/// token) before passing it on. The fmt subscriber writes each event with one call, so
/// a line is never split between two writes.
pub struct RedactingWriter<W> {
    inner: W,
    secrets: Arc<[String]>,
}

impl<W: Write> RedactingWriter<W> {
    pub fn new(inner: W, secrets: Arc<[String]>) -> RedactingWriter<W> {
        RedactingWriter { inner, secrets }
    }
}

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(bytes);
        let mut clean = redact(&text).into_owned();
        for secret in self.secrets.iter().filter(|s| !s.is_empty()) {
            if clean.contains(secret.as_str()) {
                clean = clean.replace(secret.as_str(), REDACTED);
            }
        }
        self.inner.write_all(clean.as_bytes())?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interaction_and_webhook_urls_lose_their_tokens() {
        let text = "error sending request for url \
            (http://127.0.0.1:9/api/v10/interactions/123/aW50ZXJhY3Rpb24.secret-1/callback): \
            PATCH https://discord.com/api/v10/webhooks/900/aW50.secret_2/messages/@original \
            /webhooks/900/aW50.secret3?wait=true";
        let clean = redact(text);
        assert!(!clean.contains("secret"), "{clean}");
        assert!(
            clean.contains("/api/v10/interactions/123/<token>/callback)"),
            "{clean}"
        );
        assert!(
            clean.contains("/webhooks/900/<token>/messages/@original"),
            "{clean}"
        );
        assert!(clean.contains("/webhooks/900/<token>?wait=true"), "{clean}");
    }

    #[test]
    fn token_fields_of_payloads_and_debug_dumps_are_redacted() {
        let clean =
            redact(r#"{"op":2,"d":{"token":"Bot MTA.x.y","intents":0}} token: "abc.def", id: 5"#);
        assert_eq!(
            clean,
            r#"{"op":2,"d":{"token":"<token>","intents":0}} token: "<token>", id: 5"#
        );
        assert!(matches!(redact("nothing to hide"), Cow::Borrowed(_)));
    }

    #[test]
    fn the_writer_removes_known_secrets() {
        let mut out = Vec::new();
        let secrets: Arc<[String]> = Arc::from(vec!["MTA.Gx.s3cret".to_string()]);
        let mut writer = RedactingWriter::new(&mut out, secrets);
        writer
            .write_all(b"authorization: Bot MTA.Gx.s3cret /interactions/1/tok/callback\n")
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "authorization: Bot <token> /interactions/1/<token>/callback\n"
        );
    }
}
