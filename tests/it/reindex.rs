//! Reindexing: incremental updates touch only what changed, queries never fail while
//! generations switch, a killed `spacecollab index` never leaves a broken index, a crash
//! at any step of a build leaves a working one, only one reindex runs at a time, and a
//! running engine follows generations and corpus edits.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use spacecollab::answer::{AnswerSettings, Engine};
use spacecollab::index::CrashPoint;
use spacecollab::reindex::{self, Reindexer};
use spacecollab::watch::{self, Timing};

use crate::support::{module_document as document, write_modules, Fixture, GOOD_DOCUMENTS};

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

/// A document the fixture lacks, and a word only it holds.
const NEW_FILE: &str = "quasar-observatory.md";
const NEW_WORD: &str = "quasar";

fn add_new_document(corpus: &Path) {
    std::fs::write(
        corpus.join(NEW_FILE),
        document(
            "Quasar observatory",
            "A quasar observatory shared by partner agencies.",
        ),
    )
    .unwrap();
}

/// Whether the engine finds the document [`add_new_document`] writes.
fn knows_new_document(engine: &Engine) -> bool {
    engine
        .search(NEW_WORD, 0, 5)
        .iter()
        .any(|hit| hit.doc_id == "quasar-observatory")
}

/// Whether the engine answers a question on the fixture's Kibo document with it.
fn answers_about_kibo(engine: &Engine) -> bool {
    let answer = engine.ask("Who built the Kibo laboratory module?", None);
    answer.answered && answer.passages.first().map(|h| h.doc_id.as_str()) == Some("iss/kibo")
}

fn current_generation(index: &Path) -> String {
    std::fs::read_to_string(index.join("CURRENT"))
        .unwrap()
        .trim()
        .to_string()
}

/// Generation folders other than the one `CURRENT` names, and whether `CURRENT.tmp` exists.
fn leftovers(index: &Path) -> (Vec<String>, bool) {
    let current = current_generation(index);
    let mut stray: Vec<String> = std::fs::read_dir(index)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|name| name.starts_with("gen-") && *name != current)
        .collect();
    stray.sort();
    (stray, index.join("CURRENT.tmp").exists())
}

/// Runs `spacecollab index` and makes it abort (SIGABRT: no destructor runs, nothing is
/// cleaned up, as in a power cut) at each step of a build, or fail its check. After each,
/// the index in service before (or, once `CURRENT` was renamed, the new one) must open
/// and answer; the crash must have left what that step leaves (else the test proves
/// nothing), and the next start must remove it. A real process that really dies is the
/// point: an early return in-process would run destructors and could hide a leftover.
#[test]
fn a_crash_at_each_step_of_a_reindex_leaves_a_working_index() {
    for (point, name) in CrashPoint::ALL {
        let fixture = Fixture::new();
        fixture.build();
        let (corpus, index) = (fixture.corpus.clone(), fixture.index.clone());
        let old_generation = current_generation(&index);
        add_new_document(&corpus);
        let output = Command::new(env!("CARGO_BIN_EXE_spacecollab"))
            .args(["index", "--crash-at", name, "--corpus"])
            .arg(&corpus)
            .arg("--index")
            .arg(&index)
            // Where a core dump would go, were they on: the temp dir, removed after.
            .current_dir(fixture.dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);

        let (stray, pointer_left) = leftovers(&index);
        let new_in_service = point == CrashPoint::AfterRename;
        assert_eq!(
            current_generation(&index) != old_generation,
            new_in_service,
            "{name}: CURRENT moved only by the rename"
        );
        if point == CrashPoint::FailedCheck {
            assert_eq!(output.status.code(), Some(1), "{name}: {stderr}");
            assert!(stderr.contains("failed its check"), "{name}: {stderr}");
            // A failed check is no crash: the build removes its own generation.
            assert_eq!((stray.len(), pointer_left), (0, false), "{name}: {stray:?}");
        } else {
            assert_eq!(
                output.status.signal(),
                Some(6),
                "{name}: the child must die by SIGABRT at the step: {:?} {stderr}",
                output.status
            );
            let pointer_written = matches!(
                point,
                CrashPoint::AfterPointerWrite | CrashPoint::BeforeRename
            );
            // After the rename the stray folder is the old generation; before, the new one.
            assert_eq!(
                (stray.len(), pointer_left),
                (1, pointer_written),
                "{name}: {stray:?}"
            );
            if new_in_service {
                assert_eq!(stray, vec![old_generation.clone()], "{name}");
            }
        }

        let engine = Engine::open(&index, AnswerSettings::default())
            .unwrap_or_else(|e| panic!("{name}: the index does not open: {e}"));
        assert!(answers_about_kibo(&engine), "{name}: no answer");
        assert_eq!(knows_new_document(&engine), new_in_service, "{name}");
        // The manifest is the one of the generation in service, not of the crashed build:
        // it once was rewritten through a hard link the two shared.
        let documents = GOOD_DOCUMENTS + usize::from(new_in_service);
        assert_eq!(engine.snapshot().documents().len(), documents, "{name}");
        assert_eq!(
            engine.snapshot().passage_count(),
            engine.snapshot().stored_passages().len(),
            "{name}"
        );
        drop(engine);

        // What `serve` does at start-up.
        Reindexer::new(&corpus, &index, 1).clean_up();
        assert_eq!(
            leftovers(&index),
            (vec![], false),
            "{name}: leftovers after the next start"
        );
        // And the next reindex is not hindered by what the crash left.
        reindex::update(&corpus, &index, 1, |_| {})
            .unwrap_or_else(|e| panic!("{name}: the next reindex fails: {e}"));
        let engine = Engine::open(&index, AnswerSettings::default()).unwrap();
        assert!(
            answers_about_kibo(&engine) && knows_new_document(&engine),
            "{name}"
        );
    }
}

/// Polls `check` every 10 ms until it holds; panics with `what` after `limit`.
async fn wait_until(limit: Duration, what: &str, mut check: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !check() {
        assert!(started.elapsed() < limit, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    started.elapsed()
}

/// Short enough for the test to take milliseconds; the bot polls every second.
const TEST_POLL: Duration = Duration::from_millis(20);
/// Generous against a loaded machine: the tests wait for success, not for the limit.
const TEST_LIMIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_engine_follows_a_generation_written_by_another_process() {
    let fixture = Fixture::new();
    let engine = Arc::new(fixture.engine());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let follower = tokio::spawn(watch::follow_index(engine.clone(), TEST_POLL, stopped));

    add_new_document(&fixture.corpus);
    assert!(!knows_new_document(&engine), "not before a reindex");
    let (corpus, index) = (fixture.corpus.clone(), fixture.index.clone());
    // The real binary: another process, with its own lock and its own view of the folder.
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_spacecollab"))
            .args(["index", "--corpus"])
            .arg(&corpus)
            .arg("--index")
            .arg(&index)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(output.status.success(), "{output:?}");
    let took = wait_until(TEST_LIMIT, "the new generation is answered", || {
        knows_new_document(&engine)
    })
    .await;
    assert!(answers_about_kibo(&engine));
    stop.send(true).unwrap();
    follower.await.unwrap();
    eprintln!("the follower switched {took:?} after the other process finished");
}

/// Starts the corpus watcher with test timing on a built fixture; returns the engine, the
/// stop switch and the watcher, whose result is the number of reindexes it ran.
async fn watching(
    fixture: &Fixture,
    timing: Timing,
) -> (
    Arc<Engine>,
    tokio::sync::watch::Sender<bool>,
    tokio::task::JoinHandle<usize>,
) {
    let engine = Arc::new(fixture.engine());
    let reindexer = Arc::new(Reindexer::new(&fixture.corpus, &fixture.index, 1));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let watcher = tokio::spawn(watch::watch_corpus(
        reindexer,
        engine.clone(),
        fixture.corpus.clone(),
        timing,
        stopped,
    ));
    // The watcher takes its first fingerprint when the task first runs: an edit made
    // before that would count as the corpus it started with.
    tokio::time::sleep(timing.poll * 5).await;
    (engine, stop, watcher)
}

/// Long enough that the two writes of an edit below land within it even on a busy
/// machine, so they make one change.
const TEST_TIMING: Timing = Timing {
    poll: TEST_POLL,
    quiet: Duration::from_millis(300),
};

/// Waits as long as a second reindex would take to start, then stops the watcher and
/// returns how many reindexes it ran.
async fn reindexes_when_stopped(
    stop: tokio::sync::watch::Sender<bool>,
    watcher: tokio::task::JoinHandle<usize>,
) -> usize {
    tokio::time::sleep(TEST_TIMING.quiet * 2 + TEST_TIMING.poll * 5).await;
    stop.send(true).unwrap();
    watcher.await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_watching_on_a_corpus_edit_is_answered_after_exactly_one_reindex() {
    let fixture = Fixture::new();
    let (engine, stop, watcher) = watching(&fixture, TEST_TIMING).await;
    assert!(!knows_new_document(&engine));
    // An editor that saves in two writes: the first, half a file, must not be indexed
    // on its own.
    std::fs::write(fixture.corpus.join(NEW_FILE), "---\ntitle: \"Quasar").unwrap();
    tokio::time::sleep(TEST_TIMING.poll * 2).await;
    add_new_document(&fixture.corpus);
    wait_until(TEST_LIMIT, "the edit is answered", || {
        knows_new_document(&engine)
    })
    .await;
    assert!(answers_about_kibo(&engine));
    assert_eq!(reindexes_when_stopped(stop, watcher).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_watching_on_a_synonyms_edit_is_answered_after_exactly_one_reindex() {
    let fixture = Fixture::new();
    let synonyms = fixture.corpus.join("synonyms.toml");
    std::fs::write(
        &synonyms,
        "groups = [[\"ISS\", \"International Space Station\"]]\n",
    )
    .unwrap();
    let (engine, stop, watcher) = watching(&fixture, TEST_TIMING).await;
    // "zorblat" is in no document; only the synonym added below leads it to Tsukuba,
    // which only Kibo's operations passage names.
    let finds_tsukuba = |engine: &Engine| {
        engine
            .ask("Where is zorblat?", None)
            .passages
            .first()
            .is_some_and(|hit| hit.text.contains("Tsukuba"))
    };
    assert!(!finds_tsukuba(&engine), "not before the synonym");
    std::fs::write(
        &synonyms,
        "groups = [[\"ISS\", \"International Space Station\"], [\"zorblat\", \"Tsukuba\"]]\n",
    )
    .unwrap();
    wait_until(TEST_LIMIT, "the new synonym is used", || {
        finds_tsukuba(&engine)
    })
    .await;
    assert_eq!(reindexes_when_stopped(stop, watcher).await, 1);
}
