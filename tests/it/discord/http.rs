//! The HTTP interactions mode: Discord's signed POSTs answered in the HTTP response,
//! deferred answers edited in over REST, and every malformed or forged request refused
//! before it reaches the engine.

use std::time::Duration;

use ed25519_dalek::SigningKey;
use reqwest::Method;
use serde_json::json;

use super::{ask, is_ephemeral};
use crate::support::bot::{start_with, RunningBot, Transport, ASKER};
use crate::support::bundled_corpus;
use crate::support::fake_discord::{Sender, APPLICATION_ID};
use crate::support::interactions::now;
use spacecollab::insights::Store;

async fn http_bot(adjust: impl FnOnce(&mut spacecollab::config::Config)) -> RunningBot {
    start_with(Transport::Http, &bundled_corpus(), adjust).await
}

/// The questions the bot's database holds for the last day, once `count` are there
/// (or 10 seconds have passed).
async fn questions_recorded(bot: &RunningBot, count: u64) -> u64 {
    let store = Store::open(&bot.insights_path()).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let report = store.report(1, &[]).await.unwrap();
        if report.questions >= count || std::time::Instant::now() > deadline {
            return report.questions;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_get_a_pong_and_questions_an_answer_in_the_response() {
    let bot = http_bot(|_| {}).await;
    let http = bot.http.clone().unwrap();
    let pong = http
        .post(&json!({ "type": 1, "id": "1", "application_id": APPLICATION_ID.to_string(), "token": "t" }))
        .await;
    assert_eq!(
        (pong.status, pong.body.clone()),
        (200, json!({ "type": 1 }))
    );

    let body = bot
        .interact(ask("Who built Kibo?", Some(true), &Sender::member(ASKER)))
        .await;
    assert_eq!(body["type"], 4, "{body}");
    assert!(is_ephemeral(&body["data"]));
    let text = body["data"].to_string();
    assert!(text.contains("Kibo"), "{text}");
    // Nothing went to the callback route: the answer was the HTTP response.
    assert!(bot
        .fake
        .requests()
        .iter()
        .all(|r| !r.path.contains("/callback")));
    // The commands were registered at start-up, for the application Discord named.
    let put = bot
        .fake
        .wait_for(Duration::from_secs(10), |r| {
            r.method == "PUT"
                && r.path == format!("/api/v10/applications/{APPLICATION_ID}/commands")
        })
        .await
        .expect("the commands are registered");
    assert!(
        put.body.as_array().is_some_and(|c| c.len() >= 5),
        "{}",
        put.body
    );
    bot.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_answers_are_deferred_then_edited_in_over_rest() {
    // A zero threshold always defers.
    let bot = http_bot(|config| config.discord.defer_after_ms = 0).await;
    let interaction = ask("Who built Kibo?", None, &Sender::member(ASKER));
    let id = interaction["id"].as_str().unwrap().to_string();
    let body = bot.interact(interaction).await;
    assert_eq!(body["type"], 5, "{body}");
    let edit = bot
        .fake
        .wait_for(Duration::from_secs(10), |r| {
            r.method == "PATCH"
                && r.path
                    == format!("/api/v10/webhooks/{APPLICATION_ID}/interaction-token-{id}/messages/@original")
        })
        .await
        .expect("the deferred answer is edited in");
    assert!(edit.body.to_string().contains("Kibo"), "{}", edit.body);
    crate::support::bot::assert_safe(&edit.body);
    bot.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_replayed_oversized_and_malformed_requests_never_reach_the_engine() {
    let bot = http_bot(|_| {}).await;
    let http = bot.http.clone().unwrap();
    let question = ask("Who built Kibo?", None, &Sender::member(ASKER));
    let body = serde_json::to_vec(&question).unwrap();
    let json = "application/json";

    let forger = SigningKey::from_bytes(&[0x11; 32]);
    let forged = http.post_raw(body.clone(), now(), &forger, json).await;
    assert_eq!(forged.status, 401, "another key's signature");
    assert_eq!(
        forged.body,
        serde_json::Value::Null,
        "no detail in a refusal"
    );

    let replayed = http
        .post_raw(body.clone(), now() - 6 * 60, http.key(), json)
        .await;
    assert_eq!(replayed.status, 401, "a six-minute-old timestamp");

    let unsigned = http.unsigned(Method::POST, body.clone()).await;
    assert_eq!(unsigned.status, 401, "no signature at all");

    assert_eq!(http.post_oversized(1024 * 1024).await, 413, "a 1 MB body");

    let got = http.unsigned(Method::GET, Vec::new()).await;
    assert_eq!(got.status, 405, "a GET");

    let text = http
        .post_raw(body.clone(), now(), http.key(), "text/plain")
        .await;
    assert_eq!(text.status, 415, "not JSON");

    let malformed = http
        .post_raw(b"{\"type\": 2, \"id\":".to_vec(), now(), http.key(), json)
        .await;
    assert_eq!(malformed.status, 400, "signed, but not JSON");
    let strange = http
        .post_raw(
            br#"{"type": 2, "id": "1", "application_id": "2", "token": "t"}"#.to_vec(),
            now(),
            http.key(),
            json,
        )
        .await;
    assert_eq!(strange.status, 400, "signed JSON that names no sender");

    // One good request last: once it is recorded, any refused one that had reached
    // the engine would have been recorded before it.
    let good = http.post(&question).await;
    assert_eq!(good.status, 200);
    assert_eq!(questions_recorded(&bot, 1).await, 1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        questions_recorded(&bot, 2).await,
        1,
        "only the signed request was answered"
    );
    bot.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_readiness_are_served_for_the_balancer() {
    let bot = http_bot(|_| {}).await;
    let base = bot
        .http
        .as_ref()
        .unwrap()
        .url
        .trim_end_matches(spacecollab::discord::http::INTERACTIONS_PATH)
        .to_string();
    for path in ["/healthz", "/readyz"] {
        let response = reqwest::get(format!("{base}{path}")).await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{path}");
    }
    bot.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_registers_once_and_serve_http_needs_the_public_key() {
    let fake = crate::support::fake_discord::FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[discord]\napi_base_url = \"{}\"\nguild_ids = [5]\n",
            fake.api_base
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let config = config.clone();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_spacecollab"))
                .arg("--config")
                .arg(&config)
                .args(&args)
                .env(
                    "DISCORD_TOKEN",
                    "MTAxMDEwMTAxMDEw.GxYzAb.fake-token_for-tests",
                )
                .output()
                .expect("run spacecollab")
        })
    };
    let registered = run(&["register"]).await.unwrap();
    assert!(registered.status.success(), "{registered:?}");
    assert_eq!(
        String::from_utf8_lossy(&registered.stdout).trim(),
        "Registered the commands."
    );
    let put = fake
        .wait_for(Duration::from_secs(5), |r| {
            r.method == "PUT"
                && r.path == format!("/api/v10/applications/{APPLICATION_ID}/guilds/5/commands")
        })
        .await;
    assert!(put.is_some(), "{:?}", fake.requests());

    let refused = run(&["serve", "--http", "127.0.0.1:0"]).await.unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("[discord] public_key"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_waits_for_the_edits_of_deferred_answers() {
    use crate::support::fake_discord::{Fault, Route};
    const ASKS: usize = 10;
    let bot = http_bot(|config| config.discord.defer_after_ms = 0).await;
    for _ in 0..ASKS {
        bot.fake
            .inject(Route::Edit, Fault::Slow(Duration::from_millis(300)));
    }
    let http = bot.http.clone().unwrap();
    let asks: Vec<_> = (0..ASKS)
        .map(|_| ask("Who built Kibo?", None, &Sender::member(ASKER)))
        .collect();
    let answers = futures_util::future::join_all(asks.iter().map(|a| http.post(a))).await;
    assert!(answers.iter().all(|a| a.body["type"] == 5), "{answers:?}");
    // Every HTTP answer is out; the edits are still on their way.
    let fake = bot.fake.clone();
    bot.stop().await.unwrap();
    let edits = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH" && r.body.to_string().contains("Kibo"))
        .count();
    assert_eq!(
        edits, ASKS,
        "every deferred answer was edited in before exit"
    );
}

/// Makes the same interaction afresh (with a new id) for each bot.
type Recipe = Box<dyn Fn() -> serde_json::Value>;

/// Ids that differ between two bots answering the same thing: interaction, answer and
/// session numbers, inside custom ids and elsewhere.
fn without_ids(value: &serde_json::Value) -> String {
    let ids = regex::Regex::new(r"\d{4,}").unwrap();
    ids.replace_all(&value.to_string(), "N").into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_transports_answer_every_kind_of_interaction_alike() {
    use crate::support::fake_discord::{
        autocomplete, bool_option, button, command, modal_submit, next_id, string_option,
    };
    let gateway = start_with(Transport::Gateway, &bundled_corpus(), |_| {}).await;
    let http = http_bot(|_| {}).await;
    // Fresh ids for each bot, built by the same recipe.
    let recipes: Vec<(&str, Recipe)> = vec![
        (
            "ask",
            Box::new(|| ask("Who built Kibo?", Some(true), &Sender::member(ASKER))),
        ),
        (
            "ask, nothing found",
            Box::new(|| ask("How do I bake bread?", None, &Sender::member(ASKER))),
        ),
        (
            "search",
            Box::new(|| {
                command(
                    next_id(),
                    "search",
                    json!([string_option("query", "space station")]),
                    &Sender::member(ASKER),
                )
            }),
        ),
        (
            "source",
            Box::new(|| {
                command(
                    next_id(),
                    "source",
                    json!([string_option("document", "kibo")]),
                    &Sender::member(ASKER),
                )
            }),
        ),
        (
            "help",
            Box::new(|| command(next_id(), "help", json!([]), &Sender::member(ASKER))),
        ),
        (
            "autocomplete",
            Box::new(|| {
                autocomplete(
                    next_id(),
                    "source",
                    "document",
                    "ki",
                    &Sender::member(ASKER),
                )
            }),
        ),
        (
            "reindex, not an admin",
            Box::new(|| {
                command(
                    next_id(),
                    "reindex",
                    json!([bool_option("full", false)]),
                    &Sender::member(ASKER),
                )
            }),
        ),
        (
            "insights, not an admin",
            Box::new(|| command(next_id(), "insights", json!([]), &Sender::member(ASKER))),
        ),
        (
            "unknown button",
            Box::new(|| button(next_id(), "nothing:1", &Sender::member(ASKER))),
        ),
        (
            "unknown form",
            Box::new(|| {
                modal_submit(
                    next_id(),
                    "nothing",
                    &[("why", "x")],
                    &Sender::member(ASKER),
                )
            }),
        ),
    ];
    for (what, recipe) in &recipes {
        let over_gateway = gateway.interact(recipe()).await;
        let over_http = http.interact(recipe()).await;
        assert_eq!(
            without_ids(&over_gateway),
            without_ids(&over_http),
            "{what}: the gateway and the HTTP endpoint answered differently"
        );
    }
    gateway.stop().await.unwrap();
    http.stop().await.unwrap();
}
