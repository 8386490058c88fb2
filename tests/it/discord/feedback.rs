//! 👍/👎 feedback through the fake Discord: one vote per person, changed votes, counts
//! on the buttons, the "What was wrong?" form, votes after a restart and past retention.

use serde_json::Value;
use spacecollab::insights::{first_answer_id_at, now_ms, Store};

use super::{ask, STRANGER};
use crate::support::bot::{start, RunningBot, ASKER};
use crate::support::bundled_corpus;
use crate::support::fake_discord::{button, modal_submit, next_id, Sender};

/// The labels of the buttons of a message or an update.
fn labels(body: &Value) -> Vec<String> {
    body["data"]["components"][0]["components"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c["label"].as_str().unwrap_or("").to_string())
        .collect()
}

/// The `custom_id` of the button labelled starting with `label`.
fn button_id(body: &Value, label: &str) -> String {
    body["data"]["components"][0]["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["label"].as_str().unwrap().starts_with(label))
        .and_then(|c| c["custom_id"].as_str())
        .unwrap_or_else(|| panic!("no {label} button: {body}"))
        .to_string()
}

async fn press(bot: &RunningBot, custom_id: &str, user: u64) -> Value {
    bot.interact(button(next_id(), custom_id, &Sender::member(user)))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn votes_count_once_per_person_change_and_show_on_the_buttons() {
    let bot = start(&bundled_corpus(), |_| {}).await;
    let answer = bot
        .interact(ask("Who built Kibo?", None, &Sender::member(ASKER)))
        .await;
    assert_eq!(labels(&answer), ["More results", "👍", "👎"]);
    let up = button_id(&answer, "👍");
    let down = button_id(&answer, "👎");
    assert!(
        up.starts_with("up:") && down.starts_with("down:"),
        "{up} {down}"
    );

    let voted = press(&bot, &up, ASKER).await;
    assert_eq!(
        voted["type"], 7,
        "the answer's buttons are updated: {voted}"
    );
    assert!(
        voted["data"].get("embeds").is_none(),
        "the answer itself stays"
    );
    assert_eq!(labels(&voted), ["More results", "👍 1", "👎"]);
    // Once per person: a second press changes nothing.
    assert_eq!(
        labels(&press(&bot, &up, ASKER).await),
        ["More results", "👍 1", "👎"]
    );
    assert_eq!(
        labels(&press(&bot, &up, STRANGER).await),
        ["More results", "👍 2", "👎"]
    );
    // "More results" still continues the same search.
    assert_eq!(button_id(&voted, "More"), button_id(&answer, "More"));

    // 👎 changes the asker's vote and asks what was wrong.
    let form = press(&bot, &down, ASKER).await;
    assert_eq!(form["type"], 9, "{form}");
    let form_id = form["data"]["custom_id"].as_str().unwrap().to_string();
    assert!(form_id.starts_with("wrong:"), "{form_id}");
    let input = &form["data"]["components"][0]["components"][0];
    assert_eq!(input["type"], 4);
    assert_eq!(input["max_length"], 300);
    assert_eq!(input["required"], false);

    let note = "It says ESA built it @everyone; ' OR 1=1 --";
    let sent = bot
        .interact(modal_submit(
            next_id(),
            &form_id,
            &[("note", note)],
            &Sender::member(ASKER),
        ))
        .await;
    assert_eq!(sent["type"], 7, "{sent}");
    assert_eq!(labels(&sent), ["More results", "👍 1", "👎 1"]);

    let store = Store::open(&bot.insights_path()).await.unwrap();
    let report = store.report(1, &[]).await.unwrap();
    assert_eq!((report.up_votes, report.down_votes), (1, 1));
    assert_eq!(report.disliked[0].notes, [note]);
    bot.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn votes_work_after_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let index = data.path().join("index");
    let first = start(&bundled_corpus(), |c| c.index_path = index.clone()).await;
    let answer = first
        .interact(ask("Who built Kibo?", None, &Sender::member(ASKER)))
        .await;
    let up = button_id(&answer, "👍");
    first.stop().await.unwrap();

    let second = start(&bundled_corpus(), |c| c.index_path = index.clone()).await;
    let voted = press(&second, &up, STRANGER).await;
    assert_eq!(labels(&voted), ["More results", "👍 1", "👎"]);
    let store = Store::open(&second.insights_path()).await.unwrap();
    assert_eq!(store.report(1, &[]).await.unwrap().questions, 1);
    second.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn votes_on_answers_past_retention_get_a_polite_note() {
    let bot = start(&bundled_corpus(), |c| c.insights.retention_days = 30).await;
    let old = first_answer_id_at(now_ms() - 31 * 86_400_000);
    let body = press(&bot, &format!("up:{old}:5"), ASKER).await;
    assert_eq!(body["type"], 4, "{body}");
    assert_eq!(body["data"]["flags"], 64, "only the voter sees it");
    let text = body["data"]["content"].as_str().unwrap();
    assert!(
        text.starts_with("Thank you!") && text.contains("30 days"),
        "{text}"
    );
    let store = Store::open(&bot.insights_path()).await.unwrap();
    assert_eq!(store.report(90, &[]).await.unwrap().up_votes, 0);
    bot.stop().await.unwrap();
}
