//! Configuration: `config.toml` read strictly (an unknown key is an error that names it),
//! then validated into a [`Config`] the rest of the program trusts. Secrets never live
//! here: the Discord token comes from the `DISCORD_TOKEN` environment variable.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::answer::AnswerSettings;
use crate::insights::{self, Database, InsightsConfig};

/// A config file that cannot be used, with the file and line or key at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path}:{line}: {message}")]
pub struct ConfigError {
    pub path: String,
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    corpus: RawCorpus,
    #[serde(default)]
    index: RawIndex,
    #[serde(default)]
    answer: RawAnswer,
    #[serde(default)]
    discord: RawDiscord,
    #[serde(default)]
    admin: RawAdmin,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    metrics: RawMetrics,
    #[serde(default)]
    insights: RawInsights,
    #[serde(default)]
    http: RawHttp,
    #[serde(default)]
    database: RawDatabase,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    listen: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    url: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetrics {
    listen: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    per_user: Option<Spanned<usize>>,
    per_user_seconds: Option<Spanned<usize>>,
    answers_at_once: Option<Spanned<usize>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCorpus {
    path: Option<PathBuf>,
}

// Values that are validated after parsing keep their place in the file (`Spanned`), so
// that an error names the line of the value at fault.

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndex {
    path: Option<PathBuf>,
    threads: Option<Spanned<usize>>,
    watch: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnswer {
    limit: Option<Spanned<usize>>,
    snippet_chars: Option<Spanned<usize>>,
    min_coverage: Option<Spanned<f32>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDiscord {
    #[serde(default)]
    guild_ids: Vec<Spanned<u64>>,
    api_base_url: Option<Spanned<String>>,
    gateway_url: Option<Spanned<String>>,
    ask_private: Option<bool>,
    search_private: Option<bool>,
    defer_after_ms: Option<Spanned<u64>>,
    shutdown_grace_ms: Option<Spanned<u64>>,
    proxy_ratelimits: Option<bool>,
    public_key: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdmin {
    #[serde(default)]
    user_ids: Vec<Spanned<u64>>,
    #[serde(default)]
    role_ids: Vec<Spanned<u64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInsights {
    enabled: Option<bool>,
    retention_days: Option<Spanned<u32>>,
    store_question_text: Option<bool>,
    record_command_line: Option<bool>,
}

/// A value that parsed but is not allowed: its key, where it is in the file (bytes),
/// and why it is refused.
#[derive(Debug)]
struct Invalid {
    key: &'static str,
    span: Range<usize>,
    message: String,
}

impl Invalid {
    fn new<T>(key: &'static str, value: &Spanned<T>, message: impl Into<String>) -> Invalid {
        Invalid {
            key,
            span: value.span(),
            message: message.into(),
        }
    }
}

/// The 1-based line of byte `offset` in `text`.
fn line_at(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(1, |before| before.matches('\n').count() + 1)
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub corpus_path: PathBuf,
    pub index_path: PathBuf,
    pub index_threads: usize,
    pub watch: bool,
    pub answer: AnswerSettings,
    pub discord: DiscordConfig,
    pub admin: AdminConfig,
    pub limits: LimitsConfig,
    /// `[metrics] listen`: where to serve Prometheus metrics; `None` (the default) for
    /// no endpoint.
    pub metrics_listen: Option<std::net::SocketAddr>,
    pub insights: InsightsConfig,
    /// `[http] listen`: where to take Discord's interactions over HTTP instead of the
    /// gateway; `None` (the default) for the gateway.
    pub http_listen: Option<std::net::SocketAddr>,
    /// `[database] url`: the database replicas share; `None` (the default) for SQLite
    /// next to the index (see [`Config::database`]). Its `Debug` hides the password.
    pub database_url: Option<Database>,
}

/// The `[limits]` section: how many questions a user may ask, and how many answers are
/// worked on at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitsConfig {
    /// Questions (`/ask`, `/search`) one user may ask in `per_user_seconds`; 0 for no
    /// limit. Admins are exempt.
    pub per_user: usize,
    pub per_user_seconds: u64,
    /// Answers worked on at once; beyond it users are told the bot is busy. An answer
    /// holds its place until it is sent, a Discord round trip (about 100 ms, more when
    /// Discord is slow) after the few milliseconds of computing it, so the bound is
    /// sized for what arrives in that time: 256 (the Discord bench alone keeps 50 in
    /// flight).
    pub answers_at_once: usize,
}

/// The `[discord]` section.
#[derive(Debug, Clone, Default)]
pub struct DiscordConfig {
    /// Register commands in these guilds (instant) instead of globally (up to an hour).
    pub guild_ids: Vec<u64>,
    /// Base URL of Discord's REST API, or of a proxy in front of it.
    pub api_base_url: Option<String>,
    /// Gateway address to connect to instead of the one Discord announces.
    pub gateway_url: Option<String>,
    /// Whether `/ask` replies are ephemeral when the user does not say.
    pub ask_private: bool,
    /// Whether `/search` replies are ephemeral when the user does not say.
    pub search_private: bool,
    /// An answer not ready after this many milliseconds is deferred, then edited in.
    pub defer_after_ms: u64,
    /// On SIGTERM or SIGINT, how long the interactions in flight may take to finish.
    pub shutdown_grace_ms: u64,
    /// Whether the proxy at `api_base_url` does the rate limiting, so that the bot does
    /// not wait out Discord's buckets itself (it honours a 429 either way).
    pub proxy_ratelimits: bool,
    /// The application's Ed25519 public key (hex), which signs the interactions the
    /// HTTP mode receives.
    pub public_key: Option<String>,
    /// The gateway shards this process runs (`serve --shards`); all of them when `None`.
    pub shards: Option<ShardRange>,
}

/// Gateway shards `first..=last` out of `total`, so that several processes can split
/// the servers between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardRange {
    pub first: u32,
    pub last: u32,
    pub total: u32,
}

impl ShardRange {
    /// Reads `first-last` (or one shard, `n`) out of `total`.
    ///
    /// # Errors
    /// A sentence naming what is wrong.
    pub fn parse(range: &str, total: u32) -> Result<ShardRange, String> {
        let (first, last) = range.split_once('-').unwrap_or((range, range));
        let number = |text: &str| {
            text.trim().parse::<u32>().map_err(|_| {
                format!("--shards must be a shard number or a range such as 0-3, not \"{range}\"")
            })
        };
        let (first, last) = (number(first)?, number(last)?);
        if first > last {
            return Err(format!("--shards {range} ends before it starts"));
        }
        if total == 0 || last >= total {
            return Err(format!(
                "--shards {range} needs --shard-total above {last} (shards are numbered from 0)"
            ));
        }
        Ok(ShardRange { first, last, total })
    }
}

/// The `[admin]` section: who may run `/reindex` besides members with Manage Server.
#[derive(Debug, Clone, Default)]
pub struct AdminConfig {
    pub user_ids: Vec<u64>,
    pub role_ids: Vec<u64>,
}

impl Default for Config {
    fn default() -> Config {
        Config::from_raw(RawConfig::default(), Path::new("")).expect("defaults are valid")
    }
}

impl Config {
    /// The database for insights and what replicas share: `[database] url`, or else
    /// `insights.sqlite` next to the index folder (which a command-line `--index` may
    /// have moved since the file was read).
    pub fn database(&self) -> Database {
        self.database_url
            .clone()
            .unwrap_or_else(|| Database::Sqlite(insights::database_path(&self.index_path)))
    }

    /// Reads and validates a config file. Relative paths in it are taken from the file's folder.
    ///
    /// # Errors
    /// When the file cannot be read, is not TOML, has an unknown key or an invalid value.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError {
            path: path.display().to_string(),
            line: 1,
            message: format!("cannot read the config file: {error}"),
        })?;
        let base = path.parent().unwrap_or(Path::new(""));
        Config::parse(&text, base, &path.display().to_string())
    }

    /// Parses config text; `base` resolves relative paths, `name` is used in errors.
    ///
    /// # Errors
    /// As [`Config::load`].
    pub fn parse(text: &str, base: &Path, name: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|error| ConfigError {
            path: name.to_string(),
            line: error.span().map_or(1, |span| line_at(text, span.start)),
            message: error.message().trim().to_string(),
        })?;
        Config::from_raw(raw, base).map_err(|invalid| ConfigError {
            path: name.to_string(),
            line: line_at(text, invalid.span.start),
            message: format!("`{}` {}", invalid.key, invalid.message),
        })
    }

    fn from_raw(raw: RawConfig, base: &Path) -> Result<Config, Invalid> {
        let resolve = |path: PathBuf| {
            if path.is_absolute() {
                path
            } else {
                base.join(path)
            }
        };
        let defaults = AnswerSettings::default();
        let within =
            |key, value: &Option<Spanned<usize>>, range: std::ops::RangeInclusive<usize>| {
                match value {
                    Some(value) if !range.contains(value.get_ref()) => Err(Invalid::new(
                        key,
                        value,
                        format!("must be between {} and {}", range.start(), range.end()),
                    )),
                    _ => Ok(value.as_ref().map(|v| *v.get_ref())),
                }
            };
        let limit = within("limit", &raw.answer.limit, 1..=25)?;
        let snippet_chars = within("snippet_chars", &raw.answer.snippet_chars, 50..=4_000)?;
        let threads = within("threads", &raw.index.threads, 1..=64)?;
        let per_user = within("per_user", &raw.limits.per_user, 0..=1_000)?;
        let per_user_seconds = within("per_user_seconds", &raw.limits.per_user_seconds, 1..=3_600)?;
        let answers_at_once = within("answers_at_once", &raw.limits.answers_at_once, 1..=10_000)?;
        if let Some(coverage) = &raw.answer.min_coverage {
            if !(0.0..=1.0).contains(coverage.get_ref()) {
                return Err(Invalid::new(
                    "min_coverage",
                    coverage,
                    "must be between 0 and 1",
                ));
            }
        }
        let answer = AnswerSettings {
            limit: limit.unwrap_or(defaults.limit),
            snippet_chars: snippet_chars.unwrap_or(defaults.snippet_chars),
            min_coverage: raw
                .answer
                .min_coverage
                .map_or(defaults.min_coverage, Spanned::into_inner),
            weights: defaults.weights,
        };
        let threads = threads.unwrap_or_else(default_threads);
        for (key, url) in [
            ("api_base_url", &raw.discord.api_base_url),
            ("gateway_url", &raw.discord.gateway_url),
        ] {
            if let Some(url) = url {
                let parsed = url::Url::parse(url.get_ref())
                    .map_err(|e| Invalid::new(key, url, format!("is not a valid URL: {e}")))?;
                let schemes: &[&str] = if key == "gateway_url" {
                    &["ws", "wss"]
                } else {
                    &["http", "https"]
                };
                if !schemes.contains(&parsed.scheme()) {
                    return Err(Invalid::new(
                        key,
                        url,
                        format!("must start with {}://", schemes.join(":// or ")),
                    ));
                }
            }
        }
        if let Some(ms) = &raw.discord.defer_after_ms {
            if *ms.get_ref() > 2_500 {
                return Err(Invalid::new(
                    "defer_after_ms",
                    ms,
                    "must be at most 2500, to answer within Discord's 3-second deadline",
                ));
            }
        }
        if let Some(ms) = &raw.discord.shutdown_grace_ms {
            if *ms.get_ref() > 60_000 {
                return Err(Invalid::new(
                    "shutdown_grace_ms",
                    ms,
                    "must be at most 60000 (one minute), or a restart would wait that long",
                ));
            }
        }
        for (key, ids) in [
            ("guild_ids", &raw.discord.guild_ids),
            ("user_ids", &raw.admin.user_ids),
            ("role_ids", &raw.admin.role_ids),
        ] {
            if let Some(zero) = ids.iter().find(|id| *id.get_ref() == 0) {
                return Err(Invalid::new(
                    key,
                    zero,
                    "must not contain 0, which is never a Discord id",
                ));
            }
        }
        let metrics_listen = listen_address(&raw.metrics.listen, "127.0.0.1:9184")?;
        let insights_defaults = InsightsConfig::default();
        if let Some(days) = &raw.insights.retention_days {
            if !(1..=3_650).contains(days.get_ref()) {
                return Err(Invalid::new(
                    "retention_days",
                    days,
                    "must be between 1 and 3650",
                ));
            }
        }
        let insights = InsightsConfig {
            enabled: raw.insights.enabled.unwrap_or(insights_defaults.enabled),
            retention_days: raw
                .insights
                .retention_days
                .map_or(insights_defaults.retention_days, Spanned::into_inner),
            store_question_text: raw
                .insights
                .store_question_text
                .unwrap_or(insights_defaults.store_question_text),
            record_command_line: raw
                .insights
                .record_command_line
                .unwrap_or(insights_defaults.record_command_line),
        };
        let http_listen = listen_address(&raw.http.listen, "0.0.0.0:8080")?;
        if let Some(key) = &raw.discord.public_key {
            let text = key.get_ref().trim();
            if text.len() != 64 || !text.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(Invalid::new(
                    "public_key",
                    key,
                    "must be the 64 hex digits of the application's public key (developer portal, General Information)",
                ));
            }
        }
        // The message never repeats the URL: it may hold a password.
        let database_url = match &raw.database.url {
            Some(url) => Some(
                Database::from_url(url.get_ref(), base)
                    .map_err(|e| Invalid::new("[database] url", url, e.to_string()))?,
            ),
            None => None,
        };
        let ids = |ids: Vec<Spanned<u64>>| ids.into_iter().map(Spanned::into_inner).collect();
        Ok(Config {
            corpus_path: resolve(raw.corpus.path.unwrap_or_else(|| PathBuf::from("corpus"))),
            index_path: resolve(
                raw.index
                    .path
                    .unwrap_or_else(|| PathBuf::from(".spacecollab/index")),
            ),
            index_threads: threads,
            watch: raw.index.watch.unwrap_or(false),
            answer,
            discord: DiscordConfig {
                guild_ids: ids(raw.discord.guild_ids),
                api_base_url: raw
                    .discord
                    .api_base_url
                    .map(|u| u.get_ref().trim_end_matches('/').to_string()),
                gateway_url: raw.discord.gateway_url.map(Spanned::into_inner),
                ask_private: raw.discord.ask_private.unwrap_or(false),
                search_private: raw.discord.search_private.unwrap_or(true),
                defer_after_ms: raw
                    .discord
                    .defer_after_ms
                    .map_or(1_500, Spanned::into_inner),
                shutdown_grace_ms: raw
                    .discord
                    .shutdown_grace_ms
                    .map_or(5_000, Spanned::into_inner),
                proxy_ratelimits: raw.discord.proxy_ratelimits.unwrap_or(false),
                public_key: raw
                    .discord
                    .public_key
                    .map(|key| key.get_ref().trim().to_string()),
                shards: None,
            },
            admin: AdminConfig {
                user_ids: ids(raw.admin.user_ids),
                role_ids: ids(raw.admin.role_ids),
            },
            limits: LimitsConfig {
                per_user: per_user.unwrap_or(5),
                per_user_seconds: per_user_seconds.map_or(30, |s| s as u64),
                answers_at_once: answers_at_once.unwrap_or(256),
            },
            metrics_listen,
            insights,
            http_listen,
            database_url,
        })
    }
}

/// A `listen` key's address and port, if given; `example` shows the form in the error.
fn listen_address(
    listen: &Option<Spanned<String>>,
    example: &str,
) -> Result<Option<std::net::SocketAddr>, Invalid> {
    listen
        .as_ref()
        .map(|listen| {
            listen.get_ref().parse().map_err(|_| {
                Invalid::new(
                    "listen",
                    listen,
                    format!("must be an address and port, such as \"{example}\""),
                )
            })
        })
        .transpose()
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_parses() {
        let text = include_str!("../config.example.toml");
        let config = Config::parse(text, Path::new("/srv/bot"), "config.example.toml").unwrap();
        assert_eq!(config.corpus_path, Path::new("/srv/bot/corpus"));
        assert!(config.discord.search_private);
        assert_eq!(config.discord.shutdown_grace_ms, 5_000);
        assert_eq!(
            config.limits,
            LimitsConfig {
                per_user: 5,
                per_user_seconds: 30,
                answers_at_once: 256
            }
        );
        assert_eq!(config.insights, InsightsConfig::default());
        assert_eq!(
            config.database(),
            Database::Sqlite(PathBuf::from("/srv/bot/.spacecollab/insights.sqlite"))
        );
    }

    #[test]
    fn a_database_url_is_read_and_its_password_never_shown() {
        let text = "[database]\nurl = \"postgres://bot:hunter2@db:5432/spacecollab\"\n";
        let config = Config::parse(text, Path::new(""), "c.toml").unwrap();
        assert_eq!(
            config.database(),
            Database::Postgres("postgres://bot:hunter2@db:5432/spacecollab".into())
        );
        assert!(!format!("{config:?}").contains("hunter2"));
        let text = "[database]\nurl = \"sqlite://shared/insights.sqlite\"\n";
        let config = Config::parse(text, Path::new("/srv"), "c.toml").unwrap();
        assert_eq!(
            config.database(),
            Database::Sqlite(PathBuf::from("/srv/shared/insights.sqlite"))
        );
    }

    #[test]
    fn a_database_url_of_another_kind_is_refused_without_repeating_it() {
        let text = "[index]\nthreads = 2\n\n[database]\nurl = \"mysql://bot:hunter2@db/x\"\n";
        let error = Config::parse(text, Path::new(""), "c.toml").unwrap_err();
        assert_eq!(
            error.to_string(),
            "c.toml:5: `[database] url` must start with postgres://, postgresql:// or sqlite://"
        );
        let error = Config::parse("[database]\nurl = \"not a url\"\n", Path::new(""), "c.toml")
            .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("c.toml:2: `[database] url` is not a valid URL"),
            "{error}"
        );
    }

    #[test]
    fn shard_ranges_are_read_and_checked() {
        let range = ShardRange::parse("0-3", 8).unwrap();
        assert_eq!((range.first, range.last, range.total), (0, 3, 8));
        assert_eq!(ShardRange::parse("5", 8).unwrap().first, 5);
        assert!(ShardRange::parse("3-1", 8)
            .unwrap_err()
            .contains("ends before"));
        assert!(ShardRange::parse("0-8", 8)
            .unwrap_err()
            .contains("--shard-total"));
        assert!(ShardRange::parse("a-b", 8)
            .unwrap_err()
            .contains("--shards"));
    }

    #[test]
    fn http_keys_are_read_and_checked() {
        let key = "ab".repeat(32);
        let text =
            format!("[http]\nlisten = \"127.0.0.1:8080\"\n[discord]\npublic_key = \"{key}\"\n");
        let config = Config::parse(&text, Path::new(""), "c.toml").unwrap();
        assert_eq!(config.http_listen, Some("127.0.0.1:8080".parse().unwrap()));
        assert_eq!(config.discord.public_key.as_deref(), Some(key.as_str()));
        let error = Config::parse("[discord]\npublic_key = \"abc\"\n", Path::new(""), "c.toml")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("c.toml:2") && error.contains("public_key"),
            "{error}"
        );
        let error = Config::parse("[http]\nlisten = \"everywhere\"\n", Path::new(""), "c.toml")
            .unwrap_err()
            .to_string();
        assert!(error.contains("listen"), "{error}");
    }

    #[test]
    fn insights_keys_are_read_and_checked() {
        let text =
            "[insights]\nenabled = false\nretention_days = 30\nstore_question_text = false\n";
        let config = Config::parse(text, Path::new(""), "c.toml").unwrap();
        assert!(!config.insights.enabled && !config.insights.store_question_text);
        assert_eq!(config.insights.retention_days, 30);
        let error =
            Config::parse("[insights]\nretention_days = 0\n", Path::new(""), "c.toml").unwrap_err();
        assert_eq!(
            error.to_string(),
            "c.toml:2: `retention_days` must be between 1 and 3650"
        );
    }

    #[test]
    fn a_metrics_address_must_have_a_port() {
        let error = Config::parse(
            "[metrics]\nlisten = \"localhost\"\n",
            Path::new(""),
            "c.toml",
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "c.toml:2: `listen` must be an address and port, such as \"127.0.0.1:9184\""
        );
        let config = Config::parse(
            "[metrics]\nlisten = \"127.0.0.1:9184\"\n",
            Path::new(""),
            "c.toml",
        )
        .unwrap();
        assert_eq!(
            config.metrics_listen,
            Some("127.0.0.1:9184".parse().unwrap())
        );
    }

    #[test]
    fn a_shutdown_grace_over_a_minute_is_refused() {
        let error = Config::parse(
            "[discord]\nshutdown_grace_ms = 90000\n",
            Path::new(""),
            "c.toml",
        )
        .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("c.toml:2: `shutdown_grace_ms` must be at most 60000"),
            "{error}"
        );
    }

    #[test]
    fn an_unknown_key_is_named_with_its_line() {
        let error =
            Config::parse("[answer]\nlimit = 3\nlimt = 4\n", Path::new(""), "c.toml").unwrap_err();
        assert_eq!(error.line, 3);
        assert!(
            error.message.contains("unknown field `limt`"),
            "{}",
            error.message
        );
    }

    #[test]
    fn an_invalid_value_names_its_key_and_line() {
        let error = Config::parse("[answer]\n\nlimit = 0\n", Path::new(""), "c.toml").unwrap_err();
        assert_eq!(
            error.to_string(),
            "c.toml:3: `limit` must be between 1 and 25"
        );
    }

    #[test]
    fn the_line_is_the_values_not_a_same_named_key_elsewhere() {
        // `threads` also appears in a comment and a string before the real key.
        let text = "# threads = 99\n[corpus]\npath = \"threads = 0\"\n[index]\nthreads = 0\n";
        let error = Config::parse(text, Path::new(""), "c.toml").unwrap_err();
        assert_eq!(
            error.to_string(),
            "c.toml:5: `threads` must be between 1 and 64"
        );
        let text = "[admin]\nuser_ids = [\n  5,\n  0,\n]\n";
        let error = Config::parse(text, Path::new(""), "c.toml").unwrap_err();
        assert_eq!(
            error.to_string(),
            "c.toml:4: `user_ids` must not contain 0, which is never a Discord id"
        );
    }

    #[test]
    fn urls_are_validated() {
        let error = Config::parse(
            "[discord]\ngateway_url = \"http://x\"\n",
            Path::new(""),
            "c.toml",
        )
        .unwrap_err();
        assert!(error.message.contains("ws://"), "{}", error.message);
    }
}
