//! Counts the interactions being handled, so that a shutdown can stop taking new ones
//! and wait for the rest. serenity runs each event handler in a task of its own that it
//! does not hand out, so the bot keeps this count itself.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

/// The interactions in flight, and whether new ones are still taken.
#[derive(Debug, Default)]
pub struct InFlight {
    count: AtomicUsize,
    closed: AtomicBool,
    /// Notified when the count drops to zero.
    idle: Notify,
}

/// One interaction being handled; dropping it ends it.
#[derive(Debug)]
pub struct Working<'a>(&'a InFlight);

impl InFlight {
    /// Starts one interaction, or `None` once [`InFlight::drain`] has begun.
    pub fn enter(&self) -> Option<Working<'_>> {
        // Counted before the check, so that a drain that closes in between waits for it.
        self.count.fetch_add(1, Ordering::SeqCst);
        let working = Working(self);
        if self.closed.load(Ordering::SeqCst) {
            return None;
        }
        Some(working)
    }

    /// Takes no new interactions and waits until those in flight are done, for at most
    /// `grace`. Returns how many were still running when it stopped waiting.
    pub async fn drain(&self, grace: Duration) -> usize {
        self.closed.store(true, Ordering::SeqCst);
        let wait = async {
            loop {
                // Registered before the check, so that the last one ending in between
                // still wakes us.
                let idle = self.idle.notified();
                if self.count.load(Ordering::SeqCst) == 0 {
                    return;
                }
                idle.await;
            }
        };
        let _ = tokio::time::timeout(grace, wait).await;
        self.count.load(Ordering::SeqCst)
    }
}

impl Drop for Working<'_> {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn a_drain_waits_for_work_in_flight_and_refuses_new_work() {
        let in_flight = Arc::new(InFlight::default());
        let worker = Arc::clone(&in_flight);
        let (started, ready) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            let _working = worker.enter().unwrap();
            started.send(()).unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
        });
        ready.await.unwrap();
        let began = std::time::Instant::now();
        assert_eq!(in_flight.drain(Duration::from_secs(5)).await, 0);
        assert!(began.elapsed() >= Duration::from_millis(50));
        task.await.unwrap();
        assert!(in_flight.enter().is_none(), "no new work after a drain");
        assert_eq!(in_flight.count.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_drain_gives_up_after_its_grace() {
        let in_flight = InFlight::default();
        let _stuck = in_flight.enter().unwrap();
        let began = std::time::Instant::now();
        assert_eq!(in_flight.drain(Duration::from_millis(50)).await, 1);
        assert!(began.elapsed() < Duration::from_secs(2));
    }
}
