//! The store on both of its backends: each behaviour runs on an SQLite file and on a
//! real Postgres server started for the test ([`Postgres::start`]): migrations, the
//! newer-schema refusal, questions, votes, reports and forgetting, saved searches,
//! leases (also under contention), reindex announcements, and the salt replicas share.

use std::sync::Arc;
use std::time::Duration;

use spacecollab::insights::{
    self, Database, Insights, InsightsConfig, InsightsError, Lease, SavedSearch, Store, Vote,
    SCHEMA_VERSION,
};
use tempfile::TempDir;

use crate::insights::{document, record};
use crate::support::postgres::Postgres;
use crate::support::servers_installed;

/// A store on a fresh SQLite file; the folder lives as long as the value.
async fn sqlite() -> (Store, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("insights.sqlite"))
        .await
        .unwrap();
    (store, dir)
}

/// A store on a fresh Postgres server; the server lives as long as the value.
async fn postgres() -> (Store, Postgres) {
    let server = tokio::task::spawn_blocking(Postgres::start).await.unwrap();
    let store = Store::connect(&Database::Postgres(server.url.clone()))
        .await
        .unwrap();
    (store, server)
}

/// Questions, votes, notes, the report and `/forget-me`, with exact round trips.
async fn questions_votes_and_reports(store: &Store) {
    let mut kibo = Vec::new();
    let mut batch = Vec::new();
    for question in [
        "who built kibo",
        "Who built the Kibo module?",
        "WHO BUILT KIBO",
    ] {
        let one = record(question, false, Some("asker-a"));
        kibo.push(one.id);
        batch.push(one);
    }
    batch.push(record("How do I bake bread?", false, Some("asker-b")));
    let answered = record("When was Columbus launched?", true, Some("asker-b"));
    batch.push(answered.clone());
    store.insert_questions(&batch).await.unwrap();
    // The same records again are kept once, and the batch does not fail.
    store.insert_questions(&batch).await.unwrap();
    assert_eq!(
        store.question(answered.id).await.unwrap(),
        Some(answered.clone())
    );
    assert_eq!(
        store.question(kibo[0]).await.unwrap().as_ref(),
        Some(&batch[0])
    );
    assert_eq!(store.question(1).await.unwrap(), None);

    store.vote(answered.id, "v1", Vote::Down).await.unwrap();
    store.vote(answered.id, "v2", Vote::Up).await.unwrap();
    let counts = store.vote(answered.id, "v2", Vote::Down).await.unwrap();
    assert_eq!((counts.up, counts.down), (0, 2));
    store
        .note(answered.id, "v1", "It is about Kibo, not Columbus")
        .await
        .unwrap();
    // Voting the same way keeps the note; changing the vote drops it.
    store.vote(answered.id, "v1", Vote::Down).await.unwrap();
    assert_eq!(
        store.note_of(answered.id, "v1").await.unwrap().as_deref(),
        Some("It is about Kibo, not Columbus")
    );
    store.vote(answered.id, "v2", Vote::Up).await.unwrap();
    store.note(answered.id, "v2", "").await.unwrap();
    assert_eq!(store.note_of(answered.id, "v2").await.unwrap(), None);
    let counts = store.counts(answered.id).await.unwrap();
    assert_eq!((counts.up, counts.down), (0, 2));

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
    assert_eq!(
        report.unanswered[0].example.as_deref(),
        Some("WHO BUILT KIBO")
    );
    assert_eq!(report.unanswered[1].terms, "bake bread");
    assert_eq!(report.disliked.len(), 1);
    assert_eq!(report.disliked[0].answer_id, answered.id);
    assert_eq!(report.disliked[0].document.as_deref(), Some("Kibo"));
    assert_eq!((report.disliked[0].up, report.disliked[0].down), (0, 2));
    assert_eq!(
        report.disliked[0].notes,
        vec!["It is about Kibo, not Columbus"]
    );
    assert_eq!(report.never_shown, vec!["Mir"]);

    assert_eq!(store.forget("asker-a").await.unwrap(), 3);
    assert_eq!(store.forget("asker-a").await.unwrap(), 0);
    assert!(store.question(kibo[0]).await.unwrap().is_none());
    assert_eq!(store.report(7, &documents).await.unwrap().questions, 2);
    assert_eq!(store.forget("v1").await.unwrap(), 1);

    // Retention: nothing of today goes.
    assert_eq!(store.delete_expired(1).await.unwrap(), 0);
    assert!(store.question(answered.id).await.unwrap().is_some());
}

/// Text that could break SQL or the encoding comes back as it went in.
async fn hostile_text_round_trips(store: &Store) {
    let texts = [
        "'); DROP TABLE questions; --",
        "\" OR 1=1 -- ? ?1 $1 :name @x $y",
        "🚀 Who built 国际空间站? 👩‍🚀 \u{202E}reversed\u{202C} e\u{301}",
    ];
    let before = store.report(1, &[]).await.unwrap().questions;
    for text in texts {
        let mut one = record(text, false, Some(text));
        one.hits[0].doc_id = text.to_string();
        store.insert_questions(&[one.clone()]).await.unwrap();
        store.note(one.id, text, text).await.unwrap();
        assert_eq!(
            store.note_of(one.id, text).await.unwrap().as_deref(),
            Some(text)
        );
        assert_eq!(store.question(one.id).await.unwrap(), Some(one), "{text:?}");
    }
    assert_eq!(
        store.report(1, &[]).await.unwrap().questions,
        before + texts.len() as u64
    );
}

async fn saved_searches(store: &Store) {
    let kibo = SavedSearch {
        query: "kibo robotic arm".into(),
        // The top bit set: stored as the i64 with the same bits.
        user_id: u64::MAX - 7,
        ephemeral: true,
    };
    let first = store.save_search(&kibo).await.unwrap();
    let mir = SavedSearch {
        query: "mir 'docking' $1 ?".into(),
        user_id: 80_351_110_224_678_912,
        ephemeral: false,
    };
    let second = store.save_search(&mir).await.unwrap();
    assert!(second > first, "{first} then {second}");
    let hour = Duration::from_secs(3600);
    assert_eq!(store.saved_search(first, hour).await.unwrap(), Some(kibo));
    assert_eq!(store.saved_search(second, hour).await.unwrap(), Some(mir));
    assert_eq!(store.saved_search(second + 1, hour).await.unwrap(), None);
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        store
            .saved_search(first, Duration::from_millis(5))
            .await
            .unwrap(),
        None,
        "older than asked for"
    );
}

async fn leases(store: &Store) {
    let minute = Duration::from_secs(60);
    assert_eq!(
        store.try_lease("reindex", "a", minute).await.unwrap(),
        Lease::Acquired
    );
    let Lease::HeldBy { holder, since_ms } = store.try_lease("reindex", "b", minute).await.unwrap()
    else {
        panic!("b took a's lease");
    };
    assert_eq!(holder, "a");
    assert!((insights::now_ms() - since_ms).abs() < 10_000, "{since_ms}");
    // a renews; its lease keeps its start.
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(
        store.try_lease("reindex", "a", minute).await.unwrap(),
        Lease::Acquired
    );
    assert_eq!(
        store.try_lease("reindex", "b", minute).await.unwrap(),
        Lease::HeldBy {
            holder: "a".into(),
            since_ms
        }
    );
    // Another lease is another row.
    assert_eq!(
        store.try_lease("other", "b", minute).await.unwrap(),
        Lease::Acquired
    );
    // Only the holder can release.
    store.release_lease("reindex", "b").await.unwrap();
    assert!(matches!(
        store.try_lease("reindex", "b", minute).await.unwrap(),
        Lease::HeldBy { .. }
    ));
    store.release_lease("reindex", "a").await.unwrap();
    assert_eq!(
        store.try_lease("reindex", "b", minute).await.unwrap(),
        Lease::Acquired
    );
    // A lease left to lapse (its holder crashed) goes to the next who asks.
    assert_eq!(
        store
            .try_lease("crash", "a", Duration::from_millis(1))
            .await
            .unwrap(),
        Lease::Acquired
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        store.try_lease("crash", "b", minute).await.unwrap(),
        Lease::Acquired
    );
    assert!(matches!(
        store.try_lease("crash", "a", minute).await.unwrap(),
        Lease::HeldBy { holder, .. } if holder == "b"
    ));
}

/// Many holders at once: exactly one gets the lease.
async fn contended_lease(store: &Store, contenders: usize) {
    let start = Arc::new(tokio::sync::Barrier::new(contenders));
    let tasks: Vec<_> = (0..contenders)
        .map(|i| {
            let (store, start) = (store.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                let holder = format!("replica-{i}");
                let lease = store
                    .try_lease("contended", &holder, Duration::from_secs(60))
                    .await
                    .unwrap();
                (holder, lease)
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut seen_holders = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            (holder, Lease::Acquired) => winners.push(holder),
            (_, Lease::HeldBy { holder, .. }) => seen_holders.push(holder),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    assert!(
        seen_holders.iter().all(|h| *h == winners[0]),
        "the others saw {seen_holders:?}, the winner was {}",
        winners[0]
    );
}

async fn announcements(store: &Store) {
    assert_eq!(store.latest_reindex().await.unwrap(), None);
    let first = store.announce_reindex("replica-a", "gen-1").await.unwrap();
    let second = store.announce_reindex("replica-b", "gen-2").await.unwrap();
    assert!(second > first);
    let latest = store.latest_reindex().await.unwrap().unwrap();
    assert_eq!(
        (latest.id, latest.by.as_str(), latest.fingerprint.as_str()),
        (second, "replica-b", "gen-2")
    );
    assert!((insights::now_ms() - latest.at_ms).abs() < 10_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keeps_the_store_behaviour() {
    let (store, _dir) = sqlite().await;
    assert_eq!(store.backend(), "sqlite");
    store.ping().await.unwrap();
    questions_votes_and_reports(&store).await;
    saved_searches(&store).await;
    leases(&store).await;
    contended_lease(&store, 16).await;
    announcements(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keeps_the_store_behaviour() {
    if !servers_installed("postgres_keeps_the_store_behaviour", false) {
        return;
    }
    let (store, server) = postgres().await;
    assert_eq!(store.backend(), "postgres");
    store.ping().await.unwrap();
    questions_votes_and_reports(&store).await;
    hostile_text_round_trips(&store).await;
    // Postgres text cannot hold NUL: it is kept as U+FFFD rather than failing the batch.
    let nul = record("before\0after", false, None);
    store
        .insert_questions(std::slice::from_ref(&nul))
        .await
        .unwrap();
    let kept = store.question(nul.id).await.unwrap().unwrap();
    assert_eq!(kept.question.as_deref(), Some("before\u{FFFD}after"));
    saved_searches(&store).await;
    leases(&store).await;
    announcements(&store).await;
    // Connecting again finds the schema applied and changes nothing.
    store.close().await;
    let again = Store::connect(&Database::Postgres(server.url.clone()))
        .await
        .unwrap();
    assert_eq!(again.report(7, &[]).await.unwrap().questions, 2 + 3 + 1);
    assert!(again.latest_reindex().await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_many_replicas_taking_a_lease_at_once_on_postgres_exactly_one_wins() {
    if !servers_installed(
        "of_many_replicas_taking_a_lease_at_once_on_postgres_exactly_one_wins",
        false,
    ) {
        return;
    }
    let (store, server) = postgres().await;
    contended_lease(&store, 64).await;
    // Across separate pools too, as separate replicas hold them.
    let mut replicas = Vec::new();
    for _ in 0..4 {
        replicas.push(
            Store::connect(&Database::Postgres(server.url.clone()))
                .await
                .unwrap(),
        );
    }
    let start = Arc::new(tokio::sync::Barrier::new(replicas.len() * 8));
    let mut tasks = Vec::new();
    for (r, replica) in replicas.iter().enumerate() {
        for t in 0..8 {
            let (replica, start) = (replica.clone(), start.clone());
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                replica
                    .try_lease("reindex", &format!("{r}-{t}"), Duration::from_secs(60))
                    .await
                    .unwrap()
            }));
        }
    }
    let mut acquired = 0;
    for task in tasks {
        acquired += usize::from(task.await.unwrap() == Lease::Acquired);
    }
    assert_eq!(acquired, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_searches_are_deleted_on_both_backends() {
    if !servers_installed("expired_searches_are_deleted_on_both_backends", false) {
        return;
    }
    let (sqlite, _dir) = sqlite().await;
    let (postgres, _server) = postgres().await;
    for store in [sqlite, postgres] {
        let old = store
            .save_search(&SavedSearch {
                query: "old".into(),
                user_id: 1,
                ephemeral: false,
            })
            .await
            .unwrap();
        let new = store
            .save_search(&SavedSearch {
                query: "new".into(),
                user_id: 1,
                ephemeral: false,
            })
            .await
            .unwrap();
        // Two hours ago, as far as the database knows.
        age_search(&store, old, 2 * 3_600_000).await;
        let forever = Duration::from_secs(1 << 40);
        assert!(store.saved_search(old, forever).await.unwrap().is_some());
        store.delete_expired(90).await.unwrap();
        assert_eq!(store.saved_search(old, forever).await.unwrap(), None);
        assert!(store.saved_search(new, forever).await.unwrap().is_some());
    }
}

/// Moves a saved search's time back by `ms`, through a connection of the test's own.
async fn age_search(store: &Store, id: i64, ms: i64) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let url = match store.backend() {
        "sqlite" => format!("sqlite://{}", store.path()),
        _ => store.path().to_string(),
    };
    let mut connection = sqlx::AnyConnection::connect(&url).await.unwrap();
    let changed = sqlx::query("UPDATE searches SET created_at = created_at - $1 WHERE id = $2")
        .bind(ms)
        .bind(id)
        .execute(&mut connection)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(changed, 1);
    connection.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_database_from_a_newer_version_is_refused_without_showing_the_password() {
    if !servers_installed(
        "a_postgres_database_from_a_newer_version_is_refused_without_showing_the_password",
        false,
    ) {
        return;
    }
    let server = tokio::task::spawn_blocking(Postgres::start).await.unwrap();
    let database = Database::Postgres(server.url_with_password("hunter2-secret"));
    let store = Store::connect(&database).await.unwrap();
    assert!(!format!("{store:?}").contains("hunter2"));
    store.close().await;
    {
        use sqlx::Connection;
        let mut connection = sqlx::PgConnection::connect(&server.url).await.unwrap();
        let versions: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
                .fetch_all(&mut connection)
                .await
                .unwrap();
        assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (99, 'from the future', TRUE, '\\x00'::bytea, 0)",
        )
        .execute(&mut connection)
        .await
        .unwrap();
        connection.close().await.unwrap();
    }
    let error = Store::connect(&database).await.unwrap_err();
    assert!(
        matches!(error, InsightsError::Newer { found: 99, .. }),
        "{error}"
    );
    let text = error.to_string();
    assert!(
        text.contains(&format!(
            "postgres://spacecollab@127.0.0.1:{}/spacecollab",
            server.port
        )),
        "{text}"
    );
    assert!(text.contains("newer version of spacecollab"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(!format!("{error:?}").contains("hunter2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_server_that_is_gone_is_named_without_the_password() {
    if !servers_installed(
        "a_postgres_server_that_is_gone_is_named_without_the_password",
        false,
    ) {
        return;
    }
    let server = tokio::task::spawn_blocking(Postgres::start).await.unwrap();
    let database = Database::Postgres(server.url_with_password("hunter2-secret"));
    drop(server);
    let error = Store::connect(&database).await.unwrap_err();
    assert!(matches!(error, InsightsError::Open { .. }), "{error}");
    let text = format!("{error} {error:?}");
    assert!(text.contains("postgres://spacecollab@127.0.0.1"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_sharing_postgres_hash_askers_alike_and_record_into_one_database() {
    if !servers_installed(
        "replicas_sharing_postgres_hash_askers_alike_and_record_into_one_database",
        false,
    ) {
        return;
    }
    let server = tokio::task::spawn_blocking(Postgres::start).await.unwrap();
    let database = Database::Postgres(server.url.clone());
    let settings = InsightsConfig::default();
    // Started at once, as replicas behind a load balancer are: one migrates while the
    // other waits, and both settle on the salt the first one stored.
    let (one, two) = tokio::join!(
        Insights::start(&database, settings),
        Insights::start(&database, settings)
    );
    let ((one, one_writer), (two, two_writer)) = (one.unwrap(), two.unwrap());
    assert_eq!(one.hasher.hash(42), two.hasher.hash(42));
    assert_ne!(one.hasher.hash(42), one.hasher.hash(43));
    let asked_on_one = record("Who built Kibo?", true, Some(&one.hasher.hash(42)));
    let asked_on_two = record("Who built Mir?", true, Some(&two.hasher.hash(42)));
    one.recorder.record(asked_on_one.clone());
    two.recorder.record(asked_on_two.clone());
    drop((one.recorder, two.recorder));
    assert!(one_writer.finish(Duration::from_secs(10)).await);
    assert!(two_writer.finish(Duration::from_secs(10)).await);
    // /forget-me on either replica forgets what was asked on both.
    assert_eq!(two.store.forget(&one.hasher.hash(42)).await.unwrap(), 2);
    assert_eq!(one.store.question(asked_on_two.id).await.unwrap(), None);
}
