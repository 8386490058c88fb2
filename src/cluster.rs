//! Replicas that serve one shared corpus, each from its own local index: one reindex
//! at a time across all of them (a lease in the shared database, which expires if its
//! holder dies), and every finished reindex announced there, so that each replica
//! rebuilds its own index from the same corpus within a few seconds. A replica that
//! was down catches up when it starts, with one incremental reindex.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::answer::Engine;
use crate::insights::{InsightsError, Lease, Store};
use crate::reindex::{ReindexError, Reindexer};
use crate::watch::{fingerprint, reindex_and_switch};

/// The lease every reindex of the cluster takes.
const LEASE: &str = "reindex";
/// A reindex holding the lease longer than this (its replica died) loses it.
const LEASE_TIME: Duration = Duration::from_secs(15 * 60);
/// How often a replica looks for announcements.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// This replica's place in the cluster.
#[derive(Debug, Clone)]
pub struct Cluster {
    store: Store,
    /// Names the replica in leases and announcements, so that others can say who is
    /// reindexing, and it can tell its own announcements from others'.
    replica: String,
}

/// Why the cluster's reindex cannot start here.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("a reindex is already running (started by {holder})")]
    Busy { holder: String },
    #[error(transparent)]
    Database(#[from] InsightsError),
}

impl Cluster {
    pub fn new(store: Store, replica: String) -> Cluster {
        Cluster { store, replica }
    }

    /// The name of this replica: `SPACECOLLAB_REPLICA`, or the host name and process id.
    pub fn default_replica_name() -> String {
        std::env::var("SPACECOLLAB_REPLICA")
            .ok()
            .filter(|name| !name.trim().is_empty())
            .unwrap_or_else(|| {
                let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                    .ok()
                    .or_else(|| std::env::var("HOSTNAME").ok())
                    .map(|host| host.trim().to_string())
                    .filter(|host| !host.is_empty())
                    .unwrap_or_else(|| "replica".to_string());
                format!("{host}:{}", std::process::id())
            })
    }

    pub fn replica(&self) -> &str {
        &self.replica
    }

    /// Takes the cluster's reindex lease for `owner` (a person, shown to whoever is
    /// refused meanwhile).
    ///
    /// # Errors
    /// [`ClusterError::Busy`] when another reindex holds it, anywhere in the cluster.
    pub async fn lease(&self, owner: &str) -> Result<ClusterLease, ClusterError> {
        let holder = format!("{owner}, on {}", self.replica);
        match self.store.try_lease(LEASE, &holder, LEASE_TIME).await? {
            Lease::Acquired => Ok(ClusterLease {
                cluster: self.clone(),
                holder,
            }),
            Lease::HeldBy { holder, .. } => Err(ClusterError::Busy { holder }),
        }
    }
}

/// The cluster's reindex lease, held; give it back with [`ClusterLease::finish`] (or it
/// expires after [`LEASE_TIME`]).
#[derive(Debug)]
pub struct ClusterLease {
    cluster: Cluster,
    holder: String,
}

impl ClusterLease {
    /// Announces the new generation when the reindex succeeded (`built_from` is the
    /// corpus folder it read, described in the announcement by its fingerprint), then
    /// gives the lease back.
    ///
    /// # Errors
    /// When the database cannot be written; the lease then expires by itself.
    pub async fn finish(self, built_from: Option<&Path>) -> Result<(), InsightsError> {
        let announced = match built_from {
            Some(corpus) => {
                let fingerprint = format!("{:016x}", fingerprint(corpus));
                self.cluster
                    .store
                    .announce_reindex(&self.cluster.replica, &fingerprint)
                    .await
                    .map(drop)
            }
            None => Ok(()),
        };
        let released = self.cluster.store.release_lease(LEASE, &self.holder).await;
        announced.and(released)
    }
}

/// Brings this replica's index up to the corpus at start (the corpus may have changed
/// while it was down), then rebuilds it after every reindex another replica or
/// `spacecollab index` announces, looking every `poll`, until `stop` turns true.
pub async fn follow(
    cluster: Cluster,
    reindexer: Arc<Reindexer>,
    engine: Arc<Engine>,
    poll: Duration,
    mut stop: watch::Receiver<bool>,
) {
    // Announcements up to now are covered by the catch-up below.
    let mut seen = match cluster.store.latest_reindex().await {
        Ok(latest) => latest.map_or(0, |a| a.id),
        Err(error) => {
            tracing::warn!(%error, "cannot read the cluster's reindexes; following from now");
            0
        }
    };
    let mut pending = true;
    loop {
        if pending {
            match reindex_here(&reindexer, &engine, "catching up with the cluster").await {
                Err(ReindexError::AlreadyRunning { .. }) => {}
                Ok(()) | Err(_) => pending = false,
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = stop.changed() => return,
        }
        match cluster.store.latest_reindex().await {
            Ok(Some(latest)) if latest.id > seen => {
                seen = latest.id;
                // Our own reindex already rebuilt this index.
                if latest.by != cluster.replica {
                    tracing::info!(by = %latest.by, corpus = %latest.fingerprint, "another replica reindexed; rebuilding here");
                    pending = true;
                }
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "cannot read the cluster's reindexes"),
        }
    }
}

/// One incremental reindex of this replica's index, switched into service.
///
/// # Errors
/// [`ReindexError::AlreadyRunning`] when another reindex holds this index, so that the
/// caller tries again; any other failure is logged here.
async fn reindex_here(
    reindexer: &Arc<Reindexer>,
    engine: &Arc<Engine>,
    why: &str,
) -> Result<(), ReindexError> {
    let ticket = reindexer.try_start(why)?;
    match reindex_and_switch(reindexer, engine, ticket, "cluster").await {
        Ok(report) => tracing::info!(
            added = report.added.len(),
            changed = report.changed.len(),
            removed = report.removed.len(),
            "this replica's index is up to date with the corpus"
        ),
        // The same corpus would fail the same way: wait for the next announcement.
        Err(error) => {
            tracing::error!(error = %format!("{error:#}"), "cannot rebuild this replica's index; the previous one stays in service")
        }
    }
    Ok(())
}
