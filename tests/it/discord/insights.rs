//! Insights through the fake Discord: questions recorded without delaying answers and
//! answers going on when the database is gone.

use std::time::Duration;

use spacecollab::insights::Store;

use super::ask;
use crate::support::bot::{start, RunningBot, ASKER};
use crate::support::bundled_corpus;
use crate::support::fake_discord::{Sender, CHANNEL_ID, GUILD_ID};

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
