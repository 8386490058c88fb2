//! End-to-end tests of the Discord bot: the real serenity client, started through
//! `spacecollab::discord::serve`, against the fake Discord in `support/fake_discord.rs`;
//! and the HTTP interactions mode (`serve_http`), which the same fake signs for.

mod feedback;
mod handling;
mod http;
mod insights;
mod payloads;
mod reliability;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::bot::{
    assert_safe, start, start_with, RunningBot, Transport, ASKER, READY_TIMEOUT,
};
use crate::support::fake_discord::{
    self, bool_option, button, command, next_id, string_option, FakeDiscord, Sender,
};
use crate::support::{bundled_corpus, Fixture};

const STRANGER: u64 = 940_000_000_000_000_002;

fn ask(question: &str, private: Option<bool>, sender: &Sender) -> Value {
    let mut options = vec![string_option("question", question)];
    if let Some(private) = private {
        options.push(bool_option("private", private));
    }
    command(next_id(), "ask", json!(options), sender)
}

fn is_ephemeral(data: &Value) -> bool {
    data["flags"].as_u64().unwrap_or(0) & 64 == 64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_are_registered_globally_at_start() {
    let bot = start(&bundled_corpus(), |_| {}).await;
    let put = bot
        .fake
        .wait_for(Duration::from_secs(10), |r| {
            r.method == "PUT"
                && r.path
                    == format!(
                        "/api/v10/applications/{}/commands",
                        fake_discord::APPLICATION_ID
                    )
        })
        .await
        .expect("commands registered");
    let names: Vec<&str> = put
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec![
            "ask",
            "search",
            "source",
            "help",
            "reindex",
            "insights",
            "forget-me"
        ]
    );
    let ask = &put.body[0];
    assert_eq!(ask["options"][0]["name"], "question");
    assert_eq!(ask["options"][0]["required"], true);
    assert_eq!(ask["options"][0]["max_length"], 300);
    assert_eq!(ask["options"][1]["name"], "private");
    assert_eq!(put.body[2]["options"][0]["autocomplete"], true);
    // Manage Server is 1 << 5.
    assert_eq!(put.body[4]["default_member_permissions"], "32");
    assert_eq!(put.body[5]["default_member_permissions"], "32");
    assert_eq!(put.body[5]["options"][0]["type"], 4);
    assert_eq!(put.body[5]["options"][0]["min_value"], 1);
    bot.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_are_registered_in_configured_guilds() {
    let bot = start(&bundled_corpus(), |c| {
        c.discord.guild_ids = vec![fake_discord::GUILD_ID]
    })
    .await;
    let path = format!(
        "/api/v10/applications/{}/guilds/{}/commands",
        fake_discord::APPLICATION_ID,
        fake_discord::GUILD_ID
    );
    let put = bot
        .fake
        .wait_for(Duration::from_secs(10), |r| {
            r.method == "PUT" && r.path == path
        })
        .await;
    assert_eq!(
        put.expect("guild registration")
            .body
            .as_array()
            .unwrap()
            .len(),
        7
    );
    assert!(!bot.fake.requests().iter().any(|r| r
        .path
        .ends_with(&format!("{}/commands", fake_discord::APPLICATION_ID))));
    bot.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_answers_with_the_top_passage_and_a_more_results_button() {
    let bot = start(&bundled_corpus(), |_| {}).await;
    let body = bot
        .interact(ask(
            "Which country built the Kibo laboratory?",
            None,
            &Sender::member(ASKER),
        ))
        .await;
    assert_eq!(body["type"], 4, "answered at once: {body}");
    let data = &body["data"];
    assert!(!is_ephemeral(data), "/ask is public by default");
    let top = &data["embeds"][0];
    assert!(top["title"].as_str().unwrap().contains("Kibo"), "{top}");
    assert!(
        top["description"].as_str().unwrap().contains("**"),
        "matched words are bold"
    );
    assert!(top["url"].as_str().unwrap().starts_with("https://"));
    assert!(top["footer"]["text"]
        .as_str()
        .unwrap()
        .contains("relevance"));
    assert!(data["embeds"].as_array().unwrap().len() <= 3);
    let button = &data["components"][0]["components"][0];
    assert_eq!(button["label"], "More results");
    assert!(button["custom_id"].as_str().unwrap().starts_with("more:"));

    // Anyone may press "More results" and gets a private list.
    let custom_id = button["custom_id"].as_str().unwrap().to_string();
    let more = bot.interact(button_press(&custom_id, STRANGER)).await;
    assert_eq!(more["type"], 4);
    assert!(is_ephemeral(&more["data"]));
    assert!(
        more["data"]["embeds"][0]["fields"]
            .as_array()
            .unwrap()
            .len()
            >= 2
    );
    bot.stop().await.unwrap();
}

fn button_press(custom_id: &str, user: u64) -> Value {
    button(next_id(), custom_id, &Sender::member(user))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_ask_is_ephemeral_and_off_topic_questions_get_a_helpful_no() {
    let bot = start(&bundled_corpus(), |_| {}).await;
    let body = bot
        .interact(ask(
            "How do I bake sourdough bread?",
            Some(true),
            &Sender::member(ASKER),
        ))
        .await;
    let data = &body["data"];
    assert!(is_ephemeral(data));
    assert!(
        data["embeds"].as_array().is_none_or(|e| e.is_empty()),
        "no weak passage is shown: {data}"
    );
    let content = data["content"].as_str().unwrap();
    assert!(content.contains("I searched for"), "{content}");
    assert!(content.contains("/help"), "{content}");
    bot.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_answers_are_deferred_then_edited() {
    // A zero deferral threshold takes the deferred path for every answer.
    let bot = start(&bundled_corpus(), |c| c.discord.defer_after_ms = 0).await;
    let interaction = ask(
        "Who builds the service module of Orion?",
        None,
        &Sender::member(ASKER),
    );
    let token = interaction["token"].as_str().unwrap().to_string();
    let body = bot.interact(interaction).await;
    assert_eq!(body["type"], 5, "deferred first: {body}");
    let path = format!(
        "/api/v10/webhooks/{}/{token}/messages/@original",
        fake_discord::APPLICATION_ID
    );
    let edit = bot
        .fake
        .wait_for(Duration::from_secs(10), |r| {
            r.method == "PATCH" && r.path == path
        })
        .await
        .expect("the deferred reply is edited");
    assert_safe(&edit.body);
    let titles: Vec<&str> = edit.body["embeds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["title"].as_str().unwrap())
        .collect();
    assert!(titles.iter().any(|t| t.contains("Orion")), "{titles:?}");
    bot.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_pages_turn_for_the_searcher_only() {
    search_pages_turn_for_the_searcher_only_over(Transport::Gateway).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_pages_turn_for_the_searcher_only_over_http() {
    search_pages_turn_for_the_searcher_only_over(Transport::Http).await;
}

async fn search_pages_turn_for_the_searcher_only_over(transport: Transport) {
    let bot = start_with(transport, &bundled_corpus(), |_| {}).await;
    let body = bot
        .command("search", json!([string_option("query", "space station")]))
        .await;
    let data = &body["data"];
    assert!(is_ephemeral(data), "/search is ephemeral by default");
    assert_eq!(data["embeds"][0]["fields"].as_array().unwrap().len(), 5);
    assert!(data["embeds"][0]["footer"]["text"]
        .as_str()
        .unwrap()
        .starts_with("Page 1 of"));
    let buttons = data["components"][0]["components"].as_array().unwrap();
    assert_eq!(buttons[0]["disabled"], true, "no page before the first");
    let next = buttons[1]["custom_id"].as_str().unwrap().to_string();

    let stranger = bot.interact(button_press(&next, STRANGER)).await;
    assert_eq!(
        stranger["type"], 4,
        "a stranger gets a new message, the page is unchanged"
    );
    assert!(is_ephemeral(&stranger["data"]));
    assert!(stranger["data"]["content"]
        .as_str()
        .unwrap()
        .contains("Only the person who searched"));

    let turned = bot.interact(button_press(&next, ASKER)).await;
    assert_eq!(
        turned["type"], 7,
        "the searcher's press updates the message"
    );
    assert!(turned["data"]["embeds"][0]["footer"]["text"]
        .as_str()
        .unwrap()
        .starts_with("Page 2 of"));
    let first_field = turned["data"]["embeds"][0]["fields"][0]["name"]
        .as_str()
        .unwrap();
    assert!(first_field.starts_with("6."), "{first_field}");
    bot.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_autocompletes_titles_and_shows_a_document() {
    let bot = start(&bundled_corpus(), |_| {}).await;
    let body = bot
        .interact(fake_discord::autocomplete(
            next_id(),
            "source",
            "document",
            "kibo",
            &Sender::member(ASKER),
        ))
        .await;
    assert_eq!(body["type"], 8);
    let choices = body["data"]["choices"].as_array().unwrap();
    assert!(!choices.is_empty() && choices.len() <= 25);
    assert!(choices[0]["name"]
        .as_str()
        .unwrap()
        .to_lowercase()
        .contains("kibo"));
    let everything = bot
        .interact(fake_discord::autocomplete(
            next_id(),
            "source",
            "document",
            "",
            &Sender::member(ASKER),
        ))
        .await;
    assert_eq!(everything["data"]["choices"].as_array().unwrap().len(), 25);

    let chosen = choices[0]["value"].as_str().unwrap();
    let shown = bot
        .command("source", json!([string_option("document", chosen)]))
        .await;
    let embed = &shown["data"]["embeds"][0];
    assert!(embed["title"].as_str().unwrap().contains("Kibo"));
    assert!(
        !embed["description"].as_str().unwrap().is_empty(),
        "the summary is shown"
    );
    assert!(embed["url"].as_str().unwrap().starts_with("https://"));
    bot.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_describes_the_corpus() {
    let bot = start(&bundled_corpus(), |_| {}).await;
    let body = bot.command("help", json!([])).await;
    let embed = &body["data"]["embeds"][0];
    let documents = std::fs::read_dir(bundled_corpus())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "md")
        })
        .count();
    assert!(embed["description"]
        .as_str()
        .unwrap()
        .contains(&format!("{documents} curated documents")));
    assert!(embed["fields"][1]["value"]
        .as_str()
        .unwrap()
        .contains("iss"));
    bot.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mentions_in_questions_and_documents_never_ping() {
    let corpus = Fixture::with_files(&[
        (
            "attack.md",
            "---\ntitle: \"Kibo @everyone\"\nsources: [\"https://example.org/kibo\"]\n---\n\n## Kibo @here\n\n\
             Kibo is the Japanese laboratory module of the station. @everyone <@123456789012345678> <@&123456789012345678> \
             please read [this](https://evil.example) about Kibo.\n"
                .as_bytes(),
        ),
        (
            "other.md",
            "---\ntitle: Columbus\n---\n\n## Columbus\n\nColumbus is the European laboratory module of the station.\n"
                .as_bytes(),
        ),
    ]);
    let bot = start(&corpus.corpus, |_| {}).await;
    let body = bot
        .interact(ask(
            "@everyone **Kibo** laboratory module",
            None,
            &Sender::member(ASKER),
        ))
        .await;
    // Unanswered questions are echoed back too.
    let echoed = bot
        .interact(ask(
            "@here <@123> [x](https://evil.example) ||spoiler||",
            None,
            &Sender::member(ASKER),
        ))
        .await;
    assert!(
        echoed["data"]["content"]
            .as_str()
            .unwrap()
            .contains("\\|\\|spoiler"),
        "{echoed}"
    );
    let text = format!("{body}{echoed}");
    for forbidden in [
        "@everyone",
        "@here",
        "<@123456789012345678>",
        "<@&123456789012345678>",
        "<@123>",
        "](https://evil",
        "https://evil",
    ] {
        assert!(
            !text.contains(forbidden),
            "{forbidden} reached Discord: {text}"
        );
    }
    assert!(body["data"]["embeds"][0]["title"]
        .as_str()
        .unwrap()
        .contains("Kibo"));
    bot.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_long_answers_stay_within_discord_limits() {
    let long_title = "Kibo ".repeat(120);
    let long_sentence = format!("Kibo {}.", "laboratory module ".repeat(140));
    let long = format!(
        "---\ntitle: \"{long_title}\"\nsources: [\"https://example.org/{}\"]\n---\n\n## {long_title}\n\n{long_sentence}\n",
        "x".repeat(3000)
    );
    let again = format!("## Kibo again\n\n{long_sentence}\n");
    let third = format!("## Kibo third\n\n{long_sentence}\n");
    let corpus = Fixture::with_files(&[
        ("long.md", long.as_bytes()),
        ("long2.md", again.as_bytes()),
        ("long3.md", third.as_bytes()),
    ]);
    let bot = start(&corpus.corpus, |c| c.answer.snippet_chars = 4_000).await;
    // assert_safe inside interact checks every limit.
    let body = bot
        .interact(ask("Kibo laboratory module", None, &Sender::member(ASKER)))
        .await;
    assert!(!body["data"]["embeds"].as_array().unwrap().is_empty());
    let search = bot
        .command("search", json!([string_option("query", "Kibo laboratory")]))
        .await;
    assert!(!search["data"]["embeds"].as_array().unwrap().is_empty());
    bot.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_commands_and_missing_options_get_a_polite_reply_and_the_bot_goes_on() {
    let bot = start(&bundled_corpus(), |_| {}).await;
    let unknown = bot.command("launch", json!([])).await;
    assert!(is_ephemeral(&unknown["data"]));
    assert!(unknown["data"]["content"]
        .as_str()
        .unwrap()
        .contains("/help"));
    let missing = bot.command("ask", json!([])).await;
    assert!(is_ephemeral(&missing["data"]));
    assert!(missing["data"]["content"]
        .as_str()
        .unwrap()
        .contains("question"));
    let expired = bot.interact(button_press("page:1:1", ASKER)).await;
    assert!(expired["data"]["content"]
        .as_str()
        .unwrap()
        .contains("expired"));
    let garbage = bot.interact(button_press("zzz", ASKER)).await;
    assert!(is_ephemeral(&garbage["data"]));
    // Still answering.
    let body = bot
        .interact(ask(
            "What is the Outer Space Treaty?",
            None,
            &Sender::member(ASKER),
        ))
        .await;
    assert!(body["data"]["embeds"][0]["title"]
        .as_str()
        .unwrap()
        .contains("Outer Space Treaty"));
    assert_eq!(bot.fake.identify_count(), 1, "the bot never reconnected");
    bot.stop().await.unwrap();
}

/// Runs `spacecollab serve` as a user would, against the fake Discord.
fn serve_command(config: &Path, token: Option<&str>, log: &str) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_spacecollab"));
    command.arg("--config").arg(config).arg("serve");
    command.env_remove("DISCORD_TOKEN").env("RUST_LOG", log);
    if let Some(token) = token {
        command.env("DISCORD_TOKEN", token);
    }
    command
}

fn write_config(dir: &Path, fake: &FakeDiscord) -> PathBuf {
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[corpus]\npath = {:?}\n[index]\npath = \"index\"\nthreads = 1\n[discord]\napi_base_url = \"{}\"\n",
            bundled_corpus(),
            fake.api_base
        ),
    )
    .unwrap();
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_a_missing_or_malformed_token_before_connecting() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &fake);
    for (token, expected) in [
        (None, "DISCORD_TOKEN environment variable is not set"),
        (Some("nonsense"), "does not look like"),
    ] {
        let output = serve_command(&config, token, "warn").output().unwrap();
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "one clear sentence: {stderr}");
    }
    assert!(fake.requests().is_empty(), "nothing was sent to Discord");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_then_stops_on_sigterm_without_logging_tokens() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &fake);
    let token = "MTAxMDEwMTAxMDEw.GxYzAb.secret-token_never-logged";
    let mut child = serve_command(&config, Some(token), "debug")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(
        fake.wait_ready(READY_TIMEOUT).await,
        "the bot never identified"
    );
    let interaction = ask(
        "Who signed the Artemis Accords first?",
        None,
        &Sender::member(ASKER),
    );
    let interaction_token = interaction["token"].as_str().unwrap().to_string();
    let id: u64 = interaction["id"].as_str().unwrap().parse().unwrap();
    fake.dispatch(interaction);
    let body = fake.callback(id).await;
    assert_safe(&body);
    assert!(body["data"]["embeds"][0]["title"]
        .as_str()
        .unwrap()
        .contains("Artemis Accords"));

    std::process::Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "serve did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
    let output = child.wait_with_output().unwrap();
    let logs = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(logs.contains("connected to Discord"), "{logs}");
    assert!(
        !logs.contains("secret-token_never-logged"),
        "the bot token reached the log"
    );
    let leaked: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains(&interaction_token))
        .collect();
    assert!(
        leaked.is_empty(),
        "an interaction token reached the log: {leaked:?}"
    );
}

/// Runs `/reindex` as `sender` and returns the final text of its reply.
async fn reindex_as(bot: &RunningBot, sender: &Sender) -> String {
    let interaction = command(next_id(), "reindex", json!([]), sender);
    let token = interaction["token"].as_str().unwrap().to_string();
    let body = bot.interact(interaction).await;
    if body["type"] == 4 {
        return body["data"]["content"].as_str().unwrap().to_string();
    }
    assert_eq!(body["type"], 5, "deferred: {body}");
    assert!(is_ephemeral(&body["data"]));
    let path = format!(
        "/api/v10/webhooks/{}/{token}/messages/@original",
        fake_discord::APPLICATION_ID
    );
    let done = bot
        .fake
        .wait_for(Duration::from_secs(30), |r| {
            r.path == path
                && r.body["content"].as_str().is_some_and(|c| {
                    c.starts_with("Reindex done") || c.starts_with("Reindex failed")
                })
        })
        .await
        .expect("the reindex reply ends with a summary");
    assert_safe(&done.body);
    done.body["content"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_is_for_admins_only() {
    const ADMIN_USER: u64 = 950_000_000_000_000_001;
    const ADMIN_ROLE: u64 = 950_000_000_000_000_002;
    let corpus = Fixture::bundled();
    let bot = start(&corpus.corpus, |c| {
        c.admin.user_ids = vec![ADMIN_USER];
        c.admin.role_ids = vec![ADMIN_ROLE];
    })
    .await;
    let refused = [
        (
            "a DM",
            Sender::Direct {
                user_id: ADMIN_USER,
            },
        ),
        (
            "no member data",
            Sender::GuildWithoutMember {
                user_id: ADMIN_USER,
            },
        ),
        ("no permissions", Sender::member(ASKER)),
        (
            "permissions field missing",
            Sender::Member {
                user_id: ASKER,
                permissions: None,
                roles: vec![],
            },
        ),
        (
            "an unlisted role",
            Sender::Member {
                user_id: ASKER,
                permissions: Some(0),
                roles: vec![ADMIN_ROLE + 1],
            },
        ),
        // Send Messages and Manage Messages, but not Manage Server.
        (
            "other permissions",
            Sender::Member {
                user_id: ASKER,
                permissions: Some((1 << 11) | (1 << 13)),
                roles: vec![],
            },
        ),
    ];
    for (case, sender) in &refused {
        let reply = reindex_as(&bot, sender).await;
        assert_eq!(reply, "Only server admins can run `/reindex`.", "{case}");
    }
    let allowed = [
        (
            "role in config",
            Sender::Member {
                user_id: ASKER,
                permissions: Some(0),
                roles: vec![ADMIN_ROLE],
            },
        ),
        ("user in config", Sender::member(ADMIN_USER)),
        (
            "Manage Server",
            Sender::Member {
                user_id: ASKER,
                permissions: Some(1 << 5),
                roles: vec![],
            },
        ),
        (
            "Administrator",
            Sender::Member {
                user_id: ASKER,
                permissions: Some(1 << 3),
                roles: vec![],
            },
        ),
    ];
    for (case, sender) in &allowed {
        let reply = reindex_as(&bot, sender).await;
        assert!(reply.starts_with("Reindex done"), "{case}: {reply}");
    }
    let runs = bot
        .fake
        .requests()
        .iter()
        .filter(|r| {
            r.body["content"]
                .as_str()
                .is_some_and(|c| c.starts_with("Reindex done"))
        })
        .count();
    assert_eq!(runs, allowed.len(), "zero unauthorised runs");
    bot.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_picks_up_added_changed_and_removed_documents() {
    let corpus = Fixture::bundled();
    let bot = start(&corpus.corpus, |_| {}).await;
    let admin = Sender::Member {
        user_id: ASKER,
        permissions: Some(1 << 5),
        roles: vec![],
    };
    let question = "Which mission studied the ice moons of Neptune with a submarine?";
    let before = bot
        .interact(ask(question, None, &Sender::member(ASKER)))
        .await;
    assert!(
        before["data"]["embeds"]
            .as_array()
            .is_none_or(|e| e.is_empty()),
        "not known yet: {before}"
    );

    std::fs::write(
        corpus.corpus.join("neptune-submarine.md"),
        "---\ntitle: \"Triton Submarine Mission\"\nsources: [\"https://example.org/triton\"]\n---\n\n## The mission\n\n\
         The Triton Submarine Mission is a fictional joint study in which several agencies imagine sending a \
         submarine to the ice moons of Neptune, to explore the ocean under the ice of Triton.\n",
    )
    .unwrap();
    let kibo = corpus.corpus.join("iss-kibo.md");
    let text = std::fs::read_to_string(&kibo).unwrap();
    std::fs::write(&kibo, format!("{text}\n\n## Zebrafish\n\nKibo hosted zebrafish studies of muscle loss in weightlessness, run by JAXA.\n")).unwrap();
    std::fs::remove_file(corpus.corpus.join("soho.md")).unwrap();

    let summary = reindex_as(&bot, &admin).await;
    assert!(
        summary.contains("Added (1): Triton Submarine Mission"),
        "{summary}"
    );
    assert!(summary.contains("Changed (1): Kibo"), "{summary}");
    assert!(summary.contains("Removed (1): SOHO"), "{summary}");

    let after = bot
        .interact(ask(question, None, &Sender::member(ASKER)))
        .await;
    assert_eq!(
        after["data"]["embeds"][0]["title"],
        "Triton Submarine Mission › The mission"
    );
    let zebrafish = bot
        .interact(ask("zebrafish muscle loss", None, &Sender::member(ASKER)))
        .await;
    assert!(zebrafish["data"]["embeds"][0]["title"]
        .as_str()
        .unwrap()
        .starts_with("Kibo"));
    let soho = bot
        .command("source", json!([string_option("document", "soho")]))
        .await;
    assert!(
        soho["data"]["content"]
            .as_str()
            .unwrap()
            .contains("no document called"),
        "{soho}"
    );
    bot.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shard_range_identifies_each_of_its_shards() {
    let bot = start(&bundled_corpus(), |config| {
        config.discord.shards = Some(spacecollab::config::ShardRange::parse("2-3", 4).unwrap());
    })
    .await;
    let handshakes = bot.fake.handshakes(2, READY_TIMEOUT).await;
    let mut shards: Vec<(u64, u64)> = handshakes.iter().filter_map(|h| h.shard).collect();
    shards.sort_unstable();
    assert_eq!(shards, vec![(2, 4), (3, 4)], "{handshakes:?}");
    bot.stop().await.unwrap();
}
