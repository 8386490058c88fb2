//! The insights database: migrations, what it refuses, exact round trips of hostile
//! text, losses counted instead of failed answers, reports and forgetting.

use std::time::Duration;

use spacecollab::index::DocumentInfo;
use spacecollab::insights::{
    self, new_answer_id, terms_key, InsightsError, QuestionRecord, RecordedHit, Recorder, Store,
    Vote,
};

/// A question record with every field set, ids and text included, for round trips.
pub(crate) fn record(question: &str, answered: bool, asker: Option<&str>) -> QuestionRecord {
    QuestionRecord {
        id: new_answer_id(),
        asked_at: insights::now_ms(),
        command: "ask".into(),
        guild_id: Some(u64::MAX - 1),
        channel_id: Some(900_000_000_000_000_002),
        asker: asker.map(str::to_string),
        question: Some(question.to_string()),
        terms_key: terms_key(question),
        answered,
        hits: vec![
            RecordedHit {
                doc_id: "iss-kibo".into(),
                section: "What Kibo is".into(),
                score: 12.5,
            },
            RecordedHit {
                doc_id: "esa".into(),
                section: String::new(),
                score: 3.25,
            },
        ],
        suggestion: Some("Who built Kibo?".into()),
        latency_us: 420,
    }
}

/// A document as the report names it.
pub(crate) fn document(id: &str, title: &str) -> DocumentInfo {
    DocumentInfo {
        id: id.into(),
        title: title.into(),
        summary: None,
        sources: Vec::new(),
        agencies: Vec::new(),
        tags: Vec::new(),
        path: String::new(),
        hash: String::new(),
        passages: 1,
    }
}

#[tokio::test]
async fn migrations_run_on_an_empty_file_and_again_on_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("insights.sqlite");
    std::fs::write(&path, b"").unwrap();
    let store = Store::open(&path).await.unwrap();
    let one = record("Who built Kibo?", true, None);
    store
        .insert_questions(std::slice::from_ref(&one))
        .await
        .unwrap();
    store.close().await;
    let store = Store::open(&path).await.unwrap();
    assert_eq!(store.question(one.id).await.unwrap(), Some(one));
    // WAL mode: readers do not wait for the writer.
    assert!(dir.path().join("insights.sqlite-wal").exists());
}

#[cfg(unix)]
#[tokio::test]
async fn a_new_database_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("insights.sqlite");
    let store = Store::open(&path).await.unwrap();
    store
        .insert_questions(&[record("Who built Kibo?", true, None)])
        .await
        .unwrap();
    for name in ["insights.sqlite", "insights.sqlite-wal"] {
        let mode = std::fs::metadata(dir.path().join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }
}

#[tokio::test]
async fn hostile_text_round_trips_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("data").join("insights.sqlite"))
        .await
        .unwrap();
    let long: String = "Kibo ".repeat(1_200);
    assert_eq!(long.chars().count(), 6_000);
    let texts = [
        "'); DROP TABLE questions; --".to_string(),
        "Robert'); DELETE FROM votes WHERE 1=1; SELECT ('".to_string(),
        "\" OR 1=1 -- ? ?1 :name @x $y".to_string(),
        long,
        "before\0after\0".to_string(),
        "🚀 Who built 国际空间站? 👩‍🚀 \u{202E}reversed\u{202C} e\u{301}".to_string(),
    ];
    let mut ids = Vec::new();
    for text in &texts {
        let mut one = record(text, false, Some(text));
        one.suggestion = Some(text.clone());
        one.hits[0].doc_id = text.clone();
        one.hits[0].section = text.clone();
        store.insert_questions(&[one.clone()]).await.unwrap();
        let voter = format!("{text}-voter");
        store.vote(one.id, &voter, Vote::Down).await.unwrap();
        store.note(one.id, &voter, text).await.unwrap();
        assert_eq!(
            store.note_of(one.id, &voter).await.unwrap().as_deref(),
            Some(text.as_str())
        );
        ids.push(one.id);
        assert_eq!(store.question(one.id).await.unwrap(), Some(one), "{text:?}");
    }
    // The tables are all still there and hold every row.
    let report = store.report(1, &[]).await.unwrap();
    assert_eq!(report.questions, texts.len() as u64);
    assert_eq!(report.down_votes, texts.len() as u64);
    let notes: Vec<&String> = report.disliked.iter().flat_map(|d| &d.notes).collect();
    assert_eq!(
        notes.len(),
        5,
        "the five most disliked answers, each with its note"
    );
    for id in ids {
        assert!(store.question(id).await.unwrap().is_some());
    }
}

#[tokio::test]
async fn a_database_from_a_newer_version_is_refused_with_a_clear_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("insights.sqlite");
    let store = Store::open(&path).await.unwrap();
    store.close().await;
    {
        use sqlx::Connection;
        let url = format!("sqlite://{}", path.display());
        let mut connection = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (99, 'from the future', 1, x'00', 0)",
        )
        .execute(&mut connection)
        .await
        .unwrap();
        connection.close().await.unwrap();
    }
    let error = Store::open(&path).await.unwrap_err();
    assert!(
        matches!(error, InsightsError::Newer { found: 99, .. }),
        "{error}"
    );
    let text = error.to_string();
    assert!(text.contains("insights.sqlite"), "{text}");
    assert!(text.contains("newer version of spacecollab"), "{text}");
}

#[tokio::test]
async fn a_failing_database_costs_records_not_answers() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("insights.sqlite"))
        .await
        .unwrap();
    let (recorder, writer) = Recorder::start(store.clone(), 8);
    recorder.record(record("Who built Kibo?", true, None));
    // The database goes away while the bot serves.
    store.close().await;
    let started = std::time::Instant::now();
    for _ in 0..100 {
        recorder.record(record("Who built Columbus?", true, None));
    }
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "recording never waits: {:?}",
        started.elapsed()
    );
    let losses = recorder.losses();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while losses.total() < 100 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Those the queue had no room for and those the database refused are all counted.
    assert!(losses.total() >= 100, "{}", losses.total());
    drop(recorder);
    assert!(writer.finish(Duration::from_secs(5)).await);
}

#[tokio::test]
async fn recorded_questions_are_written_in_batches_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("insights.sqlite"))
        .await
        .unwrap();
    let (recorder, writer) = Recorder::start(store.clone(), 1_000);
    let mut kibo = Vec::new();
    for question in [
        "who built kibo",
        "Who built the Kibo module?",
        "WHO BUILT KIBO",
    ] {
        let one = record(question, false, Some("asker-a"));
        kibo.push(one.id);
        recorder.record(one);
    }
    recorder.record(record("How do I bake bread?", false, Some("asker-b")));
    let answered = record("When was Columbus launched?", true, Some("asker-b"));
    recorder.record(answered.clone());
    drop(recorder);
    assert!(writer.finish(Duration::from_secs(10)).await);

    store.vote(answered.id, "v1", Vote::Down).await.unwrap();
    store.vote(answered.id, "v2", Vote::Up).await.unwrap();
    // Voting again changes the vote.
    let counts = store.vote(answered.id, "v2", Vote::Down).await.unwrap();
    assert_eq!((counts.up, counts.down), (0, 2));
    store
        .note(answered.id, "v1", "It is about Kibo, not Columbus")
        .await
        .unwrap();

    let documents = [
        document("iss-kibo", "Kibo"),
        document("esa", "ESA"),
        document("mir", "Mir"),
    ];
    let report = store.report(7, &documents).await.unwrap();
    assert_eq!(report.questions, 5);
    assert_eq!(report.answered, 1);
    assert_eq!((report.up_votes, report.down_votes), (0, 2));
    assert_eq!(report.unanswered[0].terms, "kibo");
    assert_eq!(report.unanswered[0].count, 3);
    assert_eq!(report.unanswered[1].terms, "bake bread");
    assert_eq!(report.disliked.len(), 1);
    assert_eq!(report.disliked[0].document.as_deref(), Some("Kibo"));
    assert_eq!(
        report.disliked[0].notes,
        vec!["It is about Kibo, not Columbus"]
    );
    assert_eq!(report.never_shown, vec!["Mir"]);

    // /forget-me: the asker's questions and nothing else.
    assert_eq!(store.forget("asker-a").await.unwrap(), 3);
    assert_eq!(store.forget("asker-a").await.unwrap(), 0);
    assert!(store.question(kibo[0]).await.unwrap().is_none());
    assert_eq!(store.report(7, &documents).await.unwrap().questions, 2);
    assert_eq!(store.forget("v1").await.unwrap(), 1);
}

/// Regression guard for the crash case: processes killed (SIGKILL) at random
/// moments while recording leave a database that opens, passes SQLite's integrity
/// check, and holds every committed question whole (all its passages, or none of it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_killed_while_recording_leave_every_committed_row_whole() {
    let fixture = crate::support::Fixture::new();
    fixture.build();
    let binary = env!("CARGO_BIN_EXE_spacecollab");
    let spawn = || {
        std::process::Command::new(binary)
            .current_dir(fixture.dir.path())
            .args(["ask", "Who built the Kibo module?", "--record", "--corpus"])
            .arg(&fixture.corpus)
            .arg("--index")
            .arg(&fixture.index)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the binary starts")
    };
    // One complete run first, so the database and its schema exist.
    assert!(spawn().wait().unwrap().success());
    let mut children: Vec<_> = (0..50).map(|_| spawn()).collect();
    let mut finished = 1;
    for (i, child) in children.iter_mut().enumerate() {
        tokio::time::sleep(Duration::from_millis(if i % 2 == 0 { 2 } else { 9 })).await;
        if let Some(status) = child.try_wait().unwrap() {
            finished += usize::from(status.success());
        } else {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }
    let path = insights::database_path(&fixture.index);
    let store = Store::open(&path).await.expect("the database opens");
    let url = format!("sqlite://{}", path.display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(check, "ok");
    let hits: Vec<i64> = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM question_hits WHERE question_id = q.id) FROM questions q",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        hits.len() >= finished,
        "{} rows, {finished} finished",
        hits.len()
    );
    assert!(hits.iter().all(|&n| n == hits[0] && n > 0), "{hits:?}");
    pool.close().await;
    store.close().await;
}
