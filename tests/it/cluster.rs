//! Past one machine, on real parts: Postgres, three replicas of the binary in the HTTP
//! interactions mode and HAProxy in front of them (`support::cluster`), with Discord's
//! side played by signed POSTs to the balancer. Every interaction is answered exactly
//! once while a replica is killed and restarted; a reindex reaches every replica; a
//! button made by one replica works on another; forged and malformed requests are
//! refused before the engine.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ed25519_dalek::SigningKey;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::sync::Notify;

use crate::support::cluster::{percentile, run_load, Cluster, Replica};
use crate::support::fake_discord::{button, command, next_id, string_option, Sender};
use crate::support::interactions::now;
use crate::support::{bundled_corpus, servers_installed};

/// Interactions sent in the load run, and how many at once.
const INTERACTIONS: usize = 1_000;
const IN_FLIGHT: usize = 50;
/// Every replica must serve a new generation this soon after a reindex is asked for.
const CONVERGENCE: Duration = Duration::from_secs(10);

/// An admin of the test server (Manage Server).
fn admin() -> Sender {
    Sender::Member {
        user_id: 940_000_000_000_000_077,
        permissions: Some(1 << 5),
        roles: Vec::new(),
    }
}

fn ask(question: &str) -> Value {
    command(
        next_id(),
        "ask",
        json!([string_option("question", question)]),
        &Sender::member(940_000_000_000_000_001),
    )
}

/// The bundled questions, to vary what the load asks.
fn questions() -> Vec<String> {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/questions.jsonl"),
    )
    .expect("the bundled questions");
    text.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter_map(|q| q["question"].as_str().map(str::to_string))
        .collect()
}

/// A pseudo-random number from the clock: which request the replica dies at. Printed,
/// so that a failing run can be read back.
fn seed() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(7, |d| d.subsec_nanos() as u64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_behind_haproxy_answer_every_interaction_once() {
    if !servers_installed(
        "three_replicas_behind_haproxy_answer_every_interaction_once",
        true,
    ) {
        return;
    }
    let mut cluster = Cluster::start(&bundled_corpus()).await;
    let balancer = cluster.balancer.interactions();

    // --- 1,000 interactions, 50 in flight; replica 2 is killed and restarted at a
    // random moment.
    let questions = questions();
    let interactions: Vec<Value> = (0..INTERACTIONS)
        .map(|n| ask(&questions[n % questions.len()]))
        .collect();
    let kill_at = 100 + (seed() % 500) as usize;
    eprintln!("cluster: replica2 is killed after {kill_at} answers");
    let killed = Arc::new(Notify::new());
    let load = tokio::spawn(run_load(
        balancer.clone(),
        interactions,
        IN_FLIGHT,
        Some((kill_at, Arc::clone(&killed))),
    ));
    // With requests still in flight to every replica.
    killed.notified().await;
    // SIGKILL, then start again on the same port and index.
    cluster.replicas[1].restart();
    let load = load.await.expect("the load run panicked");
    let answers = &load.answers;
    assert_eq!(answers.len(), INTERACTIONS);
    let mut deferred = 0;
    for (id, (status, body, _)) in answers.iter() {
        assert_eq!(
            *status,
            200,
            "interaction {id} was lost: {body}\n{}",
            cluster.logs()
        );
        match body["type"].as_u64() {
            Some(4) => {}
            Some(5) => deferred += 1,
            other => panic!("interaction {id} got type {other:?}: {body}"),
        }
    }
    // A deferred answer is edited in once; nothing is ever sent as a second callback.
    for request in cluster.fake.requests() {
        assert!(!request.path.contains("/callback"), "{}", request.path);
    }
    let edits = cluster
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .count();
    assert_eq!(edits, deferred, "one edit per deferred answer");
    let latencies = load.latencies();
    eprintln!(
        "cluster: {INTERACTIONS} interactions, {IN_FLIGHT} in flight, through HAProxy to {} replicas (debug build): \
         {:.0}/s, median {:.1} ms, p99 {:.1} ms, max {:.1} ms; {deferred} deferred",
        cluster.replicas.len(),
        INTERACTIONS as f64 / load.elapsed.as_secs_f64(),
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies[latencies.len() - 1].as_secs_f64() * 1e3,
    );
    cluster.replicas[1].wait_ready().await;

    // --- A button from replica 1's /search works on replica 3.
    let searcher = Sender::member(940_000_000_000_000_005);
    let search = command(
        next_id(),
        "search",
        json!([string_option("query", "space station")]),
        &searcher,
    );
    let first = cluster.replicas[0].interactions().post(&search).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let next = first.body["data"]["components"][0]["components"][1]["custom_id"]
        .as_str()
        .expect("a ▶ button")
        .to_string();
    let turned = cluster.replicas[2]
        .interactions()
        .post(&button(next_id(), &next, &searcher))
        .await;
    assert_eq!(turned.body["type"], 7, "{}", turned.body);
    assert!(turned.body["data"]["embeds"][0]["footer"]["text"]
        .as_str()
        .unwrap()
        .starts_with("Page 2 of"));

    // --- Forged, replayed, oversized, wrong-method and malformed requests through the
    // balancer: each refused, none answered by the engine. (Records of earlier answers
    // are written through a queue: let it empty first.)
    tokio::time::sleep(Duration::from_secs(1)).await;
    let recorded = cluster.questions_recorded().await;
    let body = serde_json::to_vec(&ask("Who built Kibo?")).unwrap();
    let json = "application/json";
    let forger = SigningKey::from_bytes(&[0x22; 32]);
    let refusals = [
        (
            balancer.post_raw(body.clone(), now(), &forger, json).await,
            401,
        ),
        (
            balancer
                .post_raw(body.clone(), now() - 600, balancer.key(), json)
                .await,
            401,
        ),
        (balancer.unsigned(Method::POST, body.clone()).await, 401),
        (balancer.unsigned(Method::GET, Vec::new()).await, 405),
        (
            balancer
                .post_raw(b"{\"type\":".to_vec(), now(), balancer.key(), json)
                .await,
            400,
        ),
    ];
    for (n, (answer, status)) in refusals.iter().enumerate() {
        assert_eq!(answer.status, *status, "refusal {n}: {:?}", answer.body);
    }
    assert_eq!(
        balancer.post_oversized(1024 * 1024).await,
        413,
        "a 1 MB body"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        cluster.questions_recorded().await,
        recorded,
        "a refused request was answered"
    );

    // --- /reindex through the balancer: a second one meanwhile is told one is
    // running, and every replica serves the new generation within 10 seconds.
    std::fs::write(
        cluster.corpus.join("zyxtrelion.md"),
        "---\ntitle: The Zyxtrelion relay\nsummary: A test document added while the cluster runs.\n---\n\
         # The Zyxtrelion relay\n\nThe Zyxtrelion relay is a communications satellite shared by three \
         agencies, added to the corpus while the replicas were serving, to show a reindex reaching all of them.\n",
    )
    .unwrap();
    let asked = Instant::now();
    let reindex = |full: bool| {
        command(
            next_id(),
            "reindex",
            json!([{ "name": "full", "type": 5, "value": full }]),
            &admin(),
        )
    };
    let (first, second) = (reindex(false), reindex(false));
    let (one, two) = tokio::join!(balancer.post(&first), balancer.post(&second));
    let (winner, loser) = if one.body["type"] == 5 {
        (one, two)
    } else {
        (two, one)
    };
    assert_eq!(winner.body["type"], 5, "{}", winner.body);
    assert_eq!(loser.body["type"], 4, "{}", loser.body);
    let refusal = loser.body["data"]["content"].as_str().unwrap_or_default();
    assert!(
        refusal.contains("already running") && refusal.contains("on replica"),
        "{refusal}"
    );
    let summary = cluster
        .fake
        .wait_for(CONVERGENCE, |r| {
            r.method == "PATCH" && r.body.to_string().contains("Reindex done")
        })
        .await
        .expect("the reindex summary is edited in");
    assert!(
        summary
            .body
            .to_string()
            .contains("Added (1): The Zyxtrelion relay"),
        "{}",
        summary.body
    );
    for replica in &cluster.replicas {
        serves_title(
            replica,
            "What is the Zyxtrelion relay?",
            "The Zyxtrelion relay",
            asked,
            &cluster,
        )
        .await;
    }
    eprintln!(
        "cluster: every replica served the new generation {:.1} s after /reindex",
        asked.elapsed().as_secs_f64()
    );

    // --- A replica that was down catches up when it starts; `spacecollab index` run
    // anywhere against the shared corpus (here, into an index of its own) brings the
    // running replicas along.
    cluster.replicas[2].kill();
    std::fs::write(
        cluster.corpus.join("quorvanth.md"),
        "---\ntitle: The Quorvanth beacon\nsummary: A second test document.\n---\n\
         # The Quorvanth beacon\n\nThe Quorvanth beacon is a navigation aid that two agencies \
         placed in lunar orbit, added while one replica was down.\n",
    )
    .unwrap();
    let outside = tempfile::tempdir().unwrap();
    let asked = Instant::now();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_spacecollab"))
        .arg("--config")
        .arg(&cluster.config)
        .arg("index")
        .arg("--index")
        .arg(outside.path().join("index"))
        .env("SPACECOLLAB_REPLICA", "an admin's laptop")
        .status()
        .expect("run spacecollab index");
    assert!(status.success());
    for replica in &cluster.replicas[..2] {
        serves_title(
            replica,
            "Where is the Quorvanth beacon?",
            "The Quorvanth beacon",
            asked,
            &cluster,
        )
        .await;
    }
    cluster.replicas[2].restart();
    cluster.replicas[2].wait_ready().await;
    serves_title(
        &cluster.replicas[2],
        "Where is the Quorvanth beacon?",
        "The Quorvanth beacon",
        Instant::now(),
        &cluster,
    )
    .await;
}

/// Waits until `replica` answers `question` with a passage of the document `title`,
/// failing if that takes longer than [`CONVERGENCE`] from `since`.
async fn serves_title(
    replica: &Replica,
    question: &str,
    title: &str,
    since: Instant,
    cluster: &Cluster,
) {
    let endpoint = replica.interactions();
    loop {
        let answer = endpoint.post(&ask(question)).await;
        // The document's own title, not the question echoed in a "nothing found".
        let shown = answer.body["data"]["embeds"][0]["title"]
            .as_str()
            .unwrap_or_default();
        if shown.contains(title) {
            return;
        }
        assert!(
            since.elapsed() < CONVERGENCE,
            "{} did not serve {title:?} within {CONVERGENCE:?}\n{}",
            replica.name,
            cluster.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

impl Cluster {
    /// Questions the shared database holds for the last day.
    async fn questions_recorded(&self) -> u64 {
        let database = spacecollab::insights::Database::Postgres(self.postgres.url.clone());
        let store = spacecollab::insights::Store::connect(&database)
            .await
            .expect("connect to the cluster's database");
        store.report(1, &[]).await.expect("a report").questions
    }
}
