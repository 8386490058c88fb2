//! The bot's shared state and the one entry point every transport calls: parse an
//! [`Interaction`] into an [`Action`], run it, and turn its failure into what the user
//! sees (a [`UserError`] verbatim, anything else an apology with an error id). Knows
//! nothing of how responses travel: that is the [`Responder`] a transport passes in.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::OwnedSemaphorePermit;
use tokio::task::JoinHandle;

use super::commands::{Action, Command};
use super::error::{self, SendError, UserError};
use super::in_flight::InFlight;
use super::interaction::{Data, Interaction};
use super::limits::{self, Limits};
use super::render;
use super::response::{Responder, Response};
use super::sessions::Sessions;
use crate::answer::{Answer, Engine};
use crate::cluster::Cluster;
use crate::config::Config;
use crate::insights::{Asked, Insights, QuestionRecord, Store};
use crate::reindex::Reindexer;

/// What users who write while the bot shuts down read.
const RESTARTING: &str = "I am restarting; please try again in a minute.";

/// What every interaction may use: the engine, the settings, the searches users can
/// continue, and the one reindexer.
pub struct Bot {
    pub(super) engine: Arc<Engine>,
    pub(super) config: Config,
    pub(super) sessions: Sessions,
    pub(super) reindexer: Arc<Reindexer>,
    /// Answers slower than this are deferred first, well inside Discord's 3-second deadline.
    pub(super) defer_after: Duration,
    /// The interactions being handled, for a shutdown to wait for.
    in_flight: InFlight,
    /// The per-user cooldown and the bound on answers at once.
    limits: Limits,
    /// Where questions and votes are recorded; `None` when `[insights] enabled = false`.
    pub(super) insights: Option<Insights>,
    /// The other replicas serving the same corpus, when the database is shared.
    pub(super) cluster: Option<Cluster>,
    /// The database searches are kept in, when there is one.
    database: Option<Store>,
}

impl Bot {
    pub fn new(config: Config, engine: Arc<Engine>, reindexer: Arc<Reindexer>) -> Bot {
        Bot {
            defer_after: Duration::from_millis(config.discord.defer_after_ms),
            engine,
            sessions: Sessions::default(),
            reindexer,
            in_flight: InFlight::default(),
            limits: Limits::new(&config.limits),
            insights: None,
            cluster: None,
            database: None,
            config,
        }
    }

    /// Stops taking interactions (each new one gets a note that the bot is restarting)
    /// and waits until those being handled have sent their last response, for at most
    /// `grace`. Returns how many were still running when it stopped waiting.
    pub async fn drain(&self, grace: Duration) -> usize {
        self.in_flight.drain(grace).await
    }

    /// Whether the database the bot keeps its state in answers (true without one), for
    /// a readiness check.
    ///
    /// # Errors
    /// The database's error.
    pub async fn database_answers(&self) -> Result<(), crate::insights::InsightsError> {
        match &self.database {
            Some(store) => store.ping().await,
            None => Ok(()),
        }
    }

    /// The bot, one replica of `cluster` (alone when `None`).
    pub fn in_cluster(mut self, cluster: Option<Cluster>) -> Bot {
        self.cluster = cluster;
        self
    }

    /// The bot, with `database` for its readiness and, when the database is shared by
    /// replicas (Postgres), for its searches, so that their buttons work on any replica
    /// and after a restart. With SQLite (one process) searches stay in memory: writing
    /// each to the file on the answer's path halved the bot bench's throughput
    /// (`cargo bench --bench discord`: 2,289–2,835 interactions/s against 4,614–4,949).
    pub fn with_database(mut self, database: Option<Store>) -> Bot {
        if let Some(store) = database.as_ref().filter(|s| s.backend() == "postgres") {
            self.sessions = Sessions::in_database(store.clone());
        }
        self.database = database;
        self
    }

    /// The bot, recording questions and votes in `insights` (none when `None`).
    pub fn with_insights(mut self, insights: Option<Insights>) -> Bot {
        self.insights = insights;
        self
    }

    /// Queues the record of an answer given in Discord, without waiting (see
    /// [`crate::insights::Recorder`]); nothing when insights are off.
    pub(super) fn record(
        &self,
        answer_id: i64,
        answer: &Answer,
        interaction: &Interaction,
        latency: Duration,
    ) {
        let Some(insights) = &self.insights else {
            return;
        };
        let asked = Asked {
            command: "ask",
            guild_id: interaction.guild_id,
            channel_id: interaction.channel_id,
            asker: Some(insights.hasher.hash(interaction.user.id)),
            latency,
        };
        insights.recorder.record(QuestionRecord::new(
            answer_id,
            answer,
            asked,
            &insights.settings,
        ));
    }

    /// Handles one interaction to the end, sending every response through `reply`.
    ///
    /// # Errors
    /// Only when a response could not be sent; every other failure has already been
    /// answered (and logged, when it was not the user's).
    pub async fn handle(
        &self,
        interaction: &Interaction,
        reply: &impl Responder,
    ) -> Result<(), SendError> {
        let started = Instant::now();
        let mut outcome = "answered";
        let result = self.respond(interaction, reply, &mut outcome).await;
        if result.is_err() {
            outcome = "send_failed";
        }
        let command = command_label(&interaction.data);
        metrics::counter!("spacecollab_interactions_total", "command" => command, "outcome" => outcome)
            .increment(1);
        if outcome == "answered" && matches!(command, "ask" | "search") {
            metrics::histogram!("spacecollab_answer_seconds", "command" => command)
                .record(started.elapsed().as_secs_f64());
        }
        result
    }

    /// [`Bot::handle`], noting in `outcome` how it ended for the metrics: `answered`
    /// (the default), `restarting`, `cooldown`, `busy`, `refused` (any other
    /// [`UserError`]) or `failed` (an internal error).
    async fn respond(
        &self,
        interaction: &Interaction,
        reply: &impl Responder,
        outcome: &mut &'static str,
    ) -> Result<(), SendError> {
        let Some(_working) = self.in_flight.enter() else {
            *outcome = "restarting";
            tracing::info!(
                interaction_id = interaction.id,
                "refused an interaction: shutting down"
            );
            let response = match interaction.data {
                Data::Autocomplete(_) => Response::Autocomplete(Vec::new()),
                _ => Response::Message(render::notice(RESTARTING)),
            };
            return reply.send(response).await;
        };
        let reply = Tracked {
            inner: reply,
            answered: AtomicBool::new(false),
        };
        let ran = match Action::parse(&interaction.data) {
            Ok(Action::Command(command)) if command.is_question() => {
                match self.admit(interaction) {
                    Ok(_answering) => command.run(self, interaction, &reply).await,
                    Err((why, refusal)) => {
                        *outcome = why;
                        Err(refusal.into())
                    }
                }
            }
            Ok(Action::Command(command)) => command.run(self, interaction, &reply).await,
            Ok(Action::Autocomplete { command, typed }) => {
                let choices = Command::autocomplete(self, &command, &typed);
                reply.send(Response::Autocomplete(choices)).await?;
                Ok(())
            }
            Ok(Action::Button(button)) => button.press(self, interaction, &reply).await,
            Ok(Action::Note(submit)) => submit.send(self, interaction, &reply).await,
            Err(refusal) => Err(refusal.into()),
        };
        let Err(error) = ran else {
            return Ok(());
        };
        // Once a send failed, nothing else will get through: report it to the caller.
        let error = match error.downcast::<SendError>() {
            Ok(send) => return Err(send),
            Err(error) => error,
        };
        let text = match error.downcast_ref::<UserError>() {
            Some(refusal) => {
                if *outcome == "answered" {
                    *outcome = "refused";
                }
                refusal.text().to_string()
            }
            None => {
                *outcome = "failed";
                error::apology(error::log_internal(&error, "an interaction"))
            }
        };
        if matches!(interaction.data, Data::Autocomplete(_)) {
            // Autocomplete takes nothing but choices.
            return reply.send(Response::Autocomplete(Vec::new())).await;
        }
        let notice = render::notice(&text);
        if reply.answered.load(Ordering::Acquire) {
            reply.send(Response::Edit(notice)).await
        } else {
            reply.send(Response::Message(notice)).await
        }
    }

    /// Lets a question through `[limits]`: the asker's cooldown (admins are exempt),
    /// then the bound on answers at once, whose permit the caller holds until it has
    /// answered.
    ///
    /// # Errors
    /// Which limit refused (`cooldown` or `busy`), and a [`UserError`] saying when to
    /// try again.
    fn admit(
        &self,
        interaction: &Interaction,
    ) -> Result<OwnedSemaphorePermit, (&'static str, UserError)> {
        let user_id = interaction.user.id;
        if !interaction.is_admin(&self.config.admin) {
            if let Err(wait) = self.limits.cooldown.check(user_id, Instant::now()) {
                metrics::counter!("spacecollab_cooldowns_total").increment(1);
                tracing::info!(
                    user_id,
                    wait_s = wait.as_secs_f64(),
                    "question refused: per-user cooldown"
                );
                return Err(("cooldown", UserError::new(limits::cooldown_text(wait))));
            }
        }
        self.limits.start_answer().ok_or_else(|| {
            metrics::counter!("spacecollab_busy_total").increment(1);
            tracing::warn!(
                user_id,
                answers_at_once = self.config.limits.answers_at_once,
                "question refused: too many answers at once"
            );
            ("busy", UserError::new(limits::BUSY))
        })
    }

    /// Runs `job` on the engine in a task of its own, so that the caller can defer its
    /// reply while the task waits or runs.
    ///
    /// The job runs on a runtime worker, not in `spawn_blocking`: an answer takes a
    /// fraction of a millisecond on the bundled corpus (a few on 50,000 passages), less
    /// than handing it to a blocking thread and back costs under load (with 50
    /// interactions in flight, 2,000–2,300 interactions/s through `spawn_blocking`,
    /// 2,700–3,400 without). At most one job per worker runs at a time; limiting them
    /// further with a semaphore made no measurable difference.
    pub(super) fn on_engine<T: Send + 'static>(
        &self,
        job: impl FnOnce(&Engine) -> T + Send + 'static,
    ) -> JoinHandle<T> {
        let engine = Arc::clone(&self.engine);
        tokio::spawn(async move { job(&engine) })
    }
}

/// What an interaction was, for metric labels: a registered command's name, or its kind
/// (never what a user typed, which would make a label per typo).
fn command_label(data: &Data) -> &'static str {
    match data {
        Data::Command(command) => Command::NAMES
            .iter()
            .find(|&&name| name == command.name)
            .map_or("unknown", |&name| name),
        Data::Autocomplete(_) => "autocomplete",
        Data::Component(_) => "button",
        Data::ModalSubmit(_) => "modal",
    }
}

/// Remembers whether a first response went out, so that an error after a deferral is
/// shown by editing it (a second callback would be refused).
struct Tracked<'a, R> {
    inner: &'a R,
    answered: AtomicBool,
}

impl<R: Responder> Responder for Tracked<'_, R> {
    async fn send(&self, response: Response) -> Result<(), SendError> {
        let first = !matches!(response, Response::Edit(_));
        self.inner.send(response).await?;
        if first {
            self.answered.store(true, Ordering::Release);
        }
        Ok(())
    }
}
