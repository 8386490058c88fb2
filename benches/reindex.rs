//! Reindex speed: an incremental reindex after one changed document of the bundled
//! corpus, and a full reindex of ../shared/data/wikipedia-space/articles.
//! Run with `cargo bench --bench reindex`.

#[path = "../tests/it/support/mod.rs"]
pub mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use spacecollab::reindex;
use support::Fixture;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let fixture = Fixture::bundled();
    let (corpus, index) = (&fixture.corpus, &fixture.index);
    let first = reindex::rebuild(corpus, index, threads, |_| {}).unwrap();
    let changed = corpus.join("iss-kibo.md");
    let original = std::fs::read_to_string(&changed).unwrap();
    let mut samples = Vec::new();
    for run in 0..10 {
        std::fs::write(
            &changed,
            format!("{original}\n\n## Bench {run}\n\nA changed paragraph, run {run}.\n"),
        )
        .unwrap();
        let started = Instant::now();
        let report = reindex::update(corpus, index, threads, |_| {}).unwrap();
        samples.push(started.elapsed());
        assert_eq!(report.written, 1);
    }
    let max = *samples.iter().max().unwrap();
    println!(
        "incremental reindex, one changed document of the bundled corpus ({} documents, {} passages): median {:.0} ms, max {:.0} ms over 10 runs",
        first.documents,
        first.passages,
        median(samples).as_secs_f64() * 1000.0,
        max.as_secs_f64() * 1000.0
    );

    let articles =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/wikipedia-space/articles");
    if !articles.is_dir() {
        println!(
            "full reindex of the Wikipedia articles: skipped, {} not found",
            articles.display()
        );
        return;
    }
    let mut samples = Vec::new();
    let mut last = None;
    for run in 0..3 {
        let index = fixture.path(&format!("wiki-{run}"));
        let started = Instant::now();
        last = Some(reindex::rebuild(&articles, &index, threads, |_| {}).unwrap());
        samples.push(started.elapsed());
    }
    let report = last.unwrap();
    println!(
        "full reindex of wikipedia-space/articles ({} documents, {} passages, {:.1} MB, {threads} threads): median {:.2} s over 3 runs",
        report.documents,
        report.passages,
        report.bytes as f64 / 1e6,
        median(samples).as_secs_f64()
    );
}
