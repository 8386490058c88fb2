//! A throwaway PostgreSQL server for the tests that need the real thing: a fresh
//! cluster in a temp dir (`initdb`), a server on a free loopback port with fsync off,
//! one database, all gone when the value drops. Needs Debian's `postgresql` package;
//! without it, the test fails with a sentence saying so rather than skipping silently.

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How long a server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running server with one empty database, `spacecollab`, owned by the superuser
/// `spacecollab`, who needs no password (trust authentication on loopback).
pub struct Postgres {
    /// `postgres://spacecollab@127.0.0.1:PORT/spacecollab`.
    pub url: String,
    pub port: u16,
    server: Child,
    /// The cluster (`data/`), the server's socket and its log (`server-PORT.log`);
    /// removed after the server stops (fields drop after [`Drop::drop`]).
    pub dir: TempDir,
}

impl Postgres {
    /// Makes a cluster and starts a server on it, waiting (at most 30 s) until its
    /// database is made. Blocks the calling thread for that time: about half a second
    /// (stopping takes some 35 ms).
    ///
    /// # Panics
    /// When PostgreSQL is not installed, or the server does not start (with its log).
    pub fn start() -> Postgres {
        let bin = binaries();
        let dir = tempfile::Builder::new()
            .prefix("spacecollab-postgres")
            .tempdir()
            .expect("create a temp dir for Postgres");
        // Postgres refuses to run as root; as root (in CI containers), it runs as the
        // `postgres` user the package makes, which must own the cluster's folder.
        let owner = server_user();
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
                .expect("give the temp dir to the postgres user");
        }
        let data = dir.path().join("data");
        let initdb = as_owner(Command::new(bin.join("initdb")), owner)
            .arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "spacecollab", "-E", "UTF8"])
            .args(["--locale=C", "--no-sync", "--no-instructions"])
            .output()
            .expect("run initdb");
        assert!(
            initdb.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&initdb.stderr)
        );
        // A port found free may be taken before the server binds it: then try another.
        for _ in 0..5 {
            let port = free_port();
            let log_path = dir.path().join(format!("server-{port}.log"));
            let log = File::create(&log_path).expect("create the server log");
            let mut server = as_owner(Command::new(bin.join("postgres")), owner)
                .arg("-D")
                .arg(&data)
                .arg("-k")
                .arg(dir.path())
                .args(["-h", "127.0.0.1", "-p", &port.to_string()])
                // No fsync: a test's data need not survive a power cut.
                .args(["-F", "-c", "max_connections=200"])
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log"))
                .stderr(log)
                .spawn()
                .expect("start postgres");
            match wait_until_ready(&mut server, &bin, port, &log_path) {
                Ok(()) => {
                    return Postgres {
                        url: format!("postgres://spacecollab@127.0.0.1:{port}/spacecollab"),
                        port,
                        server,
                        dir,
                    }
                }
                Err(Exit::PortTaken) => continue,
                Err(Exit::Failed) => {
                    stop(&mut server);
                    panic!(
                        "the test Postgres did not start on port {port}: {}",
                        std::fs::read_to_string(&log_path).unwrap_or_default()
                    )
                }
            }
        }
        panic!("the test Postgres found no free port in five tries");
    }

    /// The URL with a password in it (which trust authentication ignores), to check
    /// that messages never show it.
    pub fn url_with_password(&self, password: &str) -> String {
        self.url
            .replacen("spacecollab@", &format!("spacecollab:{password}@"), 1)
    }
}

/// Waits until the server takes connections, by making the database (which only then
/// succeeds).
fn wait_until_ready(server: &mut Child, bin: &Path, port: u16, log: &Path) -> Result<(), Exit> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if server.try_wait().expect("poll postgres").is_some() {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            return Err(if log.contains("Address already in use") {
                Exit::PortTaken
            } else {
                Exit::Failed
            });
        }
        let created = Command::new(bin.join("createdb"))
            .args(["-w", "-h", "127.0.0.1", "-p", &port.to_string()])
            .args(["-U", "spacecollab", "spacecollab"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run createdb");
        if created.success() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(Exit::Failed);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Fast shutdown (SIGINT: roll back, disconnect, stop), then SIGKILL if the server has
/// not exited within 10 s.
fn stop(server: &mut Child) {
    if server.try_wait().ok().flatten().is_some() {
        return;
    }
    let _ = Command::new("kill")
        .args(["-INT", &server.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if server.try_wait().ok().flatten().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = server.kill();
    let _ = server.wait();
}

impl Drop for Postgres {
    fn drop(&mut self) {
        stop(&mut self.server);
    }
}

/// Why a server did not come up.
enum Exit {
    PortTaken,
    Failed,
}

/// The folder of `initdb`, `postgres` and `createdb`: the newest of Debian's
/// `/usr/lib/postgresql/<version>/bin`.
/// Whether Debian's PostgreSQL server is installed.
pub fn installed() -> bool {
    find_binaries().is_some()
}

fn binaries() -> PathBuf {
    find_binaries().unwrap_or_else(|| {
        panic!(
            "PostgreSQL is not installed: apt-get install postgresql (the tests of the \
             Postgres store start a server from /usr/lib/postgresql/*/bin)"
        )
    })
}

fn find_binaries() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            ["initdb", "postgres", "createdb"]
                .iter()
                .all(|name| bin.join(name).is_file())
                .then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// The `postgres` user's uid and gid when running as root, else `None` (the server
/// runs as whoever runs the tests).
fn server_user() -> Option<(u32, u32)> {
    let id = |flag| {
        let out = Command::new("id").arg(flag).output().ok()?;
        String::from_utf8(out.stdout)
            .ok()?
            .trim()
            .parse::<u32>()
            .ok()
    };
    if id("-u")? != 0 {
        return None;
    }
    let of_postgres = |flag| {
        let out = Command::new("id").args([flag, "postgres"]).output().ok()?;
        String::from_utf8(out.stdout)
            .ok()?
            .trim()
            .parse::<u32>()
            .ok()
    };
    match (of_postgres("-u"), of_postgres("-g")) {
        (Some(uid), Some(gid)) => Some((uid, gid)),
        _ => panic!("running as root, and there is no `postgres` user to run Postgres as (apt-get install postgresql makes it)"),
    }
}

fn as_owner(mut command: Command, owner: Option<(u32, u32)>) -> Command {
    use std::os::unix::process::CommandExt;
    if let Some((uid, gid)) = owner {
        command.uid(uid).gid(gid);
    }
    command
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("find a free port")
        .port()
}
