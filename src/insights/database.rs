//! Which database the insights (and what replicas share) live in: an SQLite file, the
//! embedded default, or a Postgres server that several replicas share. Parses
//! `[database] url` and names the database in messages without ever showing a
//! password.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where the store keeps its data.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// An SQLite file (created when missing, readable by its owner only).
    Sqlite(PathBuf),
    /// A Postgres server: the URL as configured, which may hold a password; see
    /// [`Database::name`] for the form that may be shown.
    Postgres(String),
}

/// Why a `[database] url` is refused; never holds the URL itself, which may carry a
/// password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatabaseUrlError {
    /// Not a URL at all.
    #[error("is not a valid URL ({0})")]
    Invalid(url::ParseError),
    /// A URL of a kind of database spacecollab cannot use.
    #[error("must start with postgres://, postgresql:// or sqlite://")]
    Scheme,
    /// `sqlite://` with no file after it.
    #[error("must name a file after sqlite://")]
    NoFile,
}

impl Database {
    /// The database named by `url`: `postgres://` or `postgresql://` for a Postgres
    /// server, `sqlite://PATH` (or `sqlite:PATH`) for an SQLite file, a relative PATH
    /// taken from `base`.
    ///
    /// # Errors
    /// When `url` is not a URL, or not one of those kinds.
    pub fn from_url(url: &str, base: &Path) -> Result<Database, DatabaseUrlError> {
        // An SQLite "URL" is a path behind a scheme, which a URL parser would split
        // into a host and a path; it is taken literally instead.
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(DatabaseUrlError::NoFile);
            }
            let path = Path::new(path);
            return Ok(Database::Sqlite(if path.is_absolute() {
                path.to_path_buf()
            } else {
                base.join(path)
            }));
        }
        let parsed = url::Url::parse(url).map_err(DatabaseUrlError::Invalid)?;
        match parsed.scheme() {
            "postgres" | "postgresql" => Ok(Database::Postgres(url.to_string())),
            _ => Err(DatabaseUrlError::Scheme),
        }
    }

    /// The database as it may be shown in logs and messages: the file, or the URL
    /// without its password and parameters (`postgres://user@host:port/db`).
    pub fn name(&self) -> String {
        match self {
            Database::Sqlite(path) => path.display().to_string(),
            Database::Postgres(url) => redact(url),
        }
    }

    /// "sqlite" or "postgres".
    pub fn backend(&self) -> &'static str {
        match self {
            Database::Sqlite(_) => "sqlite",
            Database::Postgres(_) => "postgres",
        }
    }
}

/// A Postgres URL without what may be secret: the password and the query (where
/// `password=` may also be given).
fn redact(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return "postgres://(an invalid URL)".to_string();
    };
    let _ = parsed.set_password(None);
    parsed.set_query(None);
    parsed.set_fragment(None);
    parsed.to_string()
}

/// Shows [`Database::name`], so that a logged config never shows the password.
impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Database({:?})", self.name())
    }
}

impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_are_named_without_their_password() {
        let database = Database::from_url(
            "postgres://bot:s3cret-pw@db.internal:5433/spacecollab?sslmode=require&password=other",
            Path::new("/srv"),
        )
        .unwrap();
        assert_eq!(database.backend(), "postgres");
        let name = database.name();
        assert_eq!(name, "postgres://bot@db.internal:5433/spacecollab");
        for shown in [name, format!("{database:?}"), database.to_string()] {
            assert!(
                !shown.contains("s3cret") && !shown.contains("other"),
                "{shown}"
            );
        }
        assert!(matches!(
            Database::from_url("postgresql://h/db", Path::new("")),
            Ok(Database::Postgres(_))
        ));
    }

    #[test]
    fn sqlite_urls_are_paths_taken_from_the_config_folder() {
        assert_eq!(
            Database::from_url("sqlite://data/insights.sqlite", Path::new("/srv/bot")),
            Ok(Database::Sqlite(PathBuf::from(
                "/srv/bot/data/insights.sqlite"
            )))
        );
        assert_eq!(
            Database::from_url("sqlite:///var/lib/x.sqlite", Path::new("/srv")),
            Ok(Database::Sqlite(PathBuf::from("/var/lib/x.sqlite")))
        );
        assert_eq!(
            Database::from_url("sqlite://", Path::new("")),
            Err(DatabaseUrlError::NoFile)
        );
    }

    #[test]
    fn other_schemes_are_refused() {
        for url in ["mysql://u:p@h/db", "http://h/db", "/var/lib/db"] {
            let error = Database::from_url(url, Path::new("")).unwrap_err();
            assert!(!error.to_string().contains(":p@"), "{error}");
        }
        assert_eq!(
            Database::from_url("mysql://u:p@h/db", Path::new("")),
            Err(DatabaseUrlError::Scheme)
        );
    }
}
