//! A bot started through `spacecollab::discord::serve` against a fresh fake Discord,
//! on an index built into its own temp dir: how the Discord tests and the Discord bench
//! start one.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use spacecollab::answer::Engine;
use spacecollab::config::Config;
use spacecollab::discord::{serve, serve_http, Token};
use spacecollab::reindex::{self, Report};
use tempfile::TempDir;
use tokio::sync::oneshot;

use super::fake_discord::{command, next_id, FakeDiscord, Sender};
use super::interactions::{public_key_hex, Interactions};

/// How long the bot may take to connect to the fake gateway.
pub const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// The member who sends [`RunningBot::command`]s.
pub const ASKER: u64 = 940_000_000_000_000_001;

/// A bot connected to a fake Discord. Stop it with [`RunningBot::stop`]; dropped, it
/// stops with the test's runtime.
pub struct RunningBot {
    pub fake: FakeDiscord,
    /// The engine the bot answers with.
    pub engine: Arc<Engine>,
    /// How the index was built.
    pub report: Report,
    /// Where the index is (the insights database is beside it).
    pub index_path: std::path::PathBuf,
    /// Set when the bot takes interactions over HTTP: they are posted to it, signed,
    /// and its first response is the HTTP answer (not a callback to the fake).
    pub http: Option<Interactions>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    _index: TempDir,
}

/// How the bot under test takes interactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Gateway,
    Http,
}

/// Builds an index of `corpus` (one thread), starts the bot on it with the default
/// config as changed by `adjust`, and waits until it is connected.
pub async fn start(corpus: &Path, adjust: impl FnOnce(&mut Config)) -> RunningBot {
    start_on(FakeDiscord::start().await, corpus, adjust).await
}

/// [`start`], taking interactions over `transport`.
pub async fn start_with(
    transport: Transport,
    corpus: &Path,
    adjust: impl FnOnce(&mut Config),
) -> RunningBot {
    start_over(transport, FakeDiscord::start().await, corpus, adjust).await
}

/// [`start`] against a fake Discord the test has already set up.
pub async fn start_on(
    fake: FakeDiscord,
    corpus: &Path,
    adjust: impl FnOnce(&mut Config),
) -> RunningBot {
    start_over(Transport::Gateway, fake, corpus, adjust).await
}

async fn start_over(
    transport: Transport,
    fake: FakeDiscord,
    corpus: &Path,
    adjust: impl FnOnce(&mut Config),
) -> RunningBot {
    let index = tempfile::tempdir().expect("create temp dir");
    let mut config = Config {
        corpus_path: corpus.to_path_buf(),
        index_path: index.path().join("index"),
        index_threads: 1,
        ..Config::default()
    };
    config.discord.api_base_url = Some(fake.api_base.clone());
    // Tests and benches ask many questions as one user; the cooldown's own test turns
    // it back on.
    config.limits.per_user = 0;
    adjust(&mut config);
    let index_path = config.index_path.clone();
    let report = reindex::rebuild(&config.corpus_path, &config.index_path, 1, |_| {})
        .expect("the corpus indexes");
    let engine = Arc::new(Engine::open(&config.index_path, config.answer).expect("open the index"));
    let (stop, stopped) = oneshot::channel::<()>();
    let token = Token::parse("MTAxMDEwMTAxMDEw.GxYzAb.fake-token_for-tests").expect("a token");
    let stopped = async {
        let _ = stopped.await;
    };
    let (task, http) = match transport {
        Transport::Gateway => {
            let task = tokio::spawn(serve(config, Arc::clone(&engine), token, stopped));
            assert!(
                fake.wait_ready(READY_TIMEOUT).await,
                "the bot never identified on the fake gateway"
            );
            (task, None)
        }
        Transport::Http => {
            config.discord.public_key = Some(public_key_hex());
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind a port");
            let url = format!(
                "http://{}{}",
                listener.local_addr().expect("an address"),
                spacecollab::discord::http::INTERACTIONS_PATH
            );
            let task = tokio::spawn(serve_http(
                config,
                Arc::clone(&engine),
                token,
                listener,
                true,
                stopped,
            ));
            (task, Some(Interactions::new(url)))
        }
    };
    RunningBot {
        http,
        fake,
        engine,
        report,
        index_path,
        stop: Some(stop),
        task,
        _index: index,
    }
}

impl RunningBot {
    /// The bot's insights database (next to its index folder).
    pub fn insights_path(&self) -> std::path::PathBuf {
        spacecollab::insights::database_path(&self.index_path)
    }

    /// Stops the bot and returns how `serve` ended.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(10), &mut self.task)
            .await
            .expect("the bot stops when asked")
            .expect("the bot task does not panic")
    }

    /// Sends the slash command `name` with `options` from an ordinary member, and
    /// returns the body of its callback.
    pub async fn command(&self, name: &str, options: Value) -> Value {
        self.interact(command(next_id(), name, options, &Sender::member(ASKER)))
            .await
    }

    /// Sends an interaction and returns the body of its callback (over HTTP: of the
    /// answer), checked by [`assert_safe`].
    pub async fn interact(&self, interaction: Value) -> Value {
        if let Some(http) = &self.http {
            let answer = http.post(&interaction).await;
            assert_eq!(answer.status, 200, "the endpoint refused {interaction}");
            assert_safe(&answer.body);
            return answer.body;
        }
        let id: u64 = interaction["id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .expect("an interaction id");
        self.fake.dispatch(interaction);
        let body = self.fake.callback(id).await;
        assert_safe(&body);
        body
    }
}

/// Checks what every message must satisfy: no mentions allowed, Discord's limits.
pub fn assert_safe(body: &Value) {
    let message = match body.get("type").and_then(Value::as_u64) {
        Some(4 | 5 | 7) => &body["data"],
        Some(_) => return,
        None => body,
    };
    let allowed = &message["allowed_mentions"];
    assert!(
        allowed.is_object(),
        "allowed_mentions must be set: {message}"
    );
    for key in ["parse", "users", "roles"] {
        assert!(
            allowed
                .get(key)
                .is_none_or(|v| v.as_array().is_some_and(Vec::is_empty)),
            "allowed_mentions must allow nothing: {allowed}"
        );
    }
    assert_ne!(allowed["replied_user"], true);
    let chars = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
    assert!(chars(&message["content"]) <= 2_000);
    let mut total = 0;
    for embed in message["embeds"].as_array().into_iter().flatten() {
        assert!(chars(&embed["title"]) <= 256);
        assert!(chars(&embed["description"]) <= 4_096);
        assert!(chars(&embed["footer"]["text"]) <= 2_048);
        let fields = embed["fields"].as_array().cloned().unwrap_or_default();
        assert!(fields.len() <= 25);
        for field in &fields {
            assert!(chars(&field["name"]) <= 256);
            assert!(chars(&field["value"]) <= 1_024);
            total += chars(&field["name"]) + chars(&field["value"]);
        }
        total +=
            chars(&embed["title"]) + chars(&embed["description"]) + chars(&embed["footer"]["text"]);
    }
    assert!(total <= 6_000, "{total} characters of embeds");
    for row in message["components"].as_array().into_iter().flatten() {
        for component in row["components"].as_array().into_iter().flatten() {
            assert!(chars(&component["custom_id"]) <= 100);
        }
    }
}
