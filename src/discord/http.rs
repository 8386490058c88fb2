//! The HTTP interactions transport: Discord POSTs each interaction, signed with
//! Ed25519, to our endpoint, and the first response is the HTTP answer; later ones
//! (edits of a deferred reply) go over REST as in the gateway mode. Any replica behind
//! a load balancer can answer any interaction, because nothing here is kept between
//! requests. Also serves `GET /healthz` and `GET /readyz` for the balancer.
//!
//! Every request is checked before its body is read as JSON: at most [`MAX_BODY`]
//! bytes, `Content-Type: application/json`, a valid signature over the timestamp and
//! the raw body, and a timestamp within [`MAX_CLOCK_SKEW`] of ours (a replayed request
//! is refused even with its signature intact). Refusals carry no detail.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::{get, post};
use axum::Router;
use ed25519_dalek::{Signature, VerifyingKey};
use reqwest::Method;
use serde::de::{self, Deserializer};
use serde::Deserialize;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::bot::Bot;
use super::error::SendError;
use super::interaction::{
    CommandData, ComponentData, Data, Interaction, Member, ModalData, ModalField, Permissions, User,
};
use super::response::{Responder, Response};
use super::rest::Rest;
use super::retry::RetryPolicy;
use super::service::{application_id, drain, register, Service};
use super::Token;
use crate::answer::Engine;
use crate::config::Config;

/// The largest request body taken: an interaction is a few kilobytes.
pub const MAX_BODY: usize = 64 * 1024;
/// How far a request's `X-Signature-Timestamp` may be from our clock.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);
/// Discord waits this long for the HTTP answer to an interaction.
const CALLBACK_WINDOW: Duration = Duration::from_secs(3);

/// Where the HTTP mode takes interactions.
pub const INTERACTIONS_PATH: &str = "/interactions";

/// The application's public key, from `[discord] public_key`.
///
/// # Errors
/// When it is not 64 hex digits naming a valid Ed25519 key.
pub fn public_key(hex_key: &str) -> anyhow::Result<VerifyingKey> {
    let bytes: [u8; 32] = hex::decode(hex_key.trim())
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .context("[discord] public_key must be the 64 hex digits of the application's public key (developer portal, General Information)")?;
    VerifyingKey::from_bytes(&bytes)
        .context("[discord] public_key is not a valid Ed25519 public key")
}

/// Serves interactions over HTTP at `listen` until `shutdown` completes; then stops
/// taking requests (and says so on `/readyz` first), lets the interactions in flight
/// finish (for at most `[discord] shutdown_grace_ms`) and returns. Registers the
/// commands at start-up when `register_commands` is set.
///
/// # Errors
/// When the public key is missing or invalid, the address cannot be bound, or the
/// shared parts cannot start.
pub async fn serve_http(
    config: Config,
    engine: Arc<Engine>,
    token: Token,
    listener: TcpListener,
    register_commands: bool,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let key = public_key(
        config
            .discord
            .public_key
            .as_deref()
            .context("the HTTP interactions mode needs [discord] public_key (developer portal, General Information)")?,
    )?;
    let grace = Duration::from_millis(config.discord.shutdown_grace_ms);
    let guild_ids = config.discord.guild_ids.clone();
    let service = Service::start(config, engine, &token).await?;
    if register_commands {
        let rest = Arc::clone(&service.rest);
        tokio::spawn(async move {
            match application_id(&rest).await {
                Ok(application) => {
                    register(&rest, application, &guild_ids).await;
                }
                Err(error) => tracing::error!(
                    error = %super::redact::error_chain(error.as_ref()),
                    "could not register the commands"
                ),
            }
        });
    }
    let endpoint = Arc::new(Endpoint {
        bot: Arc::clone(&service.bot),
        rest: Arc::clone(&service.rest),
        key,
        stopping: AtomicBool::new(false),
    });
    let address = listener.local_addr().ok();
    tracing::info!(
        ?address,
        path = INTERACTIONS_PATH,
        "taking interactions over HTTP"
    );
    let stopping = Arc::clone(&endpoint);
    let served = axum::serve(listener, router(Arc::clone(&endpoint)))
        .with_graceful_shutdown(async move {
            shutdown.await;
            stopping.stopping.store(true, Ordering::SeqCst);
            tracing::info!("shutting down: no new requests; finishing those in flight");
        })
        .await
        .context("the HTTP server failed");
    // The HTTP answers are out; edits of deferred replies may still be coming.
    drain(&service.bot, grace).await;
    service.finish().await;
    served
}

/// Binds `listen`, naming it in the error.
///
/// # Errors
/// When the address is taken or not ours.
pub async fn bind(listen: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen for interactions on {listen}"))
}

/// What every request may use.
struct Endpoint {
    bot: Arc<Bot>,
    rest: Arc<Rest>,
    key: VerifyingKey,
    /// Set when shutdown starts, so that `/readyz` sends the balancer elsewhere.
    stopping: AtomicBool,
}

fn router(endpoint: Arc<Endpoint>) -> Router {
    Router::new()
        .route(INTERACTIONS_PATH, post(interactions))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(endpoint)
}

/// Ready when the bot is not shutting down and its database (if any) answers.
async fn ready(State(endpoint): State<Arc<Endpoint>>) -> HttpResponse {
    if endpoint.stopping.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    match endpoint.bot.database_answers().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(error) => {
            tracing::warn!(%error, "not ready: the database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

async fn interactions(
    State(endpoint): State<Arc<Endpoint>>,
    headers: HeaderMap,
    body: Bytes,
) -> HttpResponse {
    let received = Instant::now();
    if !is_json(&headers) {
        return StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response();
    }
    if let Err(refusal) = verify(&endpoint.key, &headers, &body, SystemTime::now()) {
        metrics::counter!("spacecollab_http_refused_total", "reason" => refusal.label())
            .increment(1);
        tracing::debug!(reason = refusal.label(), "refused an interaction request");
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let incoming: Incoming = match serde_json::from_slice(&body) {
        Ok(incoming) => incoming,
        Err(error) => {
            tracing::warn!(%error, "a signed interaction is not one we can read");
            return StatusCode::BAD_REQUEST.into_response();
        }
    };
    if incoming.kind == PING {
        return json_response(&serde_json::json!({ "type": 1 }));
    }
    let (interaction, application, token) = match incoming.into_interaction() {
        Ok(parsed) => parsed,
        Err(error) => {
            tracing::warn!(%error, "a signed interaction is not one we can read");
            return StatusCode::BAD_REQUEST.into_response();
        }
    };
    let (first, answer) = oneshot::channel();
    let reply = HttpReply {
        first: Mutex::new(Some(first)),
        rest: Arc::clone(&endpoint.rest),
        application,
        token,
    };
    let bot = Arc::clone(&endpoint.bot);
    // The bot goes on after the HTTP answer (a deferred reply is edited in later), so
    // it runs on its own task; the request waits only for the first response.
    tokio::spawn(async move {
        match bot.handle(&interaction, &reply).await {
            Ok(()) => tracing::debug!(
                elapsed_us = received.elapsed().as_micros() as u64,
                "interaction handled"
            ),
            Err(error) => tracing::error!(%error, "interaction failed"),
        }
    });
    match tokio::time::timeout(CALLBACK_WINDOW, answer).await {
        Ok(Ok(response)) => json_response(&response),
        _ => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn json_response(value: &impl serde::Serialize) -> HttpResponse {
    match serde_json::to_vec(value) {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(error) => {
            tracing::error!(%error, "cannot serialise a response");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

/// Why a request was refused with 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No signature or timestamp header, or one that is not shaped as one.
    Unsigned,
    /// The signature does not match the timestamp and body.
    BadSignature,
    /// Signed, but too old or too far ahead: a replay, or a clock far off.
    Stale,
}

impl Refusal {
    fn label(self) -> &'static str {
        match self {
            Refusal::Unsigned => "unsigned",
            Refusal::BadSignature => "bad_signature",
            Refusal::Stale => "stale",
        }
    }
}

/// Checks a request as Discord signs it: Ed25519 over `X-Signature-Timestamp`
/// followed by the raw body, with the signature in `X-Signature-Ed25519` (hex); and a
/// timestamp (Unix seconds) within [`MAX_CLOCK_SKEW`] of `now`.
///
/// # Errors
/// The [`Refusal`] that applies.
pub fn verify(
    key: &VerifyingKey,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
) -> Result<(), Refusal> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(signature), Some(timestamp)) = (
        header("x-signature-ed25519"),
        header("x-signature-timestamp"),
    ) else {
        return Err(Refusal::Unsigned);
    };
    let signature: [u8; 64] = hex::decode(signature)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(Refusal::Unsigned)?;
    let mut message = Vec::with_capacity(timestamp.len() + body.len());
    message.extend_from_slice(timestamp.as_bytes());
    message.extend_from_slice(body);
    key.verify_strict(&message, &Signature::from_bytes(&signature))
        .map_err(|_| Refusal::BadSignature)?;
    let sent: i64 = timestamp.parse().map_err(|_| Refusal::Unsigned)?;
    let now = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() as i64);
    if now.abs_diff(sent) > MAX_CLOCK_SKEW.as_secs() {
        return Err(Refusal::Stale);
    }
    Ok(())
}

/// Answers one interaction: the first response through the HTTP answer, edits
/// through the interaction's webhook.
struct HttpReply {
    /// Taken by the first response; a second callback is refused, as Discord would.
    first: Mutex<Option<oneshot::Sender<Response>>>,
    rest: Arc<Rest>,
    application: u64,
    /// Valid for 15 minutes; never logged (see [`SendError::new`]).
    token: String,
}

#[derive(Debug, thiserror::Error)]
enum HttpReplyError {
    #[error("the interaction was already answered")]
    AlreadyAnswered,
    #[error("the HTTP request was gone before its answer was ready")]
    RequestGone,
}

impl Responder for HttpReply {
    async fn send(&self, response: Response) -> Result<(), SendError> {
        if response.is_edit() {
            let body =
                serde_json::to_vec(&response).map_err(|e| SendError::new(&e, &self.token))?;
            let path = format!(
                "/webhooks/{}/{}/messages/@original",
                self.application, self.token
            );
            return self
                .rest
                .send(
                    Method::PATCH,
                    &path,
                    body,
                    RetryPolicy::EDIT,
                    Instant::now(),
                )
                .await
                .map(drop)
                .map_err(|error| SendError::new(&error, &self.token));
        }
        let first = self.first.lock().unwrap_or_else(|p| p.into_inner()).take();
        let Some(first) = first else {
            return Err(SendError::new(&HttpReplyError::AlreadyAnswered, ""));
        };
        first
            .send(response)
            .map_err(|_| SendError::new(&HttpReplyError::RequestGone, ""))
    }
}

/// Discord's interaction type for the endpoint check.
const PING: u8 = 1;

/// An interaction as Discord POSTs it, with only the fields the bot reads.
#[derive(Debug, Deserialize)]
struct Incoming {
    #[serde(rename = "type")]
    kind: u8,
    #[serde(default, deserialize_with = "snowflake")]
    id: u64,
    #[serde(default, deserialize_with = "snowflake")]
    application_id: u64,
    #[serde(default)]
    token: String,
    #[serde(default, deserialize_with = "optional_snowflake")]
    guild_id: Option<u64>,
    #[serde(default, deserialize_with = "optional_snowflake")]
    channel_id: Option<u64>,
    member: Option<IncomingMember>,
    /// The sender in a direct message (in a server it is inside `member`).
    user: Option<IncomingUser>,
    #[serde(default)]
    data: Value,
}

#[derive(Debug, Deserialize)]
struct IncomingMember {
    user: IncomingUser,
    #[serde(default)]
    roles: Vec<Snowflake>,
    /// A decimal string of permission bits.
    permissions: Option<String>,
}

#[derive(Debug, Deserialize)]
struct IncomingUser {
    #[serde(deserialize_with = "snowflake")]
    id: u64,
    username: String,
}

/// A snowflake inside a list, where `deserialize_with` cannot reach.
#[derive(Debug, Deserialize)]
struct Snowflake(#[serde(deserialize_with = "snowflake")] u64);

/// Discord sends snowflakes as decimal strings (numbers are taken too).
fn snowflake<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::String(text) => text.parse().map_err(de::Error::custom),
        Value::Number(number) => number
            .as_u64()
            .ok_or_else(|| de::Error::custom("a snowflake must be a positive integer")),
        other => Err(de::Error::custom(format!(
            "expected a snowflake, found {other}"
        ))),
    }
}

fn optional_snowflake<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(None),
        value => snowflake(value).map(Some).map_err(de::Error::custom),
    }
}

/// Why a signed interaction could not be read.
#[derive(Debug, thiserror::Error)]
enum IncomingError {
    #[error("interaction type {0} is not one the bot handles")]
    Kind(u8),
    #[error("the interaction names no sender")]
    NoSender,
    #[error("the interaction has no id, application id or token")]
    NoId,
    #[error("the interaction's data is malformed: {0}")]
    Data(#[from] serde_json::Error),
}

impl Incoming {
    /// Our view of the interaction, with the application id and token to answer it.
    fn into_interaction(self) -> Result<(Interaction, u64, String), IncomingError> {
        if self.id == 0 || self.application_id == 0 || self.token.is_empty() {
            return Err(IncomingError::NoId);
        }
        let data = match self.kind {
            2 => Data::Command(serde_json::from_value::<CommandData>(self.data)?),
            3 => Data::Component(serde_json::from_value::<ComponentData>(self.data)?),
            4 => Data::Autocomplete(serde_json::from_value::<CommandData>(self.data)?),
            5 => Data::ModalSubmit(modal_data(&self.data)?),
            other => return Err(IncomingError::Kind(other)),
        };
        let (user, member) = match (self.member, self.user) {
            (Some(member), _) => {
                let permissions = member
                    .permissions
                    .as_deref()
                    .and_then(|bits| bits.parse().ok())
                    .map(Permissions);
                let roles = member.roles.into_iter().map(|role| role.0).collect();
                (member.user, Some(Member { permissions, roles }))
            }
            (None, Some(user)) => (user, None),
            (None, None) => return Err(IncomingError::NoSender),
        };
        let interaction = Interaction {
            id: self.id,
            user: User {
                id: user.id,
                name: user.username,
            },
            guild_id: self.guild_id,
            channel_id: self.channel_id,
            member,
            data,
        };
        Ok((interaction, self.application_id, self.token))
    }
}

/// A submitted form's id and text boxes, from either layout Discord sends: action rows
/// (`components` of type 4) or labels (`component` of type 4).
fn modal_data(data: &Value) -> Result<ModalData, IncomingError> {
    #[derive(Deserialize)]
    struct Form {
        custom_id: String,
        #[serde(default)]
        components: Vec<Value>,
    }
    fn text_inputs(component: &Value, fields: &mut Vec<ModalField>) {
        if let (Some(custom_id), Some(value)) = (
            component.get("custom_id").and_then(Value::as_str),
            component.get("value").and_then(Value::as_str),
        ) {
            fields.push(ModalField {
                custom_id: custom_id.to_string(),
                value: value.to_string(),
            });
        }
        for child in component
            .get("components")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .chain(component.get("component"))
        {
            text_inputs(child, fields);
        }
    }
    let form: Form = serde_json::from_value(data.clone())?;
    let mut fields = Vec::new();
    for component in &form.components {
        text_inputs(component, &mut fields);
    }
    Ok(ModalData {
        custom_id: form.custom_id,
        fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};
    use serde_json::json;

    fn signed(key: &SigningKey, timestamp: &str, body: &[u8]) -> HeaderMap {
        let mut message = timestamp.as_bytes().to_vec();
        message.extend_from_slice(body);
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-signature-ed25519",
            hex::encode(key.sign(&message).to_bytes()).parse().unwrap(),
        );
        headers.insert("x-signature-timestamp", timestamp.parse().unwrap());
        headers
    }

    #[test]
    fn signatures_and_timestamps_are_checked() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let other = SigningKey::from_bytes(&[8; 32]);
        let public = key.verifying_key();
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let body = br#"{"type":1}"#;
        assert_eq!(
            verify(&public, &signed(&key, "1800000000", body), body, now),
            Ok(())
        );
        // Someone else's key, a changed body, a changed timestamp.
        let wrong = signed(&other, "1800000000", body);
        assert_eq!(
            verify(&public, &wrong, body, now),
            Err(Refusal::BadSignature)
        );
        let headers = signed(&key, "1800000000", body);
        assert_eq!(
            verify(&public, &headers, br#"{"type":2}"#, now),
            Err(Refusal::BadSignature)
        );
        let mut moved = headers.clone();
        moved.insert("x-signature-timestamp", "1800000001".parse().unwrap());
        assert_eq!(
            verify(&public, &moved, body, now),
            Err(Refusal::BadSignature)
        );
        // Correctly signed, but six minutes old or ahead: a replay.
        let old = signed(&key, "1799999640", body);
        assert_eq!(verify(&public, &old, body, now), Err(Refusal::Stale));
        let ahead = signed(&key, "1800000360", body);
        assert_eq!(verify(&public, &ahead, body, now), Err(Refusal::Stale));
        let edge = signed(&key, "1799999700", body);
        assert_eq!(verify(&public, &edge, body, now), Ok(()));
        // Missing or malformed headers.
        assert_eq!(
            verify(&public, &HeaderMap::new(), body, now),
            Err(Refusal::Unsigned)
        );
        let mut short = headers;
        short.insert("x-signature-ed25519", "abcd".parse().unwrap());
        assert_eq!(verify(&public, &short, body, now), Err(Refusal::Unsigned));
    }

    #[test]
    fn public_keys_are_read_from_hex() {
        let key = SigningKey::from_bytes(&[7; 32]).verifying_key();
        let hex_key = hex::encode(key.to_bytes());
        assert_eq!(public_key(&hex_key).unwrap(), key);
        assert!(public_key("abc").is_err());
        assert!(public_key(&"zz".repeat(32)).is_err());
    }

    #[test]
    fn discords_json_is_read_into_our_interaction() {
        let incoming: Incoming = serde_json::from_value(json!({
            "type": 2, "id": "920000000000000001", "application_id": "910000000000000001",
            "token": "secret", "guild_id": "5", "channel_id": "6",
            "member": { "user": { "id": "7", "username": "ada" }, "roles": ["9"], "permissions": "32" },
            "data": { "id": "1", "name": "ask", "type": 1,
                      "options": [ { "name": "question", "type": 3, "value": "Who built Kibo?" } ] }
        }))
        .unwrap();
        let (interaction, application, token) = incoming.into_interaction().unwrap();
        assert_eq!(
            (application, token.as_str()),
            (910_000_000_000_000_001, "secret")
        );
        assert_eq!(interaction.id, 920_000_000_000_000_001);
        assert_eq!(
            (interaction.guild_id, interaction.channel_id),
            (Some(5), Some(6))
        );
        assert_eq!(interaction.user.name, "ada");
        let member = interaction.member.as_ref().unwrap();
        assert_eq!(member.roles, vec![9]);
        assert_eq!(member.permissions, Some(Permissions(32)));
        let Data::Command(command) = &interaction.data else {
            panic!("not a command: {:?}", interaction.data);
        };
        assert_eq!(command.string("question"), Some("Who built Kibo?"));

        // A direct message: the user at the top level, no member.
        let direct: Incoming = serde_json::from_value(json!({
            "type": 3, "id": "1", "application_id": "2", "token": "t",
            "user": { "id": "7", "username": "ada" },
            "data": { "custom_id": "page:3:1", "component_type": 2 }
        }))
        .unwrap();
        let (interaction, _, _) = direct.into_interaction().unwrap();
        assert!(interaction.member.is_none() && interaction.guild_id.is_none());
        assert_eq!(
            interaction.data,
            Data::Component(ComponentData {
                custom_id: "page:3:1".into()
            })
        );
    }

    #[test]
    fn forms_are_read_from_either_layout() {
        let rows = json!({ "custom_id": "note:1", "components": [
            { "type": 1, "components": [ { "type": 4, "custom_id": "why", "value": "wrong year" } ] }
        ] });
        let labels = json!({ "custom_id": "note:1", "components": [
            { "type": 18, "component": { "type": 4, "custom_id": "why", "value": "wrong year" } }
        ] });
        for data in [rows, labels] {
            let form = modal_data(&data).unwrap();
            assert_eq!(form.custom_id, "note:1");
            assert_eq!(
                form.fields,
                vec![ModalField {
                    custom_id: "why".into(),
                    value: "wrong year".into()
                }]
            );
        }
    }

    #[test]
    fn interactions_we_cannot_read_are_refused() {
        let no_sender: Incoming = serde_json::from_value(json!({
            "type": 2, "id": "1", "application_id": "2", "token": "t", "data": { "name": "ask" }
        }))
        .unwrap();
        assert!(matches!(
            no_sender.into_interaction(),
            Err(IncomingError::NoSender)
        ));
        let unknown: Incoming = serde_json::from_value(json!({
            "type": 9, "id": "1", "application_id": "2", "token": "t",
            "user": { "id": "7", "username": "ada" }
        }))
        .unwrap();
        assert!(matches!(
            unknown.into_interaction(),
            Err(IncomingError::Kind(9))
        ));
        assert!(serde_json::from_value::<Incoming>(json!({ "type": 2, "id": [] })).is_err());
    }
}
