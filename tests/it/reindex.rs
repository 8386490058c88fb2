//! Reindexing: incremental updates touch only what changed, queries never fail while
//! generations switch, a killed `spacecollab index` never leaves a broken index, and
//! only one reindex runs at a time.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use spacecollab::answer::{AnswerSettings, Engine};
use spacecollab::reindex::{self, Reindexer};

use crate::support::{module_document as document, write_modules, Fixture};

fn passages(index: &Path) -> usize {
    Engine::open(index, AnswerSettings::default())
        .unwrap()
        .snapshot()
        .passage_count()
}

#[test]
fn incremental_reindex_touches_only_changed_documents() {
    let fixture = Fixture::modules(30);
    let (corpus, index) = (fixture.corpus.clone(), fixture.index.clone());
    let first = reindex::update(&corpus, &index, 1, |_| {}).unwrap();
    assert_eq!((first.written, first.added.len()), (30, 30));

    let unchanged = reindex::update(&corpus, &index, 1, |_| {}).unwrap();
    assert_eq!(unchanged.written, 0);
    assert!(unchanged.incremental);

    std::fs::write(
        corpus.join("doc-0003.md"),
        document("Module 3", "Rewritten: the zeppelin laboratory."),
    )
    .unwrap();
    std::fs::write(
        corpus.join("new.md"),
        document("Brand new", "A quasar observatory shared by partners."),
    )
    .unwrap();
    std::fs::remove_file(corpus.join("doc-0007.md")).unwrap();
    let report = reindex::update(&corpus, &index, 1, |_| {}).unwrap();
    assert_eq!(
        report.written, 2,
        "only the changed and the new document are written"
    );
    assert_eq!(report.added, vec!["Brand new"]);
    assert_eq!(report.changed, vec!["Module 3"]);
    assert_eq!(report.removed, vec!["Module 7"]);
    assert_eq!(report.documents, 30);

    let engine = Engine::open(&index, AnswerSettings::default()).unwrap();
    assert_eq!(engine.search("zeppelin", 0, 5)[0].doc_id, "doc-0003");
    assert_eq!(engine.search("quasar", 0, 5)[0].doc_id, "new");
    assert!(engine
        .search("module 7", 0, 50)
        .iter()
        .all(|h| h.doc_id != "doc-0007"));
    assert_eq!(
        engine.snapshot().stored_passages().len(),
        engine.snapshot().passage_count()
    );

    let full = reindex::rebuild(&corpus, &index, 1, |_| {}).unwrap();
    assert_eq!(full.written, 30);
    assert!(!full.incremental);
}

#[test]
fn old_generations_are_removed_after_a_switch() {
    let fixture = Fixture::modules(5);
    let (corpus, index) = (fixture.corpus.clone(), fixture.index.clone());
    for _ in 0..3 {
        reindex::rebuild(&corpus, &index, 1, |_| {}).unwrap();
    }
    // A crashed build leaves a generation folder behind; the next run removes it.
    std::fs::create_dir_all(index.join("gen-99999999999999999999")).unwrap();
    Reindexer::new(&corpus, &index, 1).clean_up();
    let generations: Vec<_> = std::fs::read_dir(&index)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("gen-"))
        .collect();
    assert_eq!(generations.len(), 1, "{generations:?}");
}

#[test]
fn queries_never_fail_through_reindexes_some_of_which_fail() {
    let fixture = Fixture::modules(40);
    let (corpus, index) = (fixture.corpus.clone(), fixture.index.clone());
    let broken = fixture.path("broken");
    let missing = fixture.path("missing");
    // A corpus whose every file is bad: the reindex must fail and keep the old index.
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("bad.md"), "---\ntitle: [unclosed\n---\nBody").unwrap();
    reindex::rebuild(&corpus, &index, 1, |_| {}).unwrap();

    let engine = Arc::new(Engine::open(&index, AnswerSettings::default()).unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let (asked, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let askers: Vec<_> = (0..2)
        .map(|_| {
            let (engine, stop, asked, failed) =
                (engine.clone(), stop.clone(), asked.clone(), failed.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let answer = engine.ask(
                        "Which agency built the station module for joint research?",
                        None,
                    );
                    asked.fetch_add(1, Ordering::SeqCst);
                    if !answer.answered || answer.passages.is_empty() {
                        failed.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();

    let mut failures = 0;
    let mut outcomes = Vec::new();
    for round in 0..10 {
        let source: &PathBuf = match round % 3 {
            1 => &broken,
            2 => &missing,
            _ => &corpus,
        };
        if round % 3 == 0 {
            std::fs::write(
                corpus.join(format!("extra-{round}.md")),
                document(&format!("Extra {round}"), "More joint research."),
            )
            .unwrap();
        }
        let result = if round % 2 == 0 {
            reindex::update(source, &index, 1, |_| {})
        } else {
            reindex::rebuild(source, &index, 1, |_| {})
        };
        match result {
            Ok(_) => {
                engine.reload().unwrap();
                outcomes.push(format!("round {round}: ok"));
            }
            Err(error) => {
                failures += 1;
                outcomes.push(format!("round {round}: {error}"));
            }
        }
    }
    stop.store(true, Ordering::SeqCst);
    for asker in askers {
        asker.join().unwrap();
    }
    assert_eq!(failures, 6, "only the injected faults fail: {outcomes:#?}");
    assert!(asked.load(Ordering::SeqCst) > 10);
    assert_eq!(
        failed.load(Ordering::SeqCst),
        0,
        "no question failed or went unanswered"
    );
    assert_eq!(engine.snapshot().documents().len(), 44);
}

#[test]
fn a_second_index_command_is_refused_while_one_runs() {
    let fixture = Fixture::modules(3);
    let (corpus, index) = (fixture.corpus.clone(), fixture.index.clone());
    let holder = Reindexer::new(&corpus, &index, 1);
    let _ticket = holder.try_start("alice on Discord").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_spacecollab"))
        .args(["index", "--corpus"])
        .arg(&corpus)
        .arg("--index")
        .arg(&index)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("a reindex is already running (started by alice on Discord, 0% done)"),
        "{stderr}"
    );
}

/// Kills `spacecollab index` at random moments; the index must always open afterwards
/// with either the old or the new content.
#[test]
fn a_killed_index_command_leaves_the_old_or_the_new_index() {
    let fixture = Fixture::modules(50);
    let (small, index) = (fixture.corpus.clone(), fixture.index.clone());
    let large = fixture.path("large");
    write_modules(&large, 1_500);
    reindex::rebuild(&small, &index, 1, |_| {}).unwrap();
    let old = passages(&index);
    let new = {
        let scratch = fixture.path("scratch");
        reindex::rebuild(&large, &scratch, 1, |_| {}).unwrap();
        passages(&scratch)
    };
    assert_ne!(old, new);

    // A cheap deterministic sequence of delays spread over the length of a build.
    let mut seed: u64 = 0x5EED;
    let mut saw = (0, 0);
    for _ in 0..20 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let delay = Duration::from_millis(20 + (seed >> 33) % 600);
        let source = if seed & 1 == 0 { &large } else { &small };
        let mut child = Command::new(env!("CARGO_BIN_EXE_spacecollab"))
            .args(["index", "--full", "--corpus"])
            .arg(source)
            .arg("--index")
            .arg(&index)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let count = passages(&index);
        assert!(
            count == old || count == new,
            "after a kill the index holds {count} passages"
        );
        if count == old {
            saw.0 += 1;
        } else {
            saw.1 += 1;
        }
    }
    // The next reindex is never blocked by what the killed ones left.
    reindex::rebuild(&small, &index, 1, |_| {}).unwrap();
    assert_eq!(passages(&index), old);
    eprintln!(
        "after 20 kills: {} times the old index, {} times the new one",
        saw.0, saw.1
    );
}

#[test]
fn builds_of_a_small_index_leave_one_segment() {
    let fixture = Fixture::modules(400);
    let (corpus, index) = (fixture.corpus.clone(), fixture.index.clone());
    let segments = |index: &Path| {
        Engine::open(index, AnswerSettings::default())
            .unwrap()
            .snapshot()
            .segment_count()
    };
    reindex::rebuild(&corpus, &index, 2, |_| {}).unwrap();
    assert_eq!(segments(&index), 1, "a full build on two threads");
    write_modules(&corpus, 420);
    reindex::update(&corpus, &index, 1, |_| {}).unwrap();
    assert_eq!(segments(&index), 1, "an incremental build");
    assert_eq!(passages(&index), 420);
}
