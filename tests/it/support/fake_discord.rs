//! A fake Discord on 127.0.0.1 for end-to-end tests of the bot: the REST routes the bot
//! uses (recorded for inspection) and a gateway websocket that says HELLO, answers
//! IDENTIFY with READY, acknowledges heartbeats and dispatches the interactions a test
//! sends. Payload shapes follow Discord's OpenAPI description and what serenity 0.12
//! needs to deserialize them.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::{any, get};
use axum::{Json, Router};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Notify};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// The application (and bot user) id the fake announces in READY.
pub const APPLICATION_ID: u64 = 900_000_000_000_000_001;
pub const GUILD_ID: u64 = 900_000_000_000_000_002;
pub const CHANNEL_ID: u64 = 900_000_000_000_000_003;

/// One REST request the bot made.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub body: Value,
    /// The body as sent, byte for byte.
    pub raw: String,
    pub at: Instant,
    /// The fault the fake answered this request with, if any (see [`FakeDiscord::inject`]).
    pub fault: Option<Fault>,
}

/// A way the fake misbehaves on one request, as Discord (or the network) sometimes does.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Closes the connection without an answer.
    Drop,
    /// Answers with this status (a 5xx) and Discord's JSON error body.
    Status(u16),
    /// Answers 429 with `retry_after` seconds in the body, `Retry-After` (whole seconds,
    /// rounded up) and `X-RateLimit-Reset-After`, as Discord does.
    RateLimited { retry_after: f64 },
    /// Answers normally, after this delay.
    Slow(Duration),
    /// Answers with this status and JSON body.
    Answer(u16, Value),
}

/// A way the gateway misbehaves on the connection open now, as Discord does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayFault {
    /// Sends op 7 Reconnect.
    Reconnect,
    /// Sends op 9 Invalid Session with d=false.
    InvalidSession,
    /// Closes the websocket with this close code.
    Close(u16),
    /// Ends the TCP connection without a close frame.
    Drop,
    /// Stops acknowledging heartbeats (op 11) on this connection: a zombied connection.
    StopAcks,
}

/// How a gateway connection began: the first IDENTIFY (op 2) or RESUME (op 6) it got.
#[derive(Debug, Clone)]
pub struct Handshake {
    /// 2 or 6.
    pub op: u64,
    pub at: Instant,
    /// The sequence number a RESUME sent.
    pub seq: Option<u64>,
    /// Whether the fake answered it with op 9 rather than READY or RESUMED.
    pub invalidated: bool,
    /// The `[shard, total]` an IDENTIFY named.
    pub shard: Option<(u64, u64)>,
    /// The gateway address the connection was made to.
    pub url: String,
}

/// What a test asks the connection open now to send or do.
#[derive(Debug)]
enum Command {
    Send(Value),
    Misbehave(GatewayFault),
}

/// The requests a fault is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `POST /interactions/{id}/{token}/callback`.
    Callback,
    /// `PATCH /webhooks/{application}/{token}/messages/@original`.
    Edit,
}

#[derive(Default)]
struct Shared {
    /// std mutexes: held for a push or a copy, never across `.await`.
    requests: Mutex<Vec<Request>>,
    recorded: Notify,
    gateway: Mutex<Option<mpsc::UnboundedSender<Command>>>,
    identified: Notify,
    identify_count: AtomicU64,
    /// The handshake (IDENTIFY or RESUME) of each gateway connection, in order.
    handshakes: Mutex<Vec<Handshake>>,
    /// The HELLO's heartbeat interval in milliseconds; 0 for Discord's usual 41,250.
    heartbeat_ms: AtomicU64,
    /// Heartbeats (op 1) received, acknowledged or not.
    heartbeats: AtomicU64,
    /// How many handshakes still to answer with op 9 Invalid Session (d=false).
    invalid_handshakes: AtomicU64,
    sequence: AtomicU64,
    /// When each interaction id was dispatched, for latency figures.
    dispatched: Mutex<Vec<(u64, Instant)>>,
    /// Faults still to apply, each to the next request of its route, in order.
    faults: Mutex<Vec<(Route, Fault)>>,
    /// Requests held by a [`Fault::Slow`] right now.
    delayed: AtomicU64,
    /// How each gateway connection ended: the close code the bot sent (or the fake, when a
    /// test made it close), 1005 for a close frame without a code, 1006 for a connection
    /// that ended without one.
    close_codes: Mutex<Vec<u16>>,
    closed: Notify,
}

/// A running fake Discord; it stops when the test's runtime ends.
#[derive(Clone)]
pub struct FakeDiscord {
    /// What the bot's `api_base_url` should be.
    pub api_base: String,
    pub gateway_url: String,
    /// The `resume_gateway_url` READY announces: a second address of the same fake.
    pub resume_gateway_url: String,
    shared: Arc<Shared>,
}

impl FakeDiscord {
    pub async fn start() -> FakeDiscord {
        let shared = Arc::new(Shared::default());
        let gateway = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let gateway_url = format!("ws://{}", gateway.local_addr().unwrap());
        let resume = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let resume_gateway_url = format!("ws://{}", resume.local_addr().unwrap());
        for (listener, url) in [(gateway, &gateway_url), (resume, &resume_gateway_url)] {
            tokio::spawn(serve_gateway(
                listener,
                Arc::clone(&shared),
                url.clone(),
                resume_gateway_url.clone(),
            ));
        }

        let rest = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api_base = format!("http://{}", rest.local_addr().unwrap());
        let url_for_route = gateway_url.clone();
        let app = Router::new()
            .route(
                "/api/v10/gateway",
                get(move || {
                    let url = url_for_route.clone();
                    async move { Json(json!({ "url": url })) }
                }),
            )
            .route("/api/v10/interactions/{id}/{token}/callback", any(callback))
            .route(
                "/api/v10/applications/@me",
                get(|| async {
                    Json(json!({ "id": snowflake(APPLICATION_ID), "name": "spacecollab", "bot_public": true }))
                }),
            )
            .fallback(record_other)
            .with_state(Arc::clone(&shared));
        tokio::spawn(async move {
            axum::serve(rest, app).await.unwrap();
        });
        FakeDiscord {
            api_base,
            gateway_url,
            resume_gateway_url,
            shared,
        }
    }

    /// Waits until the bot has identified on the gateway and received READY.
    pub async fn wait_ready(&self, timeout: Duration) -> bool {
        let connected = || self.shared.gateway.lock().unwrap().is_some().then_some(());
        wait_until(&self.shared.identified, timeout, connected)
            .await
            .is_some()
    }

    /// Sends INTERACTION_CREATE over the gateway.
    pub fn dispatch(&self, interaction: Value) {
        let id: u64 = interaction["id"].as_str().unwrap().parse().unwrap();
        self.shared
            .dispatched
            .lock()
            .unwrap()
            .push((id, Instant::now()));
        let sender = self
            .shared
            .gateway
            .lock()
            .unwrap()
            .clone()
            .expect("the bot is connected");
        let s = self.shared.sequence.fetch_add(1, Ordering::SeqCst) + 1;
        sender
            .send(Command::Send(
                json!({ "op": 0, "t": "INTERACTION_CREATE", "s": s, "d": interaction }),
            ))
            .unwrap();
    }

    /// Makes the gateway connection open now misbehave; false if none is.
    pub fn misbehave(&self, fault: GatewayFault) -> bool {
        let sender = self.shared.gateway.lock().unwrap().clone();
        sender.is_some_and(|s| s.send(Command::Misbehave(fault)).is_ok())
    }

    /// Answers the next `count` handshakes (IDENTIFY or RESUME) with op 9 (d=false).
    pub fn invalidate_next_handshakes(&self, count: u64) {
        self.shared
            .invalid_handshakes
            .store(count, Ordering::SeqCst);
    }

    /// The heartbeat interval the HELLO of later connections announces.
    pub fn set_heartbeat_interval(&self, interval: Duration) {
        self.shared
            .heartbeat_ms
            .store(interval.as_millis() as u64, Ordering::SeqCst);
    }

    /// Heartbeats received so far.
    pub fn heartbeats(&self) -> u64 {
        self.shared.heartbeats.load(Ordering::SeqCst)
    }

    /// Waits until `count` connections have sent their handshake, and returns every
    /// handshake so far (fewer on timeout).
    pub async fn handshakes(&self, count: usize, timeout: Duration) -> Vec<Handshake> {
        let enough = || {
            let handshakes = self.shared.handshakes.lock().unwrap();
            (handshakes.len() >= count).then(|| handshakes.clone())
        };
        wait_until(&self.shared.identified, timeout, enough)
            .await
            .unwrap_or_else(|| self.shared.handshakes.lock().unwrap().clone())
    }

    /// Every REST request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// Waits for the first request matching `wanted`.
    pub async fn wait_for(
        &self,
        timeout: Duration,
        wanted: impl Fn(&Request) -> bool,
    ) -> Option<Request> {
        let find = || {
            self.shared
                .requests
                .lock()
                .unwrap()
                .iter()
                .find(|r| wanted(r))
                .cloned()
        };
        wait_until(&self.shared.recorded, timeout, find).await
    }

    /// Waits until at least `count` REST requests have been recorded; false on timeout.
    /// Cheaper than [`FakeDiscord::wait_for`] when only the number matters (benchmarks).
    pub async fn wait_for_requests(&self, count: usize, timeout: Duration) -> bool {
        let enough = || (self.shared.requests.lock().unwrap().len() >= count).then_some(());
        wait_until(&self.shared.recorded, timeout, enough)
            .await
            .is_some()
    }

    /// Waits for the interaction callback of interaction `id`.
    pub async fn callback(&self, id: u64) -> Value {
        let path = format!("/api/v10/interactions/{id}/");
        self.wait_for(Duration::from_secs(20), |r| r.path.starts_with(&path))
            .await
            .unwrap_or_else(|| panic!("no callback for interaction {id}"))
            .body
    }

    /// Seconds from each dispatch to its callback, for every interaction answered.
    pub fn latencies(&self) -> Vec<Duration> {
        let requests = self.requests();
        let dispatched = self.shared.dispatched.lock().unwrap().clone();
        dispatched
            .iter()
            .filter_map(|(id, sent)| {
                let path = format!("/api/v10/interactions/{id}/");
                requests
                    .iter()
                    .find(|r| r.path.starts_with(&path))
                    .map(|r| r.at.duration_since(*sent))
            })
            .collect()
    }

    /// Answers the next request of `route` (after any faults already queued for it) with
    /// `fault`.
    pub fn inject(&self, route: Route, fault: Fault) {
        self.shared.faults.lock().unwrap().push((route, fault));
    }

    /// How many requests a [`Fault::Slow`] holds right now.
    pub fn delayed(&self) -> u64 {
        self.shared.delayed.load(Ordering::SeqCst)
    }

    /// Waits until `count` gateway connections have ended, and returns how each did
    /// (see `Shared::close_codes`).
    pub async fn close_codes(&self, count: usize, timeout: Duration) -> Vec<u16> {
        let enough = || {
            let codes = self.shared.close_codes.lock().unwrap();
            (codes.len() >= count).then(|| codes.clone())
        };
        wait_until(&self.shared.closed, timeout, enough)
            .await
            .unwrap_or_else(|| self.shared.close_codes.lock().unwrap().clone())
    }

    /// The requests answered normally whose path starts with `prefix`.
    pub fn delivered(&self, prefix: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.fault.is_none() && r.path.starts_with(prefix))
            .collect()
    }

    pub fn identify_count(&self) -> u64 {
        self.shared.identify_count.load(Ordering::SeqCst)
    }
}

fn record(shared: &Shared, method: &Method, path: String, body: &[u8], fault: Option<Fault>) {
    let raw = String::from_utf8_lossy(body).into_owned();
    let body = serde_json::from_slice(body).unwrap_or(Value::Null);
    shared.requests.lock().unwrap().push(Request {
        method: method.to_string(),
        path,
        body,
        raw,
        at: Instant::now(),
        fault,
    });
    shared.recorded.notify_waiters();
}

/// Takes the next fault queued for `route`.
fn next_fault(shared: &Shared, route: Route) -> Option<Fault> {
    let mut faults = shared.faults.lock().unwrap();
    let at = faults.iter().position(|(r, _)| *r == route)?;
    Some(faults.remove(at).1)
}

/// Records the request and applies its fault: `Some` answer for a refusal, `None` to
/// answer normally (after any delay). A dropped connection is a panic of the connection's
/// task, which closes its socket; `resume_unwind` skips the panic message.
async fn misbehave(
    shared: &Shared,
    route: Route,
    method: &Method,
    path: String,
    body: &[u8],
) -> Option<axum::response::Response> {
    let fault = next_fault(shared, route);
    if let Some(Fault::Slow(delay)) = fault {
        // Recorded once the delay is over: a recorded request is one the bot's answer
        // is on its way to.
        shared.delayed.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(delay).await;
        shared.delayed.fetch_sub(1, Ordering::SeqCst);
        record(shared, method, path, body, None);
        return None;
    }
    record(shared, method, path, body, fault.clone());
    match fault? {
        Fault::Drop => std::panic::resume_unwind(Box::new("the fake drops the connection")),
        Fault::Status(status) => Some(
            (
                StatusCode::from_u16(status).unwrap(),
                Json(json!({ "message": "Internal Server Error", "code": 0 })),
            )
                .into_response(),
        ),
        Fault::RateLimited { retry_after } => Some(
            (
                StatusCode::TOO_MANY_REQUESTS,
                [
                    ("retry-after", format!("{}", retry_after.ceil() as u64)),
                    ("x-ratelimit-reset-after", format!("{retry_after:.3}")),
                    ("x-ratelimit-remaining", "0".to_string()),
                    ("x-ratelimit-limit", "5".to_string()),
                    ("x-ratelimit-bucket", "fake-bucket".to_string()),
                    ("x-ratelimit-scope", "user".to_string()),
                ],
                Json(json!({ "message": "You are being rate limited.", "retry_after": retry_after, "global": false })),
            )
                .into_response(),
        ),
        Fault::Answer(status, body) => {
            Some((StatusCode::from_u16(status).unwrap(), Json(body)).into_response())
        }
        Fault::Slow(_) => None,
    }
}

async fn callback(
    State(shared): State<Arc<Shared>>,
    Path((_id, _token)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    body: axum::body::Bytes,
) -> axum::response::Response {
    let path = uri.path().to_string();
    if let Some(refusal) = misbehave(&shared, Route::Callback, &method, path, &body).await {
        return refusal;
    }
    StatusCode::NO_CONTENT.into_response()
}

/// Command registration, webhook edits and follow-ups: recorded, answered with what
/// serenity expects back.
async fn record_other(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    body: axum::body::Bytes,
) -> axum::response::Response {
    let path = uri.path().to_string();
    if method == Method::PATCH && path.starts_with("/api/v10/webhooks/") {
        if let Some(refusal) = misbehave(&shared, Route::Edit, &method, path.clone(), &body).await {
            return refusal;
        }
    } else {
        record(&shared, &method, path.clone(), &body, None);
    }
    if path.ends_with("/commands") {
        return (StatusCode::OK, Json(json!([]))).into_response();
    }
    if path.starts_with("/api/v10/webhooks/") {
        let sent: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
        return (StatusCode::OK, Json(message_json(&sent))).into_response();
    }
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "message": "Unknown route", "code": 0 })),
    )
        .into_response()
}

fn snowflake(n: u64) -> String {
    n.to_string()
}

fn user_json(id: u64, name: &str) -> Value {
    json!({
        "id": snowflake(id), "username": name, "discriminator": "0", "global_name": null,
        "avatar": null, "bot": false
    })
}

/// A message object as Discord returns it, echoing what was sent.
pub fn message_json(sent: &Value) -> Value {
    json!({
        "id": snowflake(910_000_000_000_000_001), "channel_id": snowflake(CHANNEL_ID),
        "author": { "id": snowflake(APPLICATION_ID), "username": "spacecollab", "discriminator": "0",
                    "global_name": null, "avatar": null, "bot": true },
        "content": sent.get("content").cloned().unwrap_or(json!("")),
        "timestamp": "2026-11-27T12:00:00.000000+00:00", "edited_timestamp": null,
        "tts": false, "mention_everyone": false, "mentions": [], "mention_roles": [],
        "attachments": [], "embeds": sent.get("embeds").cloned().unwrap_or(json!([])),
        "pinned": false, "type": 0, "flags": 0,
        "components": []
    })
}

/// Checks `ready` each time `changed` is notified, until it gives something or `timeout`
/// passes (then it is checked a last time).
async fn wait_until<T>(
    changed: &Notify,
    timeout: Duration,
    ready: impl Fn() -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        // Registered before the check, so that a change between the two is not missed.
        let notified = changed.notified();
        if let Some(found) = ready() {
            return Some(found);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || tokio::time::timeout(left, notified).await.is_err() {
            return ready();
        }
    }
}

async fn serve_gateway(
    listener: TcpListener,
    shared: Arc<Shared>,
    url: String,
    resume_url: String,
) {
    while let Ok((stream, _)) = listener.accept().await {
        let shared = Arc::clone(&shared);
        let url = url.clone();
        let resume_url = resume_url.clone();
        tokio::spawn(async move {
            let Ok(socket) = tokio_tungstenite::accept_async(stream).await else {
                return;
            };
            let close_code = serve_connection(socket, &shared, &url, &resume_url).await;
            shared.close_codes.lock().unwrap().push(close_code);
            shared.closed.notify_waiters();
        });
    }
}

/// Serves one gateway connection; returns how it ended (see `Shared::close_codes`).
async fn serve_connection(
    socket: tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    shared: &Shared,
    url: &str,
    resume_url: &str,
) -> u16 {
    let (mut sink, mut incoming) = socket.split();
    let interval = match shared.heartbeat_ms.load(Ordering::SeqCst) {
        0 => 41_250,
        ms => ms,
    };
    let send = |value: Value| WsMessage::Text(value.to_string().into());
    if sink
        .send(send(
            json!({ "op": 10, "d": { "heartbeat_interval": interval } }),
        ))
        .await
        .is_err()
    {
        return 1006;
    }
    let (events_tx, mut events) = mpsc::unbounded_channel::<Command>();
    let mut close_code = None;
    let mut acking = true;
    let mut shook_hands = false;
    loop {
        tokio::select! {
            frame = incoming.next() => {
                let Some(Ok(frame)) = frame else { break };
                if let WsMessage::Close(frame) = &frame {
                    close_code = Some(frame.as_ref().map_or(1005, |f| u16::from(f.code)));
                    // Reading on sends tungstenite's reply, then ends the stream.
                    continue;
                }
                let WsMessage::Text(text) = frame else { continue };
                let Ok(payload) = serde_json::from_str::<Value>(&text) else { continue };
                let op = payload["op"].as_u64();
                match op {
                    Some(1) => {
                        shared.heartbeats.fetch_add(1, Ordering::SeqCst);
                        if acking && sink.send(send(json!({ "op": 11 }))).await.is_err() { break }
                    }
                    Some(op @ (2 | 6)) if !shook_hands => {
                        shook_hands = true;
                        if op == 2 {
                            shared.identify_count.fetch_add(1, Ordering::SeqCst);
                        }
                        let invalidated = shared
                            .invalid_handshakes
                            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                            .is_ok();
                        let answer = if invalidated {
                            json!({ "op": 9, "d": false })
                        } else {
                            let s = shared.sequence.fetch_add(1, Ordering::SeqCst) + 1;
                            if op == 2 {
                                json!({ "op": 0, "t": "READY", "s": s, "d": ready_json(resume_url) })
                            } else {
                                json!({ "op": 0, "t": "RESUMED", "s": s, "d": {} })
                            }
                        };
                        if sink.send(send(answer)).await.is_err() { break }
                        if !invalidated {
                            *shared.gateway.lock().unwrap() = Some(events_tx.clone());
                        }
                        shared.handshakes.lock().unwrap().push(Handshake {
                            op,
                            at: Instant::now(),
                            seq: payload["d"]["seq"].as_u64(),
                            invalidated,
                            shard: payload["d"]["shard"][0]
                                .as_u64()
                                .zip(payload["d"]["shard"][1].as_u64()),
                            url: url.to_string(),
                        });
                        shared.identified.notify_waiters();
                    }
                    _ => {}
                }
            }
            command = events.recv() => {
                let Some(command) = command else { break };
                let payload = match command {
                    Command::Send(event) => event,
                    Command::Misbehave(GatewayFault::Reconnect) => json!({ "op": 7, "d": null }),
                    Command::Misbehave(GatewayFault::InvalidSession) => json!({ "op": 9, "d": false }),
                    Command::Misbehave(GatewayFault::StopAcks) => {
                        acking = false;
                        continue;
                    }
                    Command::Misbehave(GatewayFault::Close(code)) => {
                        let frame = CloseFrame { code: code.into(), reason: "fake close".into() };
                        let _ = sink.send(WsMessage::Close(Some(frame))).await;
                        close_code = Some(code);
                        // Waits (briefly) for the bot's answering close frame, then ends.
                        let _ = tokio::time::timeout(Duration::from_secs(2), async {
                            while let Some(Ok(_)) = incoming.next().await {}
                        })
                        .await;
                        break;
                    }
                    Command::Misbehave(GatewayFault::Drop) => {
                        // Dropping both halves closes the TCP connection without a frame.
                        close_code = Some(1006);
                        break;
                    }
                };
                if sink.send(send(payload)).await.is_err() { break }
            }
        }
    }
    // A test's next dispatch goes to the bot's next connection, not to this one.
    let mut gateway = shared.gateway.lock().unwrap();
    if gateway.as_ref().is_some_and(|g| g.same_channel(&events_tx)) {
        *gateway = None;
    }
    close_code.unwrap_or(1006)
}

fn ready_json(resume_url: &str) -> Value {
    json!({
        "v": 10,
        "user": { "id": snowflake(APPLICATION_ID), "username": "spacecollab", "discriminator": "0",
                  "global_name": null, "avatar": null, "bot": true, "verified": true, "mfa_enabled": false },
        "guilds": [ { "id": snowflake(GUILD_ID), "unavailable": true } ],
        "session_id": "fake-session",
        "resume_gateway_url": resume_url,
        "application": { "id": snowflake(APPLICATION_ID), "flags": 0 }
    })
}

/// Who sends an interaction: a guild member with permissions and roles, a member
/// without permissions data, or a user in a DM.
#[derive(Debug, Clone)]
pub enum Sender {
    Member {
        user_id: u64,
        permissions: Option<u64>,
        roles: Vec<u64>,
    },
    Direct {
        user_id: u64,
    },
    /// In a guild, but with no `member` object (Discord should never send this).
    GuildWithoutMember {
        user_id: u64,
    },
}

impl Sender {
    pub fn member(user_id: u64) -> Sender {
        Sender::Member {
            user_id,
            permissions: Some(0),
            roles: Vec::new(),
        }
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(920_000_000_000_000_000);

/// A fresh, non-zero snowflake for an interaction.
pub fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::SeqCst)
}

fn base_interaction(id: u64, kind: u8, sender: &Sender) -> Value {
    let mut value = json!({
        "id": snowflake(id), "application_id": snowflake(APPLICATION_ID), "type": kind,
        "token": format!("interaction-token-{id}"), "version": 1,
        "channel_id": snowflake(CHANNEL_ID), "locale": "en-US", "entitlements": [],
        "attachment_size_limit": 26_214_400, "app_permissions": "0"
    });
    match sender {
        Sender::Member {
            user_id,
            permissions,
            roles,
        } => {
            value["guild_id"] = json!(snowflake(GUILD_ID));
            let mut member = json!({
                "user": user_json(*user_id, &format!("user{user_id}")),
                "roles": roles.iter().map(|r| snowflake(*r)).collect::<Vec<_>>(),
                "deaf": false, "mute": false, "flags": 0, "joined_at": "2025-01-01T00:00:00.000000+00:00"
            });
            if let Some(permissions) = permissions {
                member["permissions"] = json!(permissions.to_string());
            }
            value["member"] = member;
        }
        Sender::Direct { user_id } => {
            value["user"] = user_json(*user_id, &format!("user{user_id}"));
        }
        Sender::GuildWithoutMember { user_id } => {
            value["guild_id"] = json!(snowflake(GUILD_ID));
            value["user"] = user_json(*user_id, &format!("user{user_id}"));
        }
    }
    value
}

/// An APPLICATION_COMMAND interaction; `options` is Discord's option array.
pub fn command(id: u64, name: &str, options: Value, sender: &Sender) -> Value {
    let mut value = base_interaction(id, 2, sender);
    value["data"] = json!({ "id": snowflake(930_000_000_000_000_001), "name": name, "type": 1, "options": options });
    value
}

/// An APPLICATION_COMMAND_AUTOCOMPLETE interaction with `typed` in the focused option.
pub fn autocomplete(id: u64, name: &str, option: &str, typed: &str, sender: &Sender) -> Value {
    let mut value = base_interaction(id, 4, sender);
    value["data"] = json!({
        "id": snowflake(930_000_000_000_000_001), "name": name, "type": 1,
        "options": [ { "name": option, "type": 3, "value": typed, "focused": true } ]
    });
    value
}

/// A MESSAGE_COMPONENT interaction: a press of the button `custom_id`.
pub fn button(id: u64, custom_id: &str, sender: &Sender) -> Value {
    let mut value = base_interaction(id, 3, sender);
    value["data"] = json!({ "custom_id": custom_id, "component_type": 2 });
    value["message"] = message_json(&json!({}));
    value
}

/// A string option.
pub fn string_option(name: &str, value: &str) -> Value {
    json!({ "name": name, "type": 3, "value": value })
}

/// A boolean option.
pub fn bool_option(name: &str, value: bool) -> Value {
    json!({ "name": name, "type": 5, "value": value })
}

/// A MODAL_SUBMIT interaction: the form `custom_id` sent from a message's button, with
/// each text box's `(custom_id, value)` in an action row, as Discord sends legacy forms.
pub fn modal_submit(id: u64, custom_id: &str, fields: &[(&str, &str)], sender: &Sender) -> Value {
    let mut value = base_interaction(id, 5, sender);
    let rows: Vec<Value> = fields
        .iter()
        .map(|(input, text)| {
            json!({ "type": 1, "components": [ { "type": 4, "custom_id": input, "value": text } ] })
        })
        .collect();
    value["data"] = json!({ "custom_id": custom_id, "components": rows });
    value["message"] = message_json(&json!({}));
    value
}
