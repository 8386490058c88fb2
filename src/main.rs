//! The `spacecollab` command: parses arguments and hands over to the library.

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use spacecollab::answer::{Answer, Engine};
use spacecollab::cluster::{Cluster, ClusterError};
use spacecollab::config::{Config, ConfigError, ShardRange};
use spacecollab::discord::redact::{redact, RedactingWriter};
use spacecollab::discord::Token;
use spacecollab::index::{CrashPoint, IndexError};
use spacecollab::insights::{self, Asked, Database, QuestionRecord, Store};
use spacecollab::reindex::{self, Reindexer, Stage};
use spacecollab::{corpus, terminal};

/// A question makes many small allocations that live as long as it (terms, the plan,
/// candidate lists): glibc's malloc and free served them at 7% of SciFact's search time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Answers questions about international collaboration in space from a curated corpus,
/// on the command line or as a Discord bot.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Config file (TOML). Default: ./config.toml when it exists.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

/// Where the documents and the index are; each flag overrides the config.
#[derive(Debug, Args)]
struct Paths {
    /// Folder or file of documents (default: corpus).
    #[arg(long, value_name = "PATH")]
    corpus: Option<PathBuf>,
    /// Folder of the search index (default: .spacecollab/index).
    #[arg(long, value_name = "DIR")]
    index: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build the search index from the corpus.
    Index {
        #[command(flatten)]
        paths: Paths,
        /// Rebuild every document instead of only those that changed.
        #[arg(long)]
        full: bool,
        /// Abort the process at this step of the build: for the crash-safety tests only.
        #[arg(long, hide = true, value_name = "STEP")]
        crash_at: Option<CrashPoint>,
    },
    /// Answer a question with the best passages from the corpus.
    Ask {
        /// The question, in plain words.
        question: String,
        /// Number of passages to show.
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..=25))]
        limit: Option<u16>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// Record the question for `spacecollab insights` (as the bot does), also when
        /// `[insights] record_command_line` is off.
        #[arg(long)]
        record: bool,
        #[command(flatten)]
        paths: Paths,
    },
    /// List the passages that match a query.
    Search {
        /// Words to search for.
        query: String,
        /// Results to show.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=100))]
        limit: u16,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        paths: Paths,
    },
    /// Ask one question after another at a prompt, as in Discord.
    Chat {
        #[command(flatten)]
        paths: Paths,
    },
    /// Run the Discord bot (token from the DISCORD_TOKEN environment variable): over
    /// the gateway, or with --http as Discord's interactions endpoint.
    Serve {
        #[command(flatten)]
        paths: Paths,
        /// Reindex a few seconds after corpus files stop changing.
        #[arg(long)]
        watch: bool,
        /// Take interactions over HTTP at this address instead of the gateway
        /// (overrides `[http] listen`).
        #[arg(long, value_name = "ADDR")]
        http: Option<std::net::SocketAddr>,
        /// With --http: do not register the commands at start-up (run `spacecollab
        /// register` once instead).
        #[arg(long)]
        no_register: bool,
        /// Gateway shards to run, such as 0-3 (with --shard-total), so that several
        /// processes split the servers.
        #[arg(
            long,
            value_name = "RANGE",
            requires = "shard_total",
            conflicts_with = "http"
        )]
        shards: Option<String>,
        /// How many gateway shards there are in all (with --shards).
        #[arg(long, value_name = "N", requires = "shards")]
        shard_total: Option<u32>,
    },
    /// Register the slash commands with Discord (token from DISCORD_TOKEN), for
    /// deployments whose replicas do not register them at start-up.
    Register,
    /// What people asked, what went unanswered and what they voted down, from the
    /// insights database next to the index.
    Insights {
        /// The last N days.
        #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=3650))]
        days: u32,
        /// Print one JSON object instead of text.
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// Print CSV (one table: kind, count, subject, text) for a spreadsheet.
        #[arg(long)]
        csv: bool,
        #[command(flatten)]
        paths: Paths,
    },
    /// Check that a curated corpus is complete and well-formed.
    CheckCorpus {
        /// Folder or file of documents (default: corpus).
        #[arg(long, value_name = "PATH")]
        corpus: Option<PathBuf>,
    },
    /// Measure answer quality: a BEIR benchmark (--corpus, --queries, --qrels) or a
    /// question file (--questions) on the corpus.
    Eval(EvalArgs),
}

/// A mistake in how the program was called or configured: exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct UsageError(String);

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The bot logs what it does; command-line use stays quiet unless RUST_LOG says otherwise.
    let default_filter = match cli.command {
        Command::Serve { .. } | Command::Register => "warn,spacecollab=info",
        _ => "warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| default_filter.into())
        // serenity's debug logs print request routes and gateway payloads, which carry
        // interaction tokens: they stay off whatever RUST_LOG says.
        .add_directive("serenity=warn".parse().expect("a valid directive"))
        // The PDF readers warn about what the loader reports itself, in one sentence
        // naming the file ("the document is encrypted ..."): their warnings only repeat it.
        .add_directive("lopdf=error".parse().expect("a valid directive"))
        .add_directive("pdf_extract=error".parse().expect("a valid directive"));
    // Every log line, at any level and from any library, passes through the redactor:
    // interaction and webhook URLs and token fields lose their tokens, and the bot token
    // (read here, before anything can log it) is removed wherever it appears.
    let secrets: Arc<[String]> = std::env::var("DISCORD_TOKEN")
        .ok()
        .map(|t| t.trim().trim_start_matches("Bot ").to_string())
        .filter(|t| !t.is_empty())
        .into_iter()
        .collect();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(move || RedactingWriter::new(std::io::stderr(), Arc::clone(&secrets)))
        .init();
    match run(cli) {
        Ok(code) => code,
        // A reader that stops early (`spacecollab eval | head`) closed the pipe: the
        // output it wanted was written, so that is success, not an error to print.
        Err(error) if closed_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", redact(&format!("{error:#}")));
            let usage = error
                .chain()
                .any(|cause| cause.is::<UsageError>() || cause.is::<ConfigError>());
            ExitCode::from(if usage { 2 } else { 1 })
        }
    }
}

fn closed_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// `spacecollab index`; with a shared (Postgres) database, under the cluster's reindex
/// lease, and announced there so that every replica rebuilds its own index.
fn index_and_announce(
    config: &Config,
    full: bool,
    crash_at: Option<CrashPoint>,
) -> anyhow::Result<()> {
    let database = match &config.database_url {
        Some(database) if database.backend() == "postgres" => database,
        _ => return rebuild(config, full, crash_at),
    };
    let runtime = current_thread_runtime()?;
    let cluster = runtime.block_on(async {
        let store = Store::connect(database)
            .await
            .with_context(|| format!("cannot open the database {}", database.name()))?;
        anyhow::Ok(Cluster::new(store, Cluster::default_replica_name()))
    })?;
    let lease = runtime
        .block_on(cluster.lease("spacecollab index"))
        .map_err(|error| match error {
            ClusterError::Busy { .. } => anyhow::Error::new(UsageError(error.to_string())),
            ClusterError::Database(error) => {
                anyhow::Error::new(error).context("cannot take the cluster's reindex lease")
            }
        })?;
    let built = rebuild(config, full, crash_at);
    let built_from = built.is_ok().then_some(config.corpus_path.as_path());
    if let Err(error) = runtime.block_on(lease.finish(built_from)) {
        tracing::error!(%error, "cannot announce the new index to the replicas");
    }
    built
}

fn load_config(path: Option<&PathBuf>) -> anyhow::Result<Config> {
    let default = PathBuf::from("config.toml");
    match path {
        Some(path) if !path.exists() => {
            Err(UsageError(format!("the config file {} does not exist", path.display())).into())
        }
        Some(path) => Ok(Config::load(path)?),
        None if default.exists() => Ok(Config::load(&default)?),
        None => Ok(Config::default()),
    }
}

fn apply(paths: &Paths, config: &mut Config) {
    if let Some(corpus) = &paths.corpus {
        config.corpus_path = corpus.clone();
    }
    if let Some(index) = &paths.index {
        config.index_path = index.clone();
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut config = load_config(cli.config.as_ref())?;
    match cli.command {
        Command::Index {
            paths,
            full,
            crash_at,
        } => {
            apply(&paths, &mut config);
            index_and_announce(&config, full, crash_at)?;
        }
        Command::Ask {
            question,
            limit,
            json,
            record,
            paths,
        } => {
            apply(&paths, &mut config);
            let engine = open_or_build(&config)?;
            let started = Instant::now();
            let answer = engine.ask(&question, limit.map(usize::from));
            let latency = started.elapsed();
            if json {
                writeln!(io::stdout(), "{}", serde_json::to_string_pretty(&answer)?)?;
            } else {
                let terms = engine.snapshot().terms(&question).terms;
                write!(
                    io::stdout(),
                    "{}",
                    terminal::render_answer(&answer, &terms, terminal::stdout_has_color())
                )?;
            }
            // After the answer is out: recording never delays it.
            if record || config.insights.record_command_line {
                record_question(&config, &answer, latency);
            }
        }
        Command::Search {
            query,
            limit,
            json,
            paths,
        } => {
            apply(&paths, &mut config);
            let engine = open_or_build(&config)?;
            let hits = engine.search(&query, 0, usize::from(limit));
            if json {
                writeln!(io::stdout(), "{}", serde_json::to_string_pretty(&hits)?)?;
            } else if hits.is_empty() {
                writeln!(io::stdout(), "No results for \"{query}\".")?;
            } else {
                let color = terminal::stdout_has_color();
                let mut out = String::new();
                for (i, hit) in hits.iter().enumerate() {
                    terminal::render_hit(&mut out, i + 1, hit, color);
                }
                write!(io::stdout(), "{out}")?;
            }
        }
        Command::Chat { paths } => {
            apply(&paths, &mut config);
            chat(&open_or_build(&config)?)?;
        }
        Command::Serve {
            paths,
            watch,
            http,
            no_register,
            shards,
            shard_total,
        } => {
            apply(&paths, &mut config);
            config.watch |= watch;
            if let (Some(range), Some(total)) = (&shards, shard_total) {
                config.discord.shards = Some(ShardRange::parse(range, total).map_err(UsageError)?);
            }
            let listen = http.or(config.http_listen);
            if listen.is_some() && config.discord.public_key.is_none() {
                return Err(UsageError(
                    "the HTTP interactions mode needs [discord] public_key in the config (the application's public key, from Discord's developer portal)".into(),
                )
                .into());
            }
            // Checked before anything else, so a missing token fails fast and clearly.
            let token = Token::from_env().map_err(|e| UsageError(e.to_string()))?;
            let engine = Arc::new(open_or_build(&config)?);
            let runtime =
                tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            let served = runtime.block_on(async {
                match listen {
                    Some(listen) => {
                        let listener = spacecollab::discord::http::bind(listen).await?;
                        spacecollab::discord::serve_http(
                            config,
                            engine,
                            token,
                            listener,
                            !no_register,
                            shutdown_signal(),
                        )
                        .await
                    }
                    None => {
                        spacecollab::discord::serve(config, engine, token, shutdown_signal()).await
                    }
                }
            });
            // A reindex still running on a blocking thread is not waited for: its lock and
            // leftovers are cleaned up at the next start.
            runtime.shutdown_timeout(Duration::from_secs(1));
            served?;
        }
        Command::Register => {
            let token = Token::from_env().map_err(|e| UsageError(e.to_string()))?;
            let runtime =
                tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            let failed = runtime.block_on(spacecollab::discord::register_with_token(
                &token,
                config.discord.api_base_url.as_deref(),
                &config.discord.guild_ids,
            ))?;
            if failed > 0 {
                writeln!(
                    io::stderr(),
                    "error: {failed} registration(s) failed; see the log above"
                )?;
                return Ok(ExitCode::FAILURE);
            }
            writeln!(io::stdout(), "Registered the commands.")?;
        }
        Command::Insights {
            days,
            json,
            csv,
            paths,
        } => {
            apply(&paths, &mut config);
            let report = insights_report(&config, days)?;
            if json {
                writeln!(io::stdout(), "{}", serde_json::to_string_pretty(&report)?)?;
            } else if csv {
                write!(io::stdout(), "{}", report.to_csv())?;
            } else {
                write!(io::stdout(), "{report}")?;
            }
        }
        Command::Eval(args) => return eval(args, &config),
        Command::CheckCorpus { corpus } => {
            let root = corpus.unwrap_or(config.corpus_path);
            if !root.exists() {
                return Err(UsageError(format!(
                    "the corpus path {} does not exist",
                    root.display()
                ))
                .into());
            }
            let problems = corpus::check_corpus(&root)
                .with_context(|| format!("cannot check {}", root.display()))?;
            if problems.is_empty() {
                writeln!(io::stdout(), "{}: no problems found.", root.display())?;
            } else {
                for problem in &problems {
                    writeln!(io::stdout(), "{problem}")?;
                }
                eprintln!("{} problem(s) found in {}.", problems.len(), root.display());
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Records a question asked on the command line in the insights database; a failure is
/// a warning on stderr, never a failed answer.
fn record_question(config: &Config, answer: &Answer, latency: Duration) {
    if !config.insights.enabled {
        eprintln!("warning: the question was not recorded: insights are turned off (`enabled = false` under [insights])");
        return;
    }
    let database = config.database();
    let asked = Asked {
        command: "cli",
        latency,
        ..Asked::default()
    };
    let record = QuestionRecord::new(insights::new_answer_id(), answer, asked, &config.insights);
    let written = current_thread_runtime().and_then(|runtime| {
        runtime.block_on(async {
            let store = Store::connect(&database).await?;
            store.insert_questions(&[record]).await?;
            store.close().await;
            Ok(())
        })
    });
    if let Err(error) = written {
        eprintln!("warning: the question was not recorded: {error:#}");
    }
}

/// The insights of the last `days` days; with no database yet, an empty report (no
/// database is made for it).
fn insights_report(config: &Config, days: u32) -> anyhow::Result<insights::Report> {
    let engine = open_or_build(config)?;
    let snapshot = engine.snapshot();
    let documents = snapshot.documents();
    let database = config.database();
    let missing = match &database {
        Database::Sqlite(path) => Some(path).filter(|path| !path.exists()),
        Database::Postgres(_) => None,
    };
    if let Some(path) = missing {
        eprintln!("No question recorded yet: there is no {}.", path.display());
        return Ok(insights::Report {
            days,
            never_shown: documents.iter().map(|d| d.title.clone()).collect(),
            ..insights::Report::default()
        });
    }
    current_thread_runtime()?.block_on(async {
        let store = Store::connect(&database).await?;
        store.delete_expired(config.insights.retention_days).await?;
        let report = store.report(days, documents).await?;
        store.close().await;
        Ok(report)
    })
}

fn current_thread_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Opens the index, building it from the corpus first (with a progress bar and a
/// summary) when there is none yet, so that a new user's first question just works.
fn open_or_build(config: &Config) -> anyhow::Result<Engine> {
    check_corpus_path(config)?;
    let bar = progress_bar();
    let (engine, built) = reindex::open_or_build(
        &config.corpus_path,
        &config.index_path,
        config.index_threads,
        config.answer,
        |why| {
            let why = match why {
                IndexError::OtherFormat { found, .. } => format!(
                    "The index in {} was written by another version (format {found})",
                    config.index_path.display()
                ),
                _ => format!("No index yet in {}", config.index_path.display()),
            };
            eprintln!("{why}; building it from {}.", config.corpus_path.display());
        },
        |stage| show_stage(&bar, stage),
    )
    .with_context(|| format!("cannot open the index in {}", config.index_path.display()))?;
    bar.finish_and_clear();
    if let Some(report) = built {
        print_summary(&report);
    }
    Ok(engine)
}

/// Builds the index with a progress bar (on a terminal) and prints a one-line summary.
fn rebuild(config: &Config, full: bool, crash_at: Option<CrashPoint>) -> anyhow::Result<()> {
    check_corpus_path(config)?;
    let bar = progress_bar();
    let reindexer = Reindexer::new(
        &config.corpus_path,
        &config.index_path,
        config.index_threads,
    )
    .crashing_at(crash_at);
    let report = reindexer
        .try_start("spacecollab index")
        .and_then(|ticket| reindexer.run(ticket, full, |stage| show_stage(&bar, stage)))
        .with_context(|| format!("cannot index {}", config.corpus_path.display()))?;
    bar.finish_and_clear();
    print_summary(&report);
    Ok(())
}

fn check_corpus_path(config: &Config) -> anyhow::Result<()> {
    if config.corpus_path.exists() {
        Ok(())
    } else {
        Err(UsageError(format!(
            "the corpus path {} does not exist",
            config.corpus_path.display()
        ))
        .into())
    }
}

/// A bar for reindex progress; indicatif draws nothing when stderr is not a terminal.
fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg:>9} [{bar:30}] {pos}/{len} ({elapsed})")
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    bar
}

fn show_stage(bar: &ProgressBar, stage: Stage) {
    let (message, done, total) = match stage {
        Stage::Reading(done, total) => ("reading", done, total),
        Stage::Indexing(done, total) => ("indexing", done, total),
    };
    bar.set_message(message);
    bar.set_length(total as u64);
    bar.set_position(done as u64);
}

fn print_summary(report: &reindex::Report) {
    for skipped in &report.skipped {
        eprintln!("skipped {skipped}");
    }
    // The breakdown by format says something only when formats are mixed or files were
    // skipped; it stays on the summary's one line, before the count of skipped files.
    let mut by_format = String::new();
    if report.formats.len() > 1 || !report.skipped.is_empty() {
        for format in &report.formats {
            by_format.push_str(&format!("{format}; "));
        }
    }
    eprintln!(
        "Indexed {} documents ({} passages, {:.1} MB) in {:.2} s; {} added, {} changed, {} removed; {by_format}{} file(s) skipped.",
        report.documents,
        report.passages,
        report.bytes as f64 / 1e6,
        report.seconds,
        report.added.len(),
        report.changed.len(),
        report.removed.len(),
        report.skipped.len()
    );
}

/// Reads questions line by line and answers each, until end of input or `quit`.
fn chat(engine: &Engine) -> anyhow::Result<()> {
    let interactive = std::io::stdin().is_terminal();
    let color = terminal::stdout_has_color();
    let snapshot = engine.snapshot();
    if interactive {
        writeln!(
            io::stdout(),
            "Ask about international collaboration in space ({} documents). Type quit to leave.",
            snapshot.documents().len()
        )?;
    }
    let mut stdout = std::io::stdout();
    let mut lines = std::io::stdin().lock().lines();
    loop {
        if interactive {
            write!(io::stdout(), "> ")?;
            stdout.flush()?;
        }
        let Some(line) = lines.next() else { break };
        let question = line.context("cannot read from standard input")?;
        let question = question.trim();
        if question.is_empty() {
            continue;
        }
        if matches!(question, "quit" | "exit" | ":q") {
            break;
        }
        let answer = engine.ask(question, None);
        let terms = snapshot.terms(question).terms;
        writeln!(
            io::stdout(),
            "{}",
            terminal::render_answer(&answer, &terms, color)
        )?;
    }
    Ok(())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM, whichever comes first.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// Arguments of `spacecollab eval`; which set is given picks the kind of evaluation.
#[derive(Debug, Args)]
struct EvalArgs {
    /// BEIR corpus (.jsonl or .jsonl.gz); with --questions, the documents to answer from
    /// (default: the configured corpus).
    #[arg(long, value_name = "PATH")]
    corpus: Option<PathBuf>,
    /// BEIR queries (.jsonl or .jsonl.gz).
    #[arg(long, value_name = "FILE", requires_all = ["corpus", "qrels"], conflicts_with = "questions")]
    queries: Option<PathBuf>,
    /// BEIR relevance judgements (TSV: query-id corpus-id score).
    #[arg(long, value_name = "FILE", requires = "queries")]
    qrels: Option<PathBuf>,
    /// Question file (JSON Lines of {"question", "expect": [regex]} or {"question", "expect_no_answer": true}).
    #[arg(long, value_name = "FILE")]
    questions: Option<PathBuf>,
    /// Print the scores as JSON.
    #[arg(long)]
    json: bool,
    /// Also write the BEIR ranking as a TREC run file.
    #[arg(long, value_name = "FILE", requires = "queries")]
    run: Option<PathBuf>,
    /// Timed passes over the BEIR queries (after a warm-up pass); the speed is their
    /// median. More passes give steadier figures on a busy machine.
    #[arg(long, value_name = "N", requires = "queries",
          default_value_t = spacecollab::eval::TIMED_PASSES,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000))]
    passes: usize,
}

/// Runs `spacecollab eval` and prints the scores.
fn eval(args: EvalArgs, config: &Config) -> anyhow::Result<ExitCode> {
    use spacecollab::eval::{self as evaluation, BeirFiles};
    let threads = config.index_threads;
    if let (Some(queries), Some(qrels), Some(corpus)) = (args.queries, args.qrels, &args.corpus) {
        let files = BeirFiles {
            corpus: corpus.clone(),
            queries,
            qrels,
        };
        let (report, rankings) = evaluation::run_beir(&files, config.answer, threads, args.passes)?;
        if let Some(path) = &args.run {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            let mut out = std::io::BufWriter::new(file);
            evaluation::write_run(&rankings, &mut out)
                .and_then(|()| out.flush())
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        if args.json {
            writeln!(io::stdout(), "{}", serde_json::to_string_pretty(&report)?)?;
        } else {
            write!(io::stdout(), "{report}")?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let Some(questions) = args.questions else {
        return Err(UsageError(
            "give --questions FILE, or --corpus, --queries and --qrels for a BEIR set".into(),
        )
        .into());
    };
    let corpus = args.corpus.unwrap_or_else(|| config.corpus_path.clone());
    let report = evaluation::eval_questions(&questions, &corpus, config.answer, threads)?;
    if args.json {
        writeln!(io::stdout(), "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        write!(io::stdout(), "{report}")?;
    }
    Ok(ExitCode::SUCCESS)
}
