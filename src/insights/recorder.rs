//! The queue between the answers and the database: a bounded tokio channel into one
//! writer task, which writes what has gathered in one transaction. Recording never
//! waits: when the queue is full or the database fails, the records are dropped,
//! counted, and logged at most once a minute.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{QuestionRecord, Store};

/// Records written in one transaction at most.
const BATCH: usize = 256;
/// Shortest time between two log lines about lost records.
const LOG_EVERY: Duration = Duration::from_secs(60);

/// Records that could not be written: how many in all, and when it was last logged.
#[derive(Debug, Default)]
pub struct Losses {
    total: AtomicU64,
    /// Lost since the last log line.
    unlogged: AtomicU64,
    /// A std mutex: held to read and set an instant, never across `.await`.
    last_logged: Mutex<Option<Instant>>,
}

impl Losses {
    /// Counts `count` lost records, and logs them with `why` unless a line went out in
    /// the last minute (the next line then reports them too).
    pub fn lose(&self, count: u64, why: &dyn std::fmt::Display) {
        self.total.fetch_add(count, Ordering::Relaxed);
        self.unlogged.fetch_add(count, Ordering::Relaxed);
        let mut last = self.last_logged.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|at| at.elapsed() < LOG_EVERY) {
            return;
        }
        *last = Some(Instant::now());
        let lost = self.unlogged.swap(0, Ordering::Relaxed);
        tracing::warn!(
            lost,
            total = self.total.load(Ordering::Relaxed),
            reason = %why,
            "question records were not saved; answers go on"
        );
    }

    /// Records lost since the start.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }
}

/// The sending end: cheap to clone, never blocks.
#[derive(Debug, Clone)]
pub struct Recorder {
    queue: mpsc::Sender<QuestionRecord>,
    losses: Arc<Losses>,
}

/// The writer task. It runs until [`Writer::finish`] (or until it is dropped, or every
/// [`Recorder`] is), then writes what is still queued and ends.
#[derive(Debug)]
pub struct Writer {
    task: JoinHandle<()>,
    stop: oneshot::Sender<()>,
}

impl Writer {
    /// Stops taking records, and waits (at most `timeout`) until those already queued
    /// are written; returns false on timeout.
    pub async fn finish(self, timeout: Duration) -> bool {
        let _ = self.stop.send(());
        tokio::time::timeout(timeout, self.task).await.is_ok()
    }
}

impl Recorder {
    /// Starts the writer task for `store`, with room for `capacity` records in the queue.
    pub fn start(store: Store, capacity: usize) -> (Recorder, Writer) {
        let (queue, incoming) = mpsc::channel(capacity.max(1));
        let (stop, stopped) = oneshot::channel();
        let losses = Arc::new(Losses::default());
        let task = tokio::spawn(write(store, incoming, stopped, Arc::clone(&losses)));
        (Recorder { queue, losses }, Writer { task, stop })
    }

    /// Queues `record` for the writer, without waiting; a full queue drops it (counted).
    pub fn record(&self, record: QuestionRecord) {
        if let Err(error) = self.queue.try_send(record) {
            let why = match error {
                mpsc::error::TrySendError::Full(_) => "the insights queue is full",
                mpsc::error::TrySendError::Closed(_) => "the insights writer has stopped",
            };
            self.losses.lose(1, &why);
        }
    }

    /// The count of lost records.
    pub fn losses(&self) -> &Losses {
        &self.losses
    }
}

/// The writer: takes what has gathered in the queue (at most [`BATCH`]) and writes it in
/// one transaction; once told to stop, closes the queue and writes what is left in it.
async fn write(
    store: Store,
    mut incoming: mpsc::Receiver<QuestionRecord>,
    mut stop: oneshot::Receiver<()>,
    losses: Arc<Losses>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut stopping = false;
    loop {
        let received = if stopping {
            incoming.recv_many(&mut batch, BATCH).await
        } else {
            // `recv_many` is cancel-safe: a record is never lost to the other branch.
            tokio::select! {
                received = incoming.recv_many(&mut batch, BATCH) => received,
                _ = &mut stop => {
                    stopping = true;
                    incoming.close();
                    continue;
                }
            }
        };
        if received == 0 {
            break;
        }
        if let Err(error) = store.insert_questions(&batch).await {
            losses.lose(batch.len() as u64, &error);
        }
        batch.clear();
    }
}
