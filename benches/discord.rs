//! Bot latency with 50 interactions in flight, on the bundled corpus, measured twice:
//! by the bot (its handler's own "interaction handled" figure: interaction received to
//! callback sent and acknowledged) and end to end by the fake Discord (INTERACTION_CREATE
//! written to the gateway socket to callback received), which adds the gateway, the
//! HTTP round trip and the fake's own work on the same two cores.
//! Run with `cargo bench --bench discord`. Traffic stays on 127.0.0.1. Questions are
//! recorded for insights as in a default bot; `SPACECOLLAB_BENCH_INSIGHTS=off` turns
//! recording off, to compare.

#[path = "../tests/it/support/mod.rs"]
pub mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use support::fake_discord::{command, next_id, string_option, Sender};

const IN_FLIGHT: usize = 50;
const ROUNDS: usize = 20;
const QUESTIONS: &[&str] = &[
    "Which agencies operate the International Space Station?",
    "Who built the Kibo laboratory?",
    "When did the first crew arrive on the ISS?",
    "What does the Outer Space Treaty forbid?",
    "Which countries signed the Artemis Accords first?",
    "What did ESA build for Orion?",
    "Who built Canadarm2?",
    "What was the Apollo-Soyuz Test Project?",
    "How do I bake bread?",
    "Which instruments did Chandrayaan-1 carry from other countries?",
];

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Collects the `elapsed_us` of the bot's "interaction handled" events.
#[derive(Clone, Default)]
struct HandledLatencies(Arc<Mutex<Vec<Duration>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for HandledLatencies {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Elapsed(Option<u64>);
        impl tracing::field::Visit for Elapsed {
            fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
                if field.name() == "elapsed_us" {
                    self.0 = Some(value);
                }
            }
            fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
        }
        let mut elapsed = Elapsed(None);
        event.record(&mut elapsed);
        if let Some(us) = elapsed.0 {
            self.0.lock().unwrap().push(Duration::from_micros(us));
        }
    }
}

fn main() {
    use tracing_subscriber::layer::SubscriberExt;
    let handled = HandledLatencies::default();
    let only_the_handler = tracing_subscriber::filter::Targets::new()
        .with_target("spacecollab::discord::gateway", tracing::Level::DEBUG);
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(
        tracing_subscriber::Layer::with_filter(handled.clone(), only_the_handler),
    ))
    .unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let recording = std::env::var("SPACECOLLAB_BENCH_INSIGHTS").as_deref() != Ok("off");
        let bot = support::bot::start(&support::bundled_corpus(), |c| {
            c.insights.enabled = recording;
        })
        .await;
        let (fake, engine, report) = (&bot.fake, &bot.engine, &bot.report);
        // The engine's own share of each interaction, for comparison.
        let mut asks: Vec<Duration> = (0..500)
            .map(|i| {
                let started = Instant::now();
                engine.ask(QUESTIONS[i % QUESTIONS.len()], None);
                started.elapsed()
            })
            .collect();
        asks.sort();

        let send = |question: &str| {
            let interaction = command(
                next_id(),
                "ask",
                json!([string_option("question", question)]),
                &Sender::member(940_000_000_000_000_001),
            );
            let id: u64 = interaction["id"].as_str().unwrap().parse().unwrap();
            fake.dispatch(interaction);
            id
        };
        // Warm-up, not measured.
        for question in QUESTIONS {
            let id = send(question);
            fake.callback(id).await;
        }
        let mut expected = fake.requests().len();
        // The handler logs after its callback is acknowledged: let the last one land.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let warmed = fake.latencies().len();
        let warmed_in_bot = handled.0.lock().unwrap().len();

        let started = Instant::now();
        for round in 0..ROUNDS {
            for i in 0..IN_FLIGHT {
                send(QUESTIONS[(round + i) % QUESTIONS.len()]);
            }
            // One callback each (answers come in time, so nothing is deferred and edited).
            expected += IN_FLIGHT;
            assert!(
                fake.wait_for_requests(expected, Duration::from_secs(20)).await,
                "round {round}: callbacks missing"
            );
        }
        let elapsed = started.elapsed();
        let mut latencies: Vec<Duration> = fake.latencies().into_iter().skip(warmed).collect();
        latencies.sort();
        let mut in_bot: Vec<Duration> = handled.0.lock().unwrap().split_off(warmed_in_bot);
        in_bot.sort();

        println!(
            "bot latency, {IN_FLIGHT} interactions in flight (fake Discord on 127.0.0.1), insights recording {}",
            if recording { "on" } else { "off" }
        );
        println!(
            "corpus: {} documents, {} passages; {} interactions, {:.0} interactions/s",
            report.documents,
            report.passages,
            latencies.len(),
            latencies.len() as f64 / elapsed.as_secs_f64()
        );
        println!(
            "engine.ask alone:                            median {:.2} ms | p99 {:.2} ms",
            ms(percentile(&asks, 0.5)),
            ms(percentile(&asks, 0.99))
        );
        for (name, sorted) in [
            ("in the bot (received -> callback sent)", &in_bot),
            ("end to end (gateway sent -> callback received)", &latencies),
        ] {
            println!(
                "{name:<46} median {:.2} ms | p90 {:.2} ms | p99 {:.2} ms | max {:.2} ms ({} measured)",
                ms(percentile(sorted, 0.5)),
                ms(percentile(sorted, 0.9)),
                ms(percentile(sorted, 0.99)),
                ms(*sorted.last().unwrap()),
                sorted.len()
            );
        }
        bot.stop().await.unwrap();
    });
}
