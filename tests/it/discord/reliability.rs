//! Issue 14 (reliability) against the fake Discord: user text echoed without bidi
//! controls, tokens kept out of the log, modal submits answered, a graceful shutdown,
//! retried REST calls, and the per-user and overall limits.

use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{ask, serve_command};
use crate::support::bot::{start, start_on, ASKER, READY_TIMEOUT};
use crate::support::fake_discord::{
    button, modal_submit, next_id, FakeDiscord, Fault, GatewayFault, Handshake, Request, Route,
    Sender, APPLICATION_ID,
};
use crate::support::{bundled_corpus, Fixture};

/// The bot token the binary is started with.
const BOT_TOKEN: &str = "MTAxMDEwMTAxMDEw.GxYzAb.secret-token_never-logged";

/// The characters issue 14 names, and other invisible format characters.
const INVISIBLE: [char; 16] = [
    '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}',
    '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}', '\u{200B}', '\u{200D}', '\u{2060}', '\u{FEFF}',
];

fn content(body: &Value) -> &str {
    body["data"]["content"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echoed_questions_lose_bidi_controls_and_corpus_text_keeps_its_own() {
    let corpus = Fixture::with_files(&[
        (
            "kibo.md",
            "---\ntitle: Kibo\nsources: [\"https://example.org/kibo\"]\n---\n\n## Kibo\n\n\
             Kibo is the Japanese laboratory module of the station; its name is written \
             \u{200F}كيبو\u{200F} in Arabic and the crew patch shows 👩\u{200D}🚀.\n"
                .as_bytes(),
        ),
        (
            "columbus.md",
            "---\ntitle: Columbus\n---\n\n## Columbus\n\nColumbus is the European laboratory module.\n"
                .as_bytes(),
        ),
    ]);
    let bot = start(&corpus.corpus, |_| {}).await;
    // Overrides and isolates that would reverse the rest of the bot's line.
    let answered = bot
        .interact(ask(
            "Which\u{200B} laboratory module is \u{202E}Kibo\u{202C}\u{2066}?\u{2069}\u{200F}",
            None,
            &Sender::member(ASKER),
        ))
        .await;
    let unanswered = bot
        .interact(ask(
            "\u{2067}zebra\u{2069} \u{202D}crossing\u{202C} \u{FEFF}\u{061C}\u{2060}\u{200E}\u{2068}x",
            None,
            &Sender::member(ASKER),
        ))
        .await;
    for body in [&answered, &unanswered] {
        // The first line echoes the question; the best sentence of the corpus may follow.
        let echo = content(body).lines().next().unwrap_or("");
        assert!(!echo.is_empty(), "{body}");
        // The bot's own zero-width spaces (after "@", in "://") are not in these questions.
        assert!(
            !echo.contains(INVISIBLE),
            "an invisible character was echoed: {echo:?}"
        );
    }
    assert!(
        content(&answered).contains("**Q:** Which laboratory module is Kibo?"),
        "{}",
        content(&answered)
    );
    assert!(
        content(&unanswered).contains("“zebra crossing x”"),
        "{}",
        content(&unanswered)
    );
    // The corpus's passage and best sentence are shown with their own marks and joiner.
    let passage = answered["data"]["embeds"][0]["description"]
        .as_str()
        .unwrap();
    assert!(passage.contains("\u{200F}كيبو\u{200F}"), "{passage}");
    let best = content(&answered);
    assert!(
        best.contains("\u{200F}كيبو\u{200F}") && best.contains("👩\u{200D}🚀"),
        "{best}"
    );
    bot.stop().await.unwrap();
}

/// `spacecollab serve` on the bundled corpus against `fake`, with `discord` (TOML lines)
/// in its `[discord]` section and no cooldown, logging at `log` into the file it returns (a pipe could
/// fill up at trace level and stall the bot).
fn spawn_serve(dir: &Path, fake: &FakeDiscord, discord: &str, log: &str) -> (Child, PathBuf) {
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[corpus]\npath = {:?}\n[index]\npath = \"index\"\nthreads = 1\n\
             [discord]\napi_base_url = \"{}\"\n{discord}[limits]\nper_user = 0\n",
            bundled_corpus(),
            fake.api_base
        ),
    )
    .unwrap();
    let log_path = dir.join("bot.log");
    let log_file = std::fs::File::create(&log_path).unwrap();
    let child = serve_command(&config, Some(BOT_TOKEN), log)
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .unwrap();
    (child, log_path)
}

/// Sends SIGTERM to `child`.
fn terminate(child: &Child) {
    let sent = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(sent.success());
}

/// Waits for `child` to exit, for at most `timeout`.
async fn exit_of(child: &mut Child, timeout: Duration) -> ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the bot did not exit within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The path prefix of interaction `id`'s callback, and the path of its original response.
fn paths(interaction: &Value) -> (String, String) {
    let id = interaction["id"].as_str().unwrap();
    let token = interaction["token"].as_str().unwrap();
    (
        format!("/api/v10/interactions/{id}/"),
        format!("/api/v10/webhooks/{APPLICATION_ID}/{token}/messages/@original"),
    )
}

async fn wait_for(fake: &FakeDiscord, what: &str, wanted: impl Fn(&Request) -> bool) -> Request {
    fake.wait_for(Duration::from_secs(20), wanted)
        .await
        .unwrap_or_else(|| panic!("no {what}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_reaches_the_log_at_trace_level_when_discord_drops_connections() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    // Every answer is deferred, so that each interaction has a callback and an edit.
    let (mut child, log) = spawn_serve(dir.path(), &fake, "defer_after_ms = 0\n", "trace");
    assert!(
        fake.wait_ready(READY_TIMEOUT).await,
        "the bot never identified"
    );
    let mut tokens = Vec::new();
    for route in [Route::Callback, Route::Edit] {
        fake.inject(route, Fault::Drop);
        let interaction = ask("What is Kibo?", None, &Sender::member(ASKER));
        tokens.push(interaction["token"].as_str().unwrap().to_string());
        let (callback, edit) = paths(&interaction);
        fake.dispatch(interaction);
        let dropped = wait_for(&fake, "dropped request", |r| {
            r.fault == Some(Fault::Drop) && (r.path.starts_with(&callback) || r.path == edit)
        })
        .await;
        assert!(dropped.path.contains(tokens.last().unwrap()));
        // Retried, and answered, before the next fault is queued.
        wait_for(&fake, "answer", |r| r.path == edit && r.fault.is_none()).await;
    }
    // A callback that fails every time: the bot gives up within the 3-second window and
    // says so once. (Faults left unused would only delay the next question.)
    for _ in 0..4 {
        fake.inject(Route::Callback, Fault::Status(503));
    }
    let doomed = ask("What is Kibo?", None, &Sender::member(ASKER));
    tokens.push(doomed["token"].as_str().unwrap().to_string());
    let (doomed_callback, _) = paths(&doomed);
    fake.dispatch(doomed);
    // Retried while the window allows (under load that may be fewer than 4 attempts).
    let retried = until(Duration::from_secs(10), || {
        fake.requests()
            .iter()
            .filter(|r| r.path.starts_with(&doomed_callback))
            .count()
            >= 2
    })
    .await;
    assert!(retried, "the failed callback was retried");
    let gave_up = until(Duration::from_secs(10), || {
        std::fs::read_to_string(&log).is_ok_and(|l| l.contains("gave up after"))
    })
    .await;
    assert!(gave_up, "the bot gave up on the callback");
    // A last question answered in full: the failures before it have been logged.
    let last = ask("What is Columbus?", None, &Sender::member(ASKER));
    let (_, edit) = paths(&last);
    fake.dispatch(last);
    wait_for(&fake, "edit", |r| r.path == edit && r.fault.is_none()).await;
    terminate(&child);
    exit_of(&mut child, Duration::from_secs(15)).await;
    let log = std::fs::read_to_string(log).unwrap();
    assert!(log.contains("TRACE"), "logged at trace level");
    // The dropped requests were logged, with their URLs redacted.
    let redacted: Vec<&str> = log.lines().filter(|l| l.contains("/<token>")).collect();
    assert!(
        !redacted.is_empty(),
        "the failed requests are logged: {log}"
    );
    for token in tokens.iter().map(String::as_str).chain([BOT_TOKEN]) {
        let leaked: Vec<&str> = log.lines().filter(|l| l.contains(token)).collect();
        assert!(leaked.is_empty(), "{token} reached the log: {leaked:#?}");
    }
    let gave_up: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("gave up after"))
        .collect();
    assert_eq!(
        gave_up.len(),
        1,
        "one give-up, logged once: {:#?}",
        log.lines()
            .filter(|l| l.contains("503") || l.contains("interaction failed"))
            .collect::<Vec<_>>()
    );
    assert!(
        gave_up[0].contains("POST /interactions/") && gave_up[0].contains("503"),
        "with its route and status: {}",
        gave_up[0]
    );
    // The token's parts would give it away too.
    assert!(!log.contains("secret-token_never-logged"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modal_submits_and_unknown_buttons_get_a_polite_private_note() {
    let bot = start(&bundled_corpus(), |_| {}).await;
    let form = modal_submit(
        next_id(),
        "survey:1",
        &[("comment", "Great bot"), ("rating", "5")],
        &Sender::member(ASKER),
    );
    let body = bot.interact(form).await;
    assert_eq!(body["type"], 4, "{body}");
    assert_eq!(body["data"]["flags"], 64, "ephemeral: {body}");
    assert!(content(&body).contains("not one of mine"), "{body}");
    let pressed = bot
        .interact(button(next_id(), "vote:up:1", &Sender::member(ASKER)))
        .await;
    assert_eq!(pressed["data"]["flags"], 64, "ephemeral: {pressed}");
    assert!(content(&pressed).contains("expired"), "{pressed}");
    bot.stop().await.unwrap();
}

/// Polls `done` every 10 ms until it holds, for at most `timeout`.
async fn until(timeout: Duration, done: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while !done() {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    true
}

/// Issue 14: with 20 `/ask` in flight, a SIGTERM ended the process as soon as the shard
/// closed, and in half the runs 18 of 20 users got no answer. Repeated to catch a race.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_twenty_asks_in_flight_answers_every_one_closes_with_1000_and_exits_0() {
    const RUNS: usize = 20;
    const IN_FLIGHT: usize = 20;
    // Long enough that all 20 are still in flight when the signal comes.
    const SLOW: Duration = Duration::from_millis(200);
    let dir = tempfile::tempdir().unwrap();
    let began = Instant::now();
    let mut refused_late = 0;
    for run in 0..RUNS {
        let fake = FakeDiscord::start().await;
        // Deferred answers: a callback, then an edit, each held by the fake.
        let (mut child, log) = spawn_serve(dir.path(), &fake, "defer_after_ms = 0\n", "info");
        assert!(
            fake.wait_ready(READY_TIMEOUT).await,
            "run {run}: never identified"
        );
        for _ in 0..IN_FLIGHT {
            fake.inject(Route::Callback, Fault::Slow(SLOW));
            fake.inject(Route::Edit, Fault::Slow(SLOW));
        }
        let asks: Vec<Value> = (0..IN_FLIGHT)
            .map(|_| ask("Who built Kibo?", None, &Sender::member(ASKER)))
            .collect();
        for interaction in &asks {
            fake.dispatch(interaction.clone());
        }
        let all_held = until(Duration::from_secs(10), || {
            fake.delayed() == IN_FLIGHT as u64
        })
        .await;
        assert!(all_held, "run {run}: only {} in flight", fake.delayed());
        terminate(&child);
        // One more, while the bot finishes the others: it is answered too, if only with a
        // note that the bot is restarting.
        let late = ask("Who built Kibo?", None, &Sender::member(ASKER));
        fake.dispatch(late.clone());
        let status = exit_of(&mut child, Duration::from_secs(15)).await;
        let log = std::fs::read_to_string(&log).unwrap();
        assert_eq!(status.code(), Some(0), "run {run}: {log}");
        for interaction in &asks {
            let (callback, edit) = paths(interaction);
            assert_eq!(fake.delivered(&callback).len(), 1, "run {run}: {log}");
            let answered = fake.delivered(&edit).iter().any(|e| {
                e.body["embeds"]
                    .as_array()
                    .is_some_and(|embeds| !embeds.is_empty())
            });
            assert!(answered, "run {run}: an ask was not answered: {log}");
        }
        let (late_callback, _) = paths(&late);
        let late_reply = fake.delivered(&late_callback);
        assert_eq!(late_reply.len(), 1, "run {run}: the late ask: {log}");
        if late_reply[0].body["data"]["content"]
            .as_str()
            .is_some_and(|c| c.contains("restarting"))
        {
            refused_late += 1;
        }
        let codes = fake.close_codes(1, Duration::from_secs(5)).await;
        assert_eq!(codes, vec![1000], "run {run}: {log}");
    }
    eprintln!(
        "{RUNS} runs of {IN_FLIGHT} asks in flight then SIGTERM: {:.1} s; the late ask was \
         told the bot is restarting in {refused_late} of them",
        began.elapsed().as_secs_f64()
    );
    assert!(began.elapsed() < Duration::from_secs(120));
}

/// Issue 14: a 500 on an interaction callback was logged and dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_answered_500_or_dropped_is_retried_inside_its_window() {
    let bot = start(&bundled_corpus(), |_| {}).await;
    for fault in [Fault::Status(500), Fault::Status(502), Fault::Drop] {
        bot.fake.inject(Route::Callback, fault.clone());
        let interaction = ask("Who built Kibo?", None, &Sender::member(ASKER));
        let (callback, _) = paths(&interaction);
        bot.fake.dispatch(interaction);
        let delivered = wait_for(&bot.fake, "retried callback", |r| {
            r.path.starts_with(&callback) && r.fault.is_none()
        })
        .await;
        assert_eq!(delivered.body["type"], 4, "{fault:?}: {}", delivered.body);
        let attempts: Vec<Request> = bot
            .fake
            .requests()
            .into_iter()
            .filter(|r| r.path.starts_with(&callback))
            .collect();
        assert_eq!(attempts.len(), 2, "{fault:?}: one failure, one retry");
        assert_eq!(attempts[0].fault, Some(fault.clone()));
        assert_eq!(attempts[0].raw, attempts[1].raw, "the same body again");
        // Well inside Discord's 3 seconds.
        let gap = attempts[1].at.duration_since(attempts[0].at);
        assert!(
            gap < Duration::from_millis(1_000),
            "{fault:?}: retried after {gap:?}"
        );
    }
    bot.stop().await.unwrap();
}

/// Issue 14: a 429 on the edit of a deferred reply left it at "thinking…" forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_answered_429_is_sent_again_after_the_wait_discord_asks_for() {
    let bot = start(&bundled_corpus(), |c| c.discord.defer_after_ms = 0).await;
    bot.fake
        .inject(Route::Edit, Fault::RateLimited { retry_after: 0.4 });
    bot.fake.inject(Route::Edit, Fault::Status(503));
    let interaction = ask("Who built Kibo?", None, &Sender::member(ASKER));
    let (_, edit) = paths(&interaction);
    bot.fake.dispatch(interaction);
    let delivered = wait_for(&bot.fake, "edit", |r| r.path == edit && r.fault.is_none()).await;
    assert!(
        !delivered.body["embeds"].as_array().unwrap().is_empty(),
        "the answer arrived: {}",
        delivered.body
    );
    let attempts: Vec<Request> = bot
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path == edit)
        .collect();
    assert_eq!(attempts.len(), 3, "a 429, a 503, then the edit");
    let waited = attempts[1].at.duration_since(attempts[0].at);
    assert!(
        waited >= Duration::from_millis(400),
        "the 429's retry_after was honoured: {waited:?}"
    );
    bot.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_asking_too_fast_is_told_when_to_try_again_and_admins_are_exempt() {
    const ADMIN: u64 = 950_000_000_000_000_001;
    const OTHER: u64 = 950_000_000_000_000_002;
    let bot = start(&bundled_corpus(), |c| {
        c.limits.per_user = 2;
        c.admin.user_ids = vec![ADMIN];
    })
    .await;
    for _ in 0..2 {
        let body = bot
            .interact(ask("Who built Kibo?", None, &Sender::member(ASKER)))
            .await;
        assert!(
            !body["data"]["embeds"].as_array().unwrap().is_empty(),
            "{body}"
        );
    }
    let refused = bot
        .interact(ask("Who built Kibo?", None, &Sender::member(ASKER)))
        .await;
    assert_eq!(refused["data"]["flags"], 64, "ephemeral: {refused}");
    let text = content(&refused);
    let seconds: u64 = text
        .split("try again in ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no wait in {text:?}"));
    assert!((1..=30).contains(&seconds), "{text}");
    // /search is a question too.
    let search = bot
        .command(
            "search",
            serde_json::json!([crate::support::fake_discord::string_option("query", "Kibo")]),
        )
        .await;
    assert!(content(&search).contains("try again in"), "{search}");
    // Others, and admins however often they ask, are answered.
    let other = bot
        .interact(ask("Who built Kibo?", None, &Sender::member(OTHER)))
        .await;
    assert!(
        !other["data"]["embeds"].as_array().unwrap().is_empty(),
        "{other}"
    );
    for _ in 0..4 {
        let admin = bot
            .interact(ask("Who built Kibo?", None, &Sender::member(ADMIN)))
            .await;
        assert!(
            !admin["data"]["embeds"].as_array().unwrap().is_empty(),
            "{admin}"
        );
    }
    bot.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_the_answers_at_once_users_are_told_the_bot_is_busy() {
    let bot = start(&bundled_corpus(), |c| c.limits.answers_at_once = 1).await;
    // The first answer is held at its callback, so it is still being worked on.
    bot.fake
        .inject(Route::Callback, Fault::Slow(Duration::from_millis(500)));
    let first = ask("Who built Kibo?", None, &Sender::member(ASKER));
    let (first_callback, _) = paths(&first);
    bot.fake.dispatch(first);
    assert!(until(Duration::from_secs(10), || bot.fake.delayed() == 1).await);
    let busy = bot
        .interact(ask("What is Columbus?", None, &Sender::member(ASKER)))
        .await;
    assert_eq!(busy["data"]["flags"], 64, "ephemeral: {busy}");
    assert!(content(&busy).contains("busy"), "{busy}");
    let answered = wait_for(&bot.fake, "first answer", |r| {
        r.path.starts_with(&first_callback)
    })
    .await;
    assert!(!answered.body["data"]["embeds"]
        .as_array()
        .unwrap()
        .is_empty());
    // Once its sending is over (a moment after the fake recorded it), the next question
    // is answered.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let next = bot
        .interact(ask("What is Columbus?", None, &Sender::member(ASKER)))
        .await;
    assert!(
        !next["data"]["embeds"].as_array().unwrap().is_empty(),
        "{next}"
    );
    bot.stop().await.unwrap();
}

/// `GET /metrics` from `addr`, as Prometheus would scrape it.
async fn scrape(addr: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    response
}

/// The value of the sample whose name and labels start with `series`.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_endpoint_counts_a_scripted_run() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let extra = format!("[metrics]\nlisten = \"{addr}\"\n");
    let (mut child, log) = spawn_serve(dir.path(), &fake, &extra, "info");
    assert!(
        fake.wait_ready(READY_TIMEOUT).await,
        "the bot never identified"
    );
    // Two answers, the first after a retried callback; one unknown command.
    fake.inject(Route::Callback, Fault::Status(500));
    for _ in 0..2 {
        let interaction = ask("Who built Kibo?", None, &Sender::member(ASKER));
        let (callback, _) = paths(&interaction);
        fake.dispatch(interaction);
        wait_for(&fake, "answer", |r| {
            r.path.starts_with(&callback) && r.fault.is_none()
        })
        .await;
    }
    let unknown = crate::support::fake_discord::command(
        next_id(),
        "launch",
        serde_json::json!([]),
        &Sender::member(ASKER),
    );
    let (callback, _) = paths(&unknown);
    fake.dispatch(unknown);
    wait_for(&fake, "refusal", |r| r.path.starts_with(&callback)).await;
    // The counters are updated just after the last response is sent.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let metrics = scrape(&addr).await;
    terminate(&child);
    exit_of(&mut child, Duration::from_secs(15)).await;
    let log = std::fs::read_to_string(log).unwrap();
    for (series, expected) in [
        (
            "spacecollab_interactions_total{command=\"ask\",outcome=\"answered\"}",
            2.0,
        ),
        (
            "spacecollab_interactions_total{command=\"unknown\",outcome=\"refused\"}",
            1.0,
        ),
        ("spacecollab_discord_retries_total{route=\"callback\"}", 1.0),
        ("spacecollab_answer_seconds_count{command=\"ask\"}", 2.0),
    ] {
        assert_eq!(
            sample(&metrics, series),
            Some(expected),
            "{series}: {metrics}\n{log}"
        );
    }
    assert!(
        sample(&metrics, "spacecollab_index_passages").is_some_and(|n| n > 100.0),
        "{metrics}"
    );
    assert!(
        sample(&metrics, "spacecollab_index_generation").is_some(),
        "{metrics}"
    );
}

/// A callback whose connection drops after Discord took it: the retry is refused as
/// "already acknowledged", which means the first got through, so the answer goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_retry_refused_as_already_acknowledged_counts_as_delivered() {
    let bot = start(&bundled_corpus(), |c| c.discord.defer_after_ms = 0).await;
    bot.fake.inject(Route::Callback, Fault::Drop);
    bot.fake.inject(
        Route::Callback,
        Fault::Answer(
            400,
            serde_json::json!({ "message": "Interaction has already been acknowledged.", "code": 40060 }),
        ),
    );
    let interaction = ask("Who built Kibo?", None, &Sender::member(ASKER));
    let (_, edit) = paths(&interaction);
    bot.fake.dispatch(interaction);
    let answer = wait_for(&bot.fake, "edit", |r| r.path == edit && r.fault.is_none()).await;
    assert!(
        !answer.body["embeds"].as_array().unwrap().is_empty(),
        "{}",
        answer.body
    );
    bot.stop().await.unwrap();
}

// The gateway misbehaving as Discord does. What serenity 0.12.5 does after each (read in
// `gateway/shard.rs` and `gateway/bridge/shard_runner.rs`, and seen here): op 7, a close
// with 4000 and a connection dropped without a close frame are all followed by a RESUME
// (op 6) on a new connection, at once, as long as the shard has a session; op 9 with
// d=false and a zombied connection (a heartbeat left unacknowledged) are followed by a
// restart of the shard, which IDENTIFYs (op 2) afresh, no sooner than 5 s after the
// previous shard started (`WAIT_BETWEEN_BOOTS_IN_SECONDS` in `shard_queuer.rs`).

/// How long a reconnection may take: serenity's 5 s between shard starts, and slack.
const RECONNECT_TIMEOUT: Duration = Duration::from_secs(12);
/// The heartbeat interval the fake's HELLO asks for, so that a zombie shows in seconds.
const HEARTBEAT: Duration = Duration::from_millis(300);

/// A bot on the bundled corpus whose gateway asks for a heartbeat every [`HEARTBEAT`],
/// checked to answer an /ask.
async fn gateway_bot() -> crate::support::bot::RunningBot {
    let fake = FakeDiscord::start().await;
    fake.set_heartbeat_interval(HEARTBEAT);
    let bot = start_on(fake, &bundled_corpus(), |_| {}).await;
    answers_an_ask(&bot).await;
    bot
}

/// Sends an /ask and checks that it gets an answer (or a deferral) within 10 s.
async fn answers_an_ask(bot: &crate::support::bot::RunningBot) {
    let body = tokio::time::timeout(
        Duration::from_secs(10),
        bot.interact(ask("What is Kibo?", None, &Sender::member(ASKER))),
    )
    .await
    .expect("the /ask is answered within 10 s");
    assert!(matches!(body["type"].as_u64(), Some(4 | 5)), "{body}");
}

/// Makes the open connection misbehave, waits for the next handshake (the second in
/// all), and checks that an /ask is answered on the new connection.
async fn reconnects_after(fault: GatewayFault) -> Vec<Handshake> {
    let bot = gateway_bot().await;
    assert!(bot.fake.misbehave(fault), "no connection to misbehave on");
    let handshakes = bot.fake.handshakes(2, RECONNECT_TIMEOUT).await;
    assert_eq!(
        handshakes.len(),
        2,
        "the bot did not reconnect after {fault:?}"
    );
    answers_an_ask(&bot).await;
    bot.stop().await.unwrap();
    handshakes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_op_7_reconnect_the_bot_resumes_and_answers() {
    let handshakes = reconnects_after(GatewayFault::Reconnect).await;
    assert_eq!(handshakes[0].op, 2, "{handshakes:?}");
    // serenity turns op 7 into `ReconnectType::Resume`: a RESUME with the last sequence,
    // at the `resume_gateway_url` READY gave rather than the first address.
    assert_eq!(handshakes[1].op, 6, "{handshakes:?}");
    assert!(handshakes[1].seq.is_some_and(|s| s > 0), "{handshakes:?}");
    assert!(handshakes[1].at - handshakes[0].at < RECONNECT_TIMEOUT);
    assert_ne!(handshakes[0].url, handshakes[1].url, "{handshakes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_close_with_4000_the_bot_resumes_and_answers() {
    let handshakes = reconnects_after(GatewayFault::Close(4000)).await;
    // 4000 is an unknown, unclean close to serenity, which resumes when it has a session.
    assert_eq!(handshakes[1].op, 6, "{handshakes:?}");
    assert!(handshakes[1].seq.is_some_and(|s| s > 0), "{handshakes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_connection_dropped_without_a_close_frame_the_bot_resumes_and_answers() {
    let handshakes = reconnects_after(GatewayFault::Drop).await;
    // The websocket error is an auto-reconnect to serenity, a resume with a session.
    assert_eq!(handshakes[1].op, 6, "{handshakes:?}");
    assert!(handshakes[1].seq.is_some_and(|s| s > 0), "{handshakes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_op_9_twice_in_a_row_the_bot_identifies_afresh_and_answers() {
    let bot = gateway_bot().await;
    // The op 9 now, and another in answer to the IDENTIFY that follows it.
    bot.fake.invalidate_next_handshakes(1);
    assert!(bot.fake.misbehave(GatewayFault::InvalidSession));
    let handshakes = bot.fake.handshakes(3, 2 * RECONNECT_TIMEOUT).await;
    let ops: Vec<u64> = handshakes.iter().map(|h| h.op).collect();
    let invalidated: Vec<bool> = handshakes.iter().map(|h| h.invalidated).collect();
    // d=false is `ReconnectType::Reidentify` to serenity: it restarts the shard, which
    // IDENTIFYs on a new connection, never RESUMEs.
    assert_eq!(ops, [2, 2, 2], "{handshakes:?}");
    assert_eq!(invalidated, [false, true, false], "{handshakes:?}");
    // serenity starts a shard no sooner than 5 s after the previous one started, which
    // is the only wait after an op 9 (Discord asks for 1–5 s).
    let gap = handshakes[2].at - handshakes[1].at;
    assert!(gap >= Duration::from_secs(4), "re-identified after {gap:?}");
    answers_an_ask(&bot).await;
    bot.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_heartbeats_go_unacknowledged_the_bot_reconnects_and_answers() {
    let bot = gateway_bot().await;
    let before = bot.fake.heartbeats();
    let stopped = Instant::now();
    assert!(bot.fake.misbehave(GatewayFault::StopAcks));
    let handshakes = bot.fake.handshakes(2, RECONNECT_TIMEOUT).await;
    assert_eq!(handshakes.len(), 2, "the bot kept the zombied connection");
    // It noticed by a heartbeat sent and not acknowledged, one interval or more later.
    assert!(
        bot.fake.heartbeats() > before,
        "no heartbeat after the acks stopped"
    );
    assert!(handshakes[1].at - stopped >= HEARTBEAT);
    // serenity restarts the shard when a heartbeat goes unacknowledged and IDENTIFYs
    // afresh rather than resuming (issue 14, item 3); the zombie ends (seen here without
    // a close frame: the runner has returned when the manager asks it to close with 4000).
    assert_eq!(handshakes[1].op, 2, "{handshakes:?}");
    let ended = bot.fake.close_codes(1, Duration::from_secs(2)).await;
    assert_eq!(ended.len(), 1, "{ended:?}");
    answers_an_ask(&bot).await;
    bot.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watchers_reindexes_are_counted_in_the_metrics() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    std::fs::create_dir_all(&corpus).unwrap();
    std::fs::write(corpus.join("kibo.md"), crate::support::KIBO_MD).unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[corpus]\npath = {corpus:?}\n[index]\npath = \"index\"\nthreads = 1\nwatch = true\n\
             [discord]\napi_base_url = \"{}\"\n[metrics]\nlisten = \"{addr}\"\n",
            fake.api_base
        ),
    )
    .unwrap();
    let log = dir.path().join("bot.log");
    let mut child = serve_command(&config, Some(BOT_TOKEN), "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    assert!(
        fake.wait_ready(READY_TIMEOUT).await,
        "the bot never identified"
    );
    std::fs::write(corpus.join("artemis.md"), crate::support::ARTEMIS_MD).unwrap();
    // The watcher looks every second and waits for three quiet seconds.
    let counted = |metrics: &str| {
        metrics.lines().any(|line| {
            line.starts_with("spacecollab_reindexes_total{")
                && line.contains("trigger=\"watcher\"")
                && line.contains("outcome=\"done\"")
                && line.ends_with(" 1")
        })
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut metrics = scrape(&addr).await;
    while !counted(&metrics) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
        metrics = scrape(&addr).await;
    }
    terminate(&child);
    exit_of(&mut child, Duration::from_secs(15)).await;
    assert!(
        counted(&metrics),
        "{metrics}\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
}
