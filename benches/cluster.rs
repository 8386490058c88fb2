//! The HTTP interactions mode at scale: 1,000 `/ask` interactions, 50 in flight,
//! posted signed to HAProxy in front of three replicas of the release binary sharing
//! one Postgres (`tests/it/support/cluster.rs`), on the bundled corpus; and, in the same
//! run, the same load sent to one replica directly, without the balancer. Three rounds
//! each; throughput, median and p99 of each. Needs `postgresql` and `haproxy` installed
//! (as `.ci/run` does). Run with `cargo bench --bench cluster`. Traffic stays on
//! 127.0.0.1.

#[path = "../tests/it/support/mod.rs"]
pub mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::cluster::{percentile, run_load, Cluster};
use support::fake_discord::{command, next_id, string_option, Sender};
use support::interactions::Interactions;

const INTERACTIONS: usize = 1_000;
const IN_FLIGHT: usize = 50;
const ROUNDS: usize = 3;

fn interactions() -> Vec<Value> {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/questions.jsonl"),
    )
    .expect("the bundled questions");
    let questions: Vec<String> = text
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter_map(|q| q["question"].as_str().map(str::to_string))
        .collect();
    (0..INTERACTIONS)
        .map(|n| {
            command(
                next_id(),
                "ask",
                json!([string_option("question", &questions[n % questions.len()])]),
                &Sender::member(940_000_000_000_000_001 + (n % 20) as u64),
            )
        })
        .collect()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

async fn round(name: &str, endpoint: &Interactions) {
    let load = run_load(endpoint.clone(), interactions(), IN_FLIGHT, None).await;
    let failed = load.answers.values().filter(|(s, _, _)| *s != 200).count();
    let latencies = load.latencies();
    println!(
        "{name:<28} {:>6.0}/s  median {:>6.1} ms  p99 {:>6.1} ms  max {:>6.1} ms  failed {failed}",
        INTERACTIONS as f64 / load.elapsed.as_secs_f64(),
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99)),
        ms(latencies[latencies.len() - 1]),
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let cluster = Cluster::start(&support::bundled_corpus()).await;
        let balancer = cluster.balancer.interactions();
        let direct = cluster.replicas[0].interactions();
        println!(
            "{INTERACTIONS} /ask interactions, {IN_FLIGHT} in flight, bundled corpus ({} replicas, release build)",
            cluster.replicas.len()
        );
        // Warm-up: connections, page cache, the replicas' first questions.
        run_load(balancer.clone(), interactions(), IN_FLIGHT, None).await;
        for _ in 0..ROUNDS {
            round("HAProxy, 3 replicas", &balancer).await;
            round("one replica, no balancer", &direct).await;
        }
    });
}
