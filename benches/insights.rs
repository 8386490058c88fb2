//! The insights report over a big database: 1,000,000 recorded questions spread over
//! 90 days (70% answered, 5,000 distinct unanswered term groups, three passages each,
//! 10,000 votes with notes), then `/insights`'s query for the last 7 and the last 90
//! days, timed 30 times each. Target: under a second.
//! Run with `cargo bench --bench insights`.

use std::time::{Duration, Instant};

use spacecollab::index::DocumentInfo;
use spacecollab::insights::{first_answer_id_at, now_ms, Store};
use sqlx::Connection;

const QUESTIONS: i64 = 1_000_000;
const DAYS: i64 = 90;
const SAMPLES: usize = 30;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank]
}

fn document(n: usize) -> DocumentInfo {
    DocumentInfo {
        id: format!("doc-{n}"),
        title: format!("Document {n}"),
        summary: None,
        sources: Vec::new(),
        agencies: Vec::new(),
        tags: Vec::new(),
        path: String::new(),
        hash: String::new(),
        passages: 10,
    }
}

/// Fills the database in SQLite itself (a recursive count), so that the fill takes
/// seconds rather than the minutes a million separate inserts would.
async fn fill(path: &std::path::Path) {
    let url = format!("sqlite://{}", path.display());
    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let start_ms = now_ms() - DAYS * 86_400_000;
    let step_ms = DAYS * 86_400_000 / QUESTIONS;
    let first_id = first_answer_id_at(start_ms);
    let statements = [
        format!(
            "INSERT INTO questions (id, asked_at, command, guild_id, channel_id, asker, question, terms_key, answered, suggestion, latency_us)
             WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {QUESTIONS} - 1)
             SELECT {first_id} + ((i * {step_ms}) << 16) + (i & 65535), {start_ms} + i * {step_ms}, 'ask', 1, 2,
                    printf('%064x', i % 20000), 'Question number ' || i || ' about topic ' || (i * 7919 % 5000),
                    'topic' || (i * 7919 % 5000), (i % 10) < 7, NULL, 500 + i % 1000
             FROM n"
        ),
        // Three passages a question; 60 of the 80 documents are ever shown.
        "INSERT INTO question_hits (question_id, rank, doc_id, section, score)
         SELECT id, r.rank, 'doc-' || ((id % 60 + r.rank) % 60), 'Section', 10.0 - r.rank
         FROM questions, (SELECT 0 AS rank UNION ALL SELECT 1 UNION ALL SELECT 2) AS r"
            .to_string(),
        "INSERT INTO votes (question_id, voter, vote, note, voted_at)
         SELECT id, 'voter' || (id % 97), CASE WHEN id % 3 = 0 THEN 1 ELSE -1 END,
                CASE WHEN id % 3 = 0 THEN NULL ELSE 'It answers another question' END, asked_at
         FROM questions WHERE id % 100 = 0"
            .to_string(),
    ];
    for statement in statements {
        sqlx::query(&statement).execute(&mut db).await.unwrap();
    }
    db.close().await.unwrap();
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        // SPACECOLLAB_BENCH_DB=FILE keeps the filled database there (and reuses it).
        let path = std::env::var_os("SPACECOLLAB_BENCH_DB")
            .map_or_else(|| dir.path().join("insights.sqlite"), Into::into);
        let reuse = path.exists();
        Store::open(&path).await.unwrap().close().await;
        let started = Instant::now();
        if !reuse {
            fill(&path).await;
        }
        let size = std::fs::metadata(&path).map_or(0, |m| m.len());
        println!(
            "filled {QUESTIONS} questions over {DAYS} days in {:.1} s ({:.0} MB)",
            started.elapsed().as_secs_f64(),
            size as f64 / 1e6
        );
        let store = Store::open(&path).await.unwrap();
        let documents: Vec<DocumentInfo> = (0..80).map(document).collect();
        for days in [7, 90] {
            let mut samples = Vec::with_capacity(SAMPLES);
            let mut report = None;
            for _ in 0..SAMPLES {
                let started = Instant::now();
                report = Some(store.report(days, &documents).await.unwrap());
                samples.push(started.elapsed());
            }
            samples.sort();
            let report = report.unwrap();
            println!(
                "insights, last {days} days ({} questions, {} unanswered groups shown, {} never shown): median {:.0} ms, p99 {:.0} ms, max {:.0} ms",
                report.questions,
                report.unanswered.len(),
                report.never_shown.len(),
                percentile(&samples, 0.5).as_secs_f64() * 1000.0,
                percentile(&samples, 0.99).as_secs_f64() * 1000.0,
                samples[samples.len() - 1].as_secs_f64() * 1000.0
            );
        }
        store.close().await;
    });
}
