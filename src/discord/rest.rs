//! Discord's REST API as the bot uses it: interaction callbacks, edits of the original
//! response, command registration. Every call goes through [`Rest::send`], which honours
//! Discord's rate limits (it waits out a bucket whose `X-RateLimit-Remaining` reached 0,
//! and a 429's `retry_after`) and retries transient failures as [`RetryPolicy`] says.
//!
//! Why not serenity's `Http`: its rate limiter builds every request for discord.com and
//! ignores a configured proxy (serenity 0.12.5, `Ratelimiter::perform`), so a bot behind
//! `api_base_url` had to turn it off and then honoured no 429 at all; and it retries
//! nothing but 429s. Here the limiter stays on with any base URL, unless
//! `[discord] proxy_ratelimits` says the proxy in front does the limiting.
//!
//! Tokens never leave this module in a message: routes are described with
//! [`redact`](super::redact::redact) applied.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use reqwest::Method;

use super::redact::{self, redact};
use super::retry::{Decision, Failure, RetryPolicy};

/// A call that did not succeed, with its route (token redacted), the attempts made and
/// the last failure.
#[derive(Debug, thiserror::Error)]
#[error("{route}: {last} (gave up after {attempts} attempt{s})", s = if *attempts == 1 { "" } else { "s" })]
pub struct RestError {
    pub route: String,
    pub attempts: u32,
    /// The last status and Discord's message, or the connection error; tokens redacted.
    pub last: String,
    /// The last HTTP status, if Discord answered at all.
    pub status: Option<u16>,
}

/// The REST client: one per bot, shared by every interaction.
pub struct Rest {
    client: reqwest::Client,
    /// `https://discord.com/api/v10`, or the configured base with `/api/v10`.
    base: String,
    /// Whether to wait out exhausted buckets before sending (off behind a proxy that
    /// limits); 429s are honoured either way.
    limit: bool,
    /// When each bucket (a request path: per interaction or webhook token, as Discord
    /// limits these routes) may be used again, and when any request may (a global 429).
    /// A std mutex: held for a lookup or an insert, never across `.await`.
    not_before: Mutex<(HashMap<String, Instant>, Option<Instant>)>,
}

impl Rest {
    /// # Errors
    /// When the HTTP client cannot be built (no TLS backend).
    pub fn new(token: &str, api_base_url: Option<&str>, limit: bool) -> anyhow::Result<Rest> {
        let mut headers = HeaderMap::new();
        let mut authorization = HeaderValue::from_str(&format!("Bot {token}"))?;
        authorization.set_sensitive(true);
        headers.insert(AUTHORIZATION, authorization);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!(
                "DiscordBot (https://github.com/spacecollab/spacecollab, ",
                env!("CARGO_PKG_VERSION"),
                ")"
            )),
        );
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(Duration::from_secs(5))
            .build()?;
        let base = api_base_url.unwrap_or("https://discord.com");
        Ok(Rest {
            client,
            base: format!("{}/api/v10", base.trim_end_matches('/')),
            limit,
            not_before: Mutex::new((HashMap::new(), None)),
        })
    }

    /// Sends `body` to `path` (under `/api/v10`), retrying as `policy` says from
    /// `began` (when the call's clock started), and returns the answer's body.
    ///
    /// # Errors
    /// The last failure, once the call will not be tried again.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Vec<u8>,
        policy: RetryPolicy,
        began: Instant,
    ) -> Result<Vec<u8>, RestError> {
        let route = || format!("{method} {}", redact(path));
        let url = format!("{}{path}", self.base);
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.wait_for_bucket(path, began + policy.deadline).await;
            let remaining = (began + policy.deadline).saturating_duration_since(Instant::now());
            let request = self
                .client
                .request(method.clone(), &url)
                .body(body.clone())
                // An attempt may not outlive the call's deadline by more than a second.
                .timeout(remaining + Duration::from_secs(1));
            let (failure, last) = match request.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let headers = response.headers().clone();
                    let answer = response.bytes().await.map(|b| b.to_vec());
                    self.note_limits(path, &headers);
                    match answer {
                        Ok(answer) if (200..300).contains(&status) => return Ok(answer),
                        // An earlier attempt reached Discord but its answer was lost (the
                        // connection dropped): the callback is in, so this one succeeded.
                        Ok(answer)
                            if attempt > 1
                                && status == 400
                                && discord_code(&answer) == Some(ALREADY_ACKNOWLEDGED) =>
                        {
                            tracing::info!(route = %route(), "an earlier attempt had got through");
                            return Ok(answer);
                        }
                        Ok(answer) => {
                            let retry_after = retry_after(&headers, &answer);
                            if status == 429 {
                                self.note_429(path, &headers, &answer, retry_after);
                            }
                            let message = String::from_utf8_lossy(&answer);
                            let message: String = message.chars().take(200).collect();
                            (
                                Failure::Status {
                                    code: status,
                                    retry_after,
                                },
                                format!("{status} {}", redact(&message)),
                            )
                        }
                        Err(error) => (Failure::Connection, redact::error_chain(&error)),
                    }
                }
                Err(error) => (Failure::Connection, redact::error_chain(&error)),
            };
            match policy.decide(attempt, began.elapsed(), failure, jitter()) {
                Decision::RetryAfter(wait) => {
                    metrics::counter!("spacecollab_discord_retries_total", "route" => route_kind(path))
                        .increment(1);
                    tracing::info!(
                        route = %route(),
                        attempt,
                        failure = %last,
                        wait_ms = wait.as_millis() as u64,
                        "retrying a Discord request"
                    );
                    tokio::time::sleep(wait).await;
                }
                Decision::GiveUp => {
                    metrics::counter!("spacecollab_discord_give_ups_total", "route" => route_kind(path))
                        .increment(1);
                    let status = match failure {
                        Failure::Status { code, .. } => Some(code),
                        Failure::Connection => None,
                    };
                    return Err(RestError {
                        route: route(),
                        attempts: attempt,
                        last,
                        status,
                    });
                }
            }
        }
    }

    /// Waits until `path`'s bucket (and the global limit) allows a request, but not
    /// past `deadline`.
    async fn wait_for_bucket(&self, path: &str, deadline: Instant) {
        let until = {
            let not_before = self.not_before.lock().unwrap_or_else(|p| p.into_inner());
            let bucket = if self.limit {
                not_before.0.get(path).copied()
            } else {
                None
            };
            bucket.max(not_before.1)
        };
        if let Some(until) = until {
            let now = Instant::now();
            if until > now {
                tokio::time::sleep_until(until.min(deadline).into()).await;
            }
        }
    }

    /// Remembers a bucket that is used up until its reset.
    fn note_limits(&self, path: &str, headers: &HeaderMap) {
        let exhausted = header_f64(headers, "x-ratelimit-remaining") == Some(0.0);
        let reset_after = header_f64(headers, "x-ratelimit-reset-after");
        let mut not_before = self.not_before.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        // Forget what has passed, so the map holds only buckets still limited.
        not_before.0.retain(|_, until| *until > now);
        if let (true, Some(seconds)) = (exhausted, reset_after) {
            not_before.0.insert(
                path.to_string(),
                now + Duration::from_secs_f64(seconds.max(0.0)),
            );
        }
    }

    /// A 429 that Discord marks global holds back every request.
    fn note_429(&self, path: &str, headers: &HeaderMap, body: &[u8], wait: Option<Duration>) {
        let global = headers.contains_key("x-ratelimit-global")
            || serde_json::from_slice::<serde_json::Value>(body)
                .is_ok_and(|v| v["global"].as_bool() == Some(true));
        let wait = wait.unwrap_or(Duration::from_secs(1));
        tracing::warn!(route = %redact(path), global, wait_ms = wait.as_millis() as u64, "rate limited by Discord");
        if global {
            let mut not_before = self.not_before.lock().unwrap_or_else(|p| p.into_inner());
            not_before.1 = Some(Instant::now() + wait);
        }
    }
}

/// Discord's error code for a second callback to one interaction.
const ALREADY_ACKNOWLEDGED: i64 = 40_060;

/// The `code` of a Discord error body.
fn discord_code(body: &[u8]) -> Option<i64> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()?
        .get("code")?
        .as_i64()
}

/// What a path is, for metric labels (which must not carry ids or tokens).
fn route_kind(path: &str) -> &'static str {
    if path.ends_with("/callback") {
        "callback"
    } else if path.starts_with("/webhooks/") {
        "edit"
    } else if path.ends_with("/commands") {
        "register"
    } else {
        "other"
    }
}

/// The longest wait a 429 asks for: its body's `retry_after` and its `Retry-After` and
/// `X-RateLimit-Reset-After` headers, in seconds.
fn retry_after(headers: &HeaderMap, body: &[u8]) -> Option<Duration> {
    let from_body = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["retry_after"].as_f64());
    [
        from_body,
        header_f64(headers, "retry-after"),
        header_f64(headers, "x-ratelimit-reset-after"),
    ]
    .into_iter()
    .flatten()
    .filter(|s| s.is_finite() && *s >= 0.0)
    .map(Duration::from_secs_f64)
    .max()
}

fn header_f64(headers: &HeaderMap, name: &str) -> Option<f64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// A number from 0 to 1 that differs from call to call, for the backoff's jitter.
fn jitter() -> f64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static KEY: std::sync::OnceLock<std::collections::hash_map::RandomState> =
        std::sync::OnceLock::new();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let hash = KEY.get_or_init(Default::default).hash_one(n);
    (hash >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_429_waits_for_the_longest_of_its_hints() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("1"));
        headers.insert("x-ratelimit-reset-after", HeaderValue::from_static("1.5"));
        let body =
            br#"{"message": "You are being rate limited.", "retry_after": 0.25, "global": false}"#;
        assert_eq!(
            retry_after(&headers, body),
            Some(Duration::from_millis(1_500))
        );
        assert_eq!(
            retry_after(&HeaderMap::new(), body),
            Some(Duration::from_millis(250))
        );
        assert_eq!(retry_after(&HeaderMap::new(), b"not json"), None);
    }

    #[test]
    fn jitter_stays_between_0_and_1_and_varies() {
        let values: Vec<f64> = (0..100).map(|_| jitter()).collect();
        assert!(values.iter().all(|v| (0.0..1.0).contains(v)));
        assert!(values.iter().any(|v| *v != values[0]));
    }
}
