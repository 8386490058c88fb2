//! Records what the bot sends to the fake Discord for every question of
//! `tests/questions.jsonl` (and every other command and button), so that two versions
//! of the bot can be compared byte for byte: `scripts/diff-discord-payloads.sh`.
//! Ignored by default: it writes a file and takes a minute. Run it with
//! `SPACECOLLAB_PAYLOADS=out.jsonl cargo test --test it payloads -- --ignored`.
//!
//! Only public items of the library and the fake Discord are used, so that the same
//! file also compiles against an older version of the bot.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use regex::Regex;
use serde_json::{json, Value};
use spacecollab::answer::Engine;
use spacecollab::config::Config;
use spacecollab::discord::{serve, Token};
use spacecollab::reindex;

use crate::support::fake_discord::{
    autocomplete, bool_option, button, command, next_id, string_option, FakeDiscord, Request,
    Sender, APPLICATION_ID,
};

const ASKER: u64 = 940_000_000_000_000_001;
const STRANGER: u64 = 940_000_000_000_000_002;
const ADMIN: u64 = 940_000_000_000_000_003;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn questions() -> Vec<String> {
    std::fs::read_to_string(root().join("tests/questions.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["question"].as_str().unwrap().to_string()
        })
        .collect()
}

struct Recorder {
    fake: FakeDiscord,
    seen: usize,
    out: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    _dir: tempfile::TempDir,
}

/// Replaces what differs from run to run: session numbers in button ids, interaction
/// ids and tokens in paths, and the seconds a reindex took.
fn normalise(text: &str) -> String {
    let sessions = Regex::new(r"(more|page):\d+").unwrap();
    let tokens = Regex::new(r"interaction-token-\d+").unwrap();
    let ids = Regex::new(r"/interactions/\d+/").unwrap();
    let seconds = Regex::new(r"(Reindex done in )[0-9.]+ s").unwrap();
    let text = sessions.replace_all(text, "$1:SESSION");
    let text = tokens.replace_all(&text, "TOKEN");
    let text = ids.replace_all(&text, "/interactions/ID/");
    seconds.replace_all(&text, "${1}N s").into_owned()
}

impl Recorder {
    async fn start(corpus: &Path, defer_after_ms: u64) -> Recorder {
        let fake = FakeDiscord::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            corpus_path: corpus.to_path_buf(),
            index_path: dir.path().join("index"),
            index_threads: 1,
            ..Config::default()
        };
        config.discord.api_base_url = Some(fake.api_base.clone());
        config.discord.defer_after_ms = defer_after_ms;
        config.admin.user_ids = vec![ADMIN];
        // Every question comes from one user: no cooldown. (Remove this line to record
        // a version from before `[limits]`.)
        config.limits.per_user = 0;
        reindex::rebuild(&config.corpus_path, &config.index_path, 1, |_| {}).unwrap();
        let engine = Arc::new(Engine::open(&config.index_path, config.answer).unwrap());
        let token = Token::parse("MTAxMDEwMTAxMDEw.GxYzAb.fake-token_for-tests").unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(config, engine, token, async {
            let _ = stopped.await;
        }));
        assert!(fake.wait_ready(Duration::from_secs(20)).await);
        // Let command registration land, so it is recorded first.
        fake.wait_for(Duration::from_secs(10), |r| r.path.ends_with("/commands"))
            .await
            .expect("commands registered");
        let mut recorder = Recorder {
            fake,
            seen: 0,
            out: String::new(),
            stop,
            task,
            _dir: dir,
        };
        recorder.flush("start");
        recorder
    }

    /// Writes every request since the last flush under `label`.
    fn flush(&mut self, label: &str) {
        let requests: Vec<Request> = self.fake.requests();
        for request in &requests[self.seen..] {
            let line = json!({
                "label": normalise(label),
                "method": request.method,
                "path": normalise(&request.path),
                "body": normalise(&request.raw),
            });
            writeln!(self.out, "{line}").unwrap();
        }
        self.seen = requests.len();
    }

    /// Sends an interaction, waits for its callback and for `then` more requests, and
    /// records them. Returns the callback's body.
    async fn interact(&mut self, label: &str, interaction: Value, then: usize) -> Value {
        let id: u64 = interaction["id"].as_str().unwrap().parse().unwrap();
        let before = self.fake.requests().len();
        self.fake.dispatch(interaction);
        let body = self.fake.callback(id).await;
        assert!(
            self.fake
                .wait_for_requests(before + 1 + then, Duration::from_secs(30))
                .await,
            "{label}: fewer requests than expected"
        );
        self.flush(label);
        body
    }

    async fn finish(self) -> String {
        let _ = self.stop.send(());
        let _ = tokio::time::timeout(Duration::from_secs(10), self.task).await;
        self.out
    }
}

fn ask(question: &str, options: &[Value], user: u64) -> Value {
    let mut all = vec![string_option("question", question)];
    all.extend_from_slice(options);
    command(next_id(), "ask", json!(all), &Sender::member(user))
}

fn custom_ids(body: &Value) -> Vec<String> {
    body["data"]["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .filter_map(|c| c["custom_id"].as_str().map(str::to_string))
        .collect()
}

async fn record_everything() -> String {
    let corpus = root().join("corpus");
    let mut out = String::new();

    let mut bot = Recorder::start(&corpus, 1_500).await;
    for (n, question) in questions().iter().enumerate() {
        let body = bot
            .interact(&format!("ask {n}"), ask(question, &[], ASKER), 0)
            .await;
        for id in custom_ids(&body) {
            bot.interact(
                &format!("ask {n} more, stranger"),
                button(next_id(), &id, &Sender::member(STRANGER)),
                0,
            )
            .await;
            bot.interact(
                &format!("ask {n} more, asker"),
                button(next_id(), &id, &Sender::member(ASKER)),
                0,
            )
            .await;
        }
        let private = [bool_option("private", true)];
        bot.interact(
            &format!("ask {n} private"),
            ask(question, &private, ASKER),
            0,
        )
        .await;
        let search = command(
            next_id(),
            "search",
            json!([string_option("query", question)]),
            &Sender::member(ASKER),
        );
        let body = bot.interact(&format!("search {n}"), search, 0).await;
        for id in custom_ids(&body) {
            bot.interact(
                &format!("search {n} {id} asker"),
                button(next_id(), &id, &Sender::member(ASKER)),
                0,
            )
            .await;
            bot.interact(
                &format!("search {n} {id} stranger"),
                button(next_id(), &id, &Sender::member(STRANGER)),
                0,
            )
            .await;
        }
        let public = command(
            next_id(),
            "search",
            json!([
                string_option("query", question),
                bool_option("private", false)
            ]),
            &Sender::member(ASKER),
        );
        bot.interact(&format!("search {n} public"), public, 0).await;
    }
    // Every document through autocomplete and /source.
    let all = bot
        .interact(
            "autocomplete empty",
            autocomplete(next_id(), "source", "document", "", &Sender::member(ASKER)),
            0,
        )
        .await;
    let mut typed: Vec<String> = vec!["kibo".into(), "ISS".into(), "zzz".into(), "  moon ".into()];
    for choice in all["data"]["choices"].as_array().unwrap() {
        typed.push(choice["value"].as_str().unwrap().to_string());
    }
    for text in &typed {
        bot.interact(
            &format!("autocomplete {text}"),
            autocomplete(
                next_id(),
                "source",
                "document",
                text,
                &Sender::member(ASKER),
            ),
            0,
        )
        .await;
    }
    let mut documents: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(&corpus).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "md") {
            documents.push(path.file_stem().unwrap().to_string_lossy().into_owned());
        }
    }
    documents.sort();
    documents.extend([
        "KIBO: JAPAN'S LABORATORY".to_string(),
        "@everyone **nothing**".to_string(),
        String::new(),
    ]);
    for document in &documents {
        let source = command(
            next_id(),
            "source",
            json!([string_option("document", document)]),
            &Sender::member(ASKER),
        );
        bot.interact(&format!("source {document}"), source, 0).await;
    }
    bot.interact(
        "help",
        command(next_id(), "help", json!([]), &Sender::member(ASKER)),
        0,
    )
    .await;
    bot.interact(
        "unknown",
        command(next_id(), "launch", json!([]), &Sender::member(ASKER)),
        0,
    )
    .await;
    bot.interact(
        "ask without question",
        command(next_id(), "ask", json!([]), &Sender::member(ASKER)),
        0,
    )
    .await;
    bot.interact("ask blank", ask("   ", &[], ASKER), 0).await;
    bot.interact(
        "search without query",
        command(next_id(), "search", json!([]), &Sender::member(ASKER)),
        0,
    )
    .await;
    bot.interact(
        "source without document",
        command(next_id(), "source", json!([]), &Sender::member(ASKER)),
        0,
    )
    .await;
    for id in ["page:1:1", "more:1", "zzz", "page:x:1", ""] {
        bot.interact(
            &format!("button {id}"),
            button(next_id(), id, &Sender::member(ASKER)),
            0,
        )
        .await;
    }
    bot.interact(
        "reindex refused",
        command(next_id(), "reindex", json!([]), &Sender::member(ASKER)),
        0,
    )
    .await;
    out.push_str(&bot.finish().await);

    // Deferred answers: a zero threshold defers every one, then edits it in.
    let mut bot = Recorder::start(&corpus, 0).await;
    for (n, question) in questions().iter().enumerate() {
        bot.interact(&format!("deferred ask {n}"), ask(question, &[], ASKER), 1)
            .await;
    }
    out.push_str(&bot.finish().await);

    // A reindex: its summary (progress edits depend on timing and are left out).
    let copy = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&corpus).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, copy.path().join(path.file_name().unwrap())).unwrap();
    }
    let bot = Recorder::start(copy.path(), 1_500).await;
    std::fs::remove_file(copy.path().join("soho.md")).unwrap();
    let interaction = command(next_id(), "reindex", json!([]), &Sender::member(ADMIN));
    let token = interaction["token"].as_str().unwrap().to_string();
    let id: u64 = interaction["id"].as_str().unwrap().parse().unwrap();
    bot.fake.dispatch(interaction);
    bot.fake.callback(id).await;
    let path = format!("/api/v10/webhooks/{APPLICATION_ID}/{token}/messages/@original");
    let done = bot
        .fake
        .wait_for(Duration::from_secs(60), |r| {
            r.path == path
                && r.body["content"]
                    .as_str()
                    .is_some_and(|c| c.starts_with("Reindex done"))
        })
        .await
        .expect("a summary");
    let callback = bot
        .fake
        .requests()
        .into_iter()
        .find(|r| r.path.contains(&format!("/interactions/{id}/")))
        .unwrap();
    for (label, request) in [("reindex callback", callback), ("reindex summary", done)] {
        let line = json!({"label": label, "method": request.method, "path": normalise(&request.path), "body": normalise(&request.raw)});
        writeln!(out, "{line}").unwrap();
    }
    let _ = bot.finish().await;
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes the payloads to $SPACECOLLAB_PAYLOADS for scripts/diff-discord-payloads.sh"]
async fn record_payloads_for_the_bundled_questions() {
    let out: PathBuf = std::env::var_os("SPACECOLLAB_PAYLOADS")
        .expect("set SPACECOLLAB_PAYLOADS to the file to write")
        .into();
    let recorded = record_everything().await;
    assert!(
        recorded.lines().count() > 500,
        "{}",
        recorded.lines().count()
    );
    std::fs::write(out, recorded).unwrap();
}
