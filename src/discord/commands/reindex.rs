//! `/reindex full:<bool>`: admins only, checked here on every call whatever Discord's
//! command permissions say. Rereads the corpus and switches the engine to the new index,
//! showing progress by editing a private reply at most once a second, then a summary.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Definition, OptionDefinition, OptionType, SlashCommand};
use crate::discord::bot::Bot;
use crate::discord::error::{self, UserError};
use crate::discord::interaction::{CommandData, Interaction, Permissions};
use crate::discord::render;
use crate::discord::response::{Responder, Response};
use crate::cluster::{ClusterError, ClusterLease};
use crate::reindex::{ReindexError, Stage};
use crate::text::strip_format_chars;

/// Shortest gap between two progress edits of the reply.
const PROGRESS_INTERVAL: Duration = Duration::from_secs(1);
/// What precedes the reason when a reindex fails.
const FAILED: &str = "Reindex failed; the previous index stays in service.";

#[derive(Debug)]
pub struct Reindex {
    full: bool,
}

impl SlashCommand for Reindex {
    const NAME: &'static str = "reindex";

    fn definition() -> Definition {
        Definition::new(Self::NAME, "Admins: reread the corpus and update the index")
            .default_member_permissions(Permissions::MANAGE_GUILD)
            .no_direct_messages()
            .option(OptionDefinition::new(
                OptionType::Boolean,
                "full",
                "Rebuild everything instead of only what changed",
            ))
    }

    fn parse(data: &CommandData) -> Result<Reindex, UserError> {
        Ok(Reindex {
            full: data.bool("full").unwrap_or(false),
        })
    }

    async fn run(
        self,
        bot: &Bot,
        interaction: &Interaction,
        reply: &impl Responder,
    ) -> anyhow::Result<()> {
        if !interaction.is_admin(&bot.config.admin) {
            tracing::warn!(
                user_id = interaction.user.id,
                "refused /reindex to a non-admin"
            );
            return Err(UserError::new("Only server admins can run `/reindex`.").into());
        }
        // Shown to whoever tries a second reindex meanwhile: user text, so no bidi controls.
        let owner = format!("{} on Discord", strip_format_chars(&interaction.user.name));
        // Across replicas first: the cluster's lease, then this replica's own lock.
        let lease = match &bot.cluster {
            Some(cluster) => Some(cluster.lease(&owner).await.map_err(|error| match error {
                ClusterError::Busy { .. } => anyhow::Error::new(UserError::new(error.to_string())),
                ClusterError::Database(error) => {
                    anyhow::Error::new(error).context("cannot take the cluster's reindex lease")
                }
            })?),
            None => None,
        };
        let ticket = match bot.reindexer.try_start(&owner) {
            Ok(ticket) => ticket,
            Err(error) => {
                if let Some(lease) = lease {
                    release(lease, None).await;
                }
                return Err(for_user(error));
            }
        };
        reply.send(Response::Defer { ephemeral: true }).await?;
        tracing::info!(user_id = interaction.user.id, full = self.full, "reindex started");

        let started = Instant::now();
        let progress = Arc::new(Mutex::new(None::<Stage>));
        let reindexer = Arc::clone(&bot.reindexer);
        let engine = Arc::clone(&bot.engine);
        let shared = Arc::clone(&progress);
        let full = self.full;
        // Reading and indexing block: off the async runtime. The reindexer's ticket makes
        // this the only reindex running, in this process and any other.
        let mut work = tokio::task::spawn_blocking(move || {
            let report = reindexer.run(ticket, full, |stage| {
                // A std mutex: set here, read by the ticker below, never held across `.await`.
                *shared.lock().unwrap_or_else(|p| p.into_inner()) = Some(stage);
            })?;
            engine.reload()?;
            Ok::<_, anyhow::Error>(report)
        });
        let mut ticker = tokio::time::interval(PROGRESS_INTERVAL);
        ticker.tick().await;
        let result = loop {
            tokio::select! {
                done = &mut work => break done,
                _ = ticker.tick() => {
                    let stage = *progress.lock().unwrap_or_else(|p| p.into_inner());
                    let message = render::notice(&render::reindex_progress(stage, started.elapsed()));
                    if let Err(error) = reply.send(Response::Edit(message)).await {
                        tracing::warn!(%error, "could not show reindex progress");
                    }
                }
            }
        };
        let result = result.map_err(anyhow::Error::from).and_then(|r| r);
        if let Some(lease) = lease {
            // The other replicas rebuild from the same corpus once this is announced.
            let built_from = result.is_ok().then_some(bot.config.corpus_path.as_path());
            release(lease, built_from).await;
        }
        let outcome = if result.is_ok() { "done" } else { "failed" };
        metrics::counter!("spacecollab_reindexes_total", "trigger" => "command", "outcome" => outcome)
            .increment(1);
        let text = match result {
            Ok(report) => {
                tracing::info!(
                    documents = report.documents,
                    passages = report.passages,
                    "reindex finished"
                );
                render::reindex_summary(&report)
            }
            Err(error) => match error.downcast_ref::<ReindexError>().and_then(user_reason) {
                Some(reason) => {
                    tracing::warn!(error = %format!("{error:#}"), "reindex failed");
                    format!("{FAILED} Reason: {reason}")
                }
                None => {
                    let id = error::log_internal(&error, "reindex");
                    format!("{FAILED} {}", error::apology(id))
                }
            },
        };
        reply.send(Response::Edit(render::notice(&text))).await?;
        Ok(())
    }
}

/// Gives the cluster's lease back, announcing the corpus the reindex was `built_from`
/// when it succeeded.
async fn release(lease: ClusterLease, built_from: Option<&std::path::Path>) {
    if let Err(error) = lease.finish(built_from).await {
        tracing::error!(%error, "cannot announce the reindex to the other replicas; they catch up at their next start or reindex");
    }
}

/// What an admin may read about a reindex that did not run or did not finish; `None`
/// for failures whose details (paths, index errors) belong in the log only.
fn user_reason(error: &ReindexError) -> Option<String> {
    match error {
        ReindexError::AlreadyRunning { .. } => Some(error.to_string()),
        ReindexError::NothingLoaded { .. } => Some(
            "no document in the corpus could be read, so the index was left as it was."
                .to_string(),
        ),
        ReindexError::Corpus(_) | ReindexError::Index(_) | ReindexError::Lock { .. } => None,
    }
}

/// A reindex that cannot start: a user error when its reason is theirs to read.
fn for_user(error: ReindexError) -> anyhow::Error {
    match user_reason(&error) {
        Some(reason) => UserError::new(reason).into(),
        None => anyhow::Error::new(error).context("cannot start a reindex"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_read_why_a_reindex_failed_without_paths() {
        let busy = ReindexError::AlreadyRunning {
            owner: "ada on Discord".into(),
            percent: 40,
        };
        assert_eq!(
            user_reason(&busy).unwrap(),
            "a reindex is already running (started by ada on Discord, 40% done)"
        );
        let empty = ReindexError::NothingLoaded {
            path: "/srv/secret/corpus".into(),
        };
        assert!(!user_reason(&empty).unwrap().contains("/srv"));
        let lock = ReindexError::Lock {
            path: "/srv/secret/index/reindex.lock".into(),
            source: std::io::Error::other("denied"),
        };
        assert_eq!(user_reason(&lock), None);
        let refusal = for_user(busy);
        assert_eq!(
            refusal.downcast_ref::<UserError>().unwrap().text(),
            "a reindex is already running (started by ada on Discord, 40% done)"
        );
        assert!(for_user(lock).downcast_ref::<UserError>().is_none());
    }
}
