//! Insights through the fake Discord: questions recorded without delaying answers,
//! answers going on when the database is gone, `/insights` and `/forget-me`.

use std::time::Duration;

use serde_json::{json, Value};
use spacecollab::insights::Store;

use super::{ask, STRANGER};
use crate::support::bot::{assert_safe, start, RunningBot, ASKER};
use crate::support::bundled_corpus;
use crate::support::fake_discord::{self, button, command, next_id, Sender, CHANNEL_ID, GUILD_ID};

/// Waits until the bot's database holds `count` questions of the last day.
async fn wait_for_questions(bot: &RunningBot, count: u64) -> Store {
    let store = Store::open(&bot.insights_path()).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let report = store.report(1, &[]).await.unwrap();
        if report.questions >= count || std::time::Instant::now() > deadline {
            assert_eq!(report.questions, count, "{report:?}");
            return store;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asked_questions_are_recorded_with_a_hashed_asker() {
    let bot = start(&bundled_corpus(), |_| {}).await;
    let body = bot
        .interact(ask("Who built Kibo?", None, &Sender::member(ASKER)))
        .await;
    assert_eq!(body["type"], 4, "{body}");
    let unanswerable = bot
        .interact(ask("How do I bake bread?", None, &Sender::member(ASKER)))
        .await;
    assert_eq!(unanswerable["type"], 4);
    let store = wait_for_questions(&bot, 2).await;
    let report = store.report(1, &[]).await.unwrap();
    assert_eq!(report.answered, 1);
    assert_eq!(report.unanswered[0].terms, "bake bread");
    assert_eq!(
        report.unanswered[0].example.as_deref(),
        Some("How do I bake bread?")
    );
    // The database never holds the asker's id.
    let bytes = std::fs::read(bot.insights_path()).unwrap_or_default();
    let wal = std::fs::read(bot.insights_path().with_extension("sqlite-wal")).unwrap_or_default();
    let id = ASKER.to_string();
    for file in [&bytes, &wal] {
        assert!(!file.windows(id.len()).any(|w| w == id.as_bytes()));
    }
    let url = format!("sqlite://{}", bot.insights_path().display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let rows: Vec<(i64, i64, String, String)> =
        sqlx::query_as("SELECT guild_id, channel_id, asker, command FROM questions")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(rows.len(), 2);
    for (guild, channel, asker, command) in rows {
        assert_eq!((guild as u64, channel as u64), (GUILD_ID, CHANNEL_ID));
        assert_eq!(command, "ask");
        assert_eq!(asker.len(), 64, "a SHA-256 in hex: {asker}");
    }
    pool.close().await;
    bot.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_go_on_when_the_database_is_deleted_while_serving() {
    let bot = start(&bundled_corpus(), |_| {}).await;
    let first = bot
        .interact(ask("Who built Kibo?", None, &Sender::member(ASKER)))
        .await;
    assert_eq!(first["type"], 4);
    wait_for_questions(&bot, 1).await;
    let path = bot.insights_path();
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", path.display());
        let _ = std::fs::remove_file(file);
    }
    for _ in 0..3 {
        let body = bot
            .interact(ask("Who built Kibo?", None, &Sender::member(ASKER)))
            .await;
        assert_eq!(body["type"], 4, "{body}");
        assert!(body["data"]["embeds"][0]["title"]
            .as_str()
            .unwrap()
            .contains("Kibo"));
    }
    bot.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_recorded_when_insights_are_off() {
    let bot = start(&bundled_corpus(), |c| c.insights.enabled = false).await;
    let body = bot
        .interact(ask("Who built Kibo?", None, &Sender::member(ASKER)))
        .await;
    assert_eq!(body["type"], 4);
    // Checked while the bot's temp dir still exists.
    assert!(!bot.insights_path().exists(), "no database is made");
    bot.stop().await.unwrap();
}

const ADMIN: u64 = 950_000_000_000_000_011;

fn admin() -> Sender {
    Sender::Member {
        user_id: ADMIN,
        permissions: Some(1 << 5),
        roles: Vec::new(),
    }
}

/// Runs `/insights` as `sender`: the refusal's text, or the final private edit.
async fn insights_as(bot: &RunningBot, sender: &Sender, options: Value) -> Value {
    let interaction = command(next_id(), "insights", options, sender);
    let token = interaction["token"].as_str().unwrap().to_string();
    let body = bot.interact(interaction).await;
    if body["type"] == 4 {
        return body["data"].clone();
    }
    assert_eq!(body["type"], 5, "deferred: {body}");
    assert_eq!(body["data"]["flags"], 64, "private");
    let path = format!(
        "/api/v10/webhooks/{}/{token}/messages/@original",
        fake_discord::APPLICATION_ID
    );
    let edit = bot
        .fake
        .wait_for(Duration::from_secs(20), |r| r.path == path)
        .await
        .expect("the insights are edited in");
    assert_safe(&edit.body);
    edit.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insights_are_for_admins_only_and_show_the_window() {
    let bot = start(&bundled_corpus(), |_| {}).await;
    for question in [
        "How do I bake bread?",
        "how to bake bread",
        "Who built Kibo?",
    ] {
        bot.interact(ask(question, None, &Sender::member(ASKER)))
            .await;
    }
    wait_for_questions(&bot, 3).await;
    for refused in [Sender::member(ASKER), Sender::Direct { user_id: ADMIN }] {
        let data = insights_as(&bot, &refused, json!([])).await;
        assert_eq!(
            data["content"], "Only server admins can run `/insights`.",
            "{refused:?}"
        );
        assert_eq!(data["flags"], 64);
    }
    let shown = insights_as(&bot, &admin(), json!([])).await;
    let content = shown["content"].as_str().unwrap();
    assert!(
        content.contains("last 7 day(s):** 3 question(s), 33% answered"),
        "{content}"
    );
    let description = shown["embeds"][0]["description"].as_str().unwrap();
    assert!(
        description.contains("1. 2× “how to bake bread” · bake bread"),
        "{description}"
    );
    assert!(
        description.contains("**Documents never shown"),
        "{description}"
    );
    let days = insights_as(
        &bot,
        &admin(),
        json!([{ "name": "days", "type": 4, "value": 30 }]),
    )
    .await;
    assert!(days["content"].as_str().unwrap().contains("last 30 day(s)"));
    bot.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forget_me_deletes_the_callers_records_and_says_how_many() {
    let bot = start(&bundled_corpus(), |_| {}).await;
    let answer = bot
        .interact(ask("Who built Kibo?", None, &Sender::member(ASKER)))
        .await;
    bot.interact(ask("How do I bake bread?", None, &Sender::member(ASKER)))
        .await;
    bot.interact(ask("Who built Columbus?", None, &Sender::member(STRANGER)))
        .await;
    let up = answer["data"]["components"][0]["components"][1]["custom_id"]
        .as_str()
        .unwrap()
        .to_string();
    bot.interact(button(next_id(), &up, &Sender::member(ASKER)))
        .await;
    let store = wait_for_questions(&bot, 3).await;

    let forget = |user| command(next_id(), "forget-me", json!([]), &Sender::member(user));
    let done = bot.interact(forget(ASKER)).await;
    assert_eq!(done["type"], 4);
    assert_eq!(done["data"]["flags"], 64);
    assert_eq!(
        done["data"]["content"],
        "Done: I deleted the 3 records I kept about you (questions and votes)."
    );
    let report = store.report(1, &[]).await.unwrap();
    assert_eq!(
        (report.questions, report.up_votes),
        (1, 0),
        "the stranger's stays"
    );
    let again = bot.interact(forget(ASKER)).await;
    assert_eq!(
        again["data"]["content"],
        "Nothing was recorded about you, so nothing was deleted."
    );
    bot.stop().await.unwrap();
}
