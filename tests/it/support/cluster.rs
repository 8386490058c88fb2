//! A cluster on 127.0.0.1, on real parts: a Postgres server, replicas of the
//! `spacecollab` binary in the HTTP interactions mode (each with its own index of one
//! shared corpus), HAProxy in front of them with the committed `deploy/haproxy.cfg`,
//! and the fake Discord for the REST calls the replicas make. Everything stops when
//! the [`Cluster`] is dropped. A missing HAProxy or Postgres is a panic that says what
//! to install, never a skip.

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::fake_discord::FakeDiscord;
use super::interactions::{public_key_hex, Interactions};
use super::postgres::Postgres;

/// The replicas a cluster has.
pub const REPLICAS: usize = 3;
/// How long a replica may take to build its index and answer `/readyz`.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// One `spacecollab serve --http` process.
pub struct Replica {
    pub name: String,
    /// Where it takes interactions directly (not through the balancer).
    pub address: String,
    config: PathBuf,
    index: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

impl Replica {
    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("open the replica's log");
        let child = Command::new(env!("CARGO_BIN_EXE_spacecollab"))
            .arg("--config")
            .arg(&self.config)
            .args(["serve", "--http", &self.address, "--index"])
            .arg(&self.index)
            .env(
                "DISCORD_TOKEN",
                "MTAxMDEwMTAxMDEw.GxYzAb.fake-token_for-tests",
            )
            .env("SPACECOLLAB_REPLICA", &self.name)
            .env("RUST_LOG", "warn,spacecollab=info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .spawn()
            .expect("start a replica");
        self.child = Some(child);
    }

    /// Kills the process with SIGKILL: no shutdown, no flush.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the process again on the same address and index.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// The interactions endpoint of this replica alone.
    pub fn interactions(&self) -> Interactions {
        Interactions::new(format!(
            "http://{}{}",
            self.address,
            spacecollab::discord::http::INTERACTIONS_PATH
        ))
    }

    /// Waits until `/readyz` answers 200.
    pub async fn wait_ready(&mut self) {
        let url = format!("http://{}/readyz", self.address);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(response) = reqwest::get(&url).await {
                if response.status().is_success() {
                    return;
                }
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!(
                    "replica {} exited ({status}); its log:\n{}",
                    self.name,
                    self.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "replica {} was not ready in {START_TIMEOUT:?}; its log:\n{}",
                self.name,
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

/// HAProxy, started with `deploy/haproxy.cfg`.
pub struct Balancer {
    pub address: String,
    child: Child,
    log: PathBuf,
}

impl Balancer {
    fn start(dir: &Path, replicas: &[Replica]) -> Balancer {
        let haproxy = haproxy_path().unwrap_or_else(|| {
            panic!("HAProxy is not installed: apt-get install haproxy (the cluster test runs the real balancer; .ci/run installs it)")
        });
        let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/haproxy.cfg");
        let address = free_address();
        let log = dir.join("haproxy.log");
        let output = std::fs::File::create(&log).expect("create the balancer's log");
        let mut command = Command::new(haproxy);
        command
            .arg("-db")
            .arg("-f")
            .arg(&config)
            .env("SPACECOLLAB_LISTEN", &address)
            .stdin(Stdio::null())
            .stdout(output.try_clone().expect("clone the log handle"))
            .stderr(output);
        for (n, replica) in replicas.iter().enumerate() {
            command.env(format!("REPLICA{}", n + 1), &replica.address);
        }
        let child = command.spawn().expect("start HAProxy");
        Balancer {
            address,
            child,
            log,
        }
    }

    /// The interactions endpoint behind the balancer.
    pub fn interactions(&self) -> Interactions {
        Interactions::new(format!(
            "http://{}{}",
            self.address,
            spacecollab::discord::http::INTERACTIONS_PATH
        ))
    }

    async fn wait_ready(&mut self) {
        let url = format!("http://{}/healthz", self.address);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(response) = reqwest::get(&url).await {
                if response.status().is_success() {
                    return;
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "HAProxy exited ({status}):\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "HAProxy never passed a request on"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Postgres, the replicas, the balancer and the fake Discord, all running.
pub struct Cluster {
    pub fake: FakeDiscord,
    pub postgres: Postgres,
    pub replicas: Vec<Replica>,
    pub balancer: Balancer,
    /// The corpus every replica reads.
    pub corpus: PathBuf,
    /// The config every replica runs with.
    pub config: PathBuf,
    _dir: TempDir,
}

impl Cluster {
    /// Starts everything on a copy of `corpus` and waits until the balancer passes
    /// requests on and every replica is ready.
    pub async fn start(corpus: &Path) -> Cluster {
        let postgres = tokio::task::spawn_blocking(Postgres::start)
            .await
            .expect("start Postgres");
        let fake = FakeDiscord::start().await;
        let dir = tempfile::tempdir().expect("create temp dir");
        let shared = dir.path().join("corpus");
        copy_dir(corpus, &shared);
        let config = dir.path().join("config.toml");
        std::fs::write(
            &config,
            format!(
                "[corpus]\npath = {shared:?}\n[index]\nthreads = 1\n\
                 [discord]\napi_base_url = \"{}\"\npublic_key = \"{}\"\n\
                 [database]\nurl = \"{}\"\n[limits]\nper_user = 0\n",
                fake.api_base,
                public_key_hex(),
                postgres.url
            ),
        )
        .expect("write the config");
        let mut replicas: Vec<Replica> = (1..=REPLICAS)
            .map(|n| Replica {
                name: format!("replica{n}"),
                address: free_address(),
                config: config.clone(),
                index: dir.path().join(format!("replica{n}/index")),
                log: dir.path().join(format!("replica{n}.log")),
                child: None,
            })
            .collect();
        for replica in &mut replicas {
            replica.spawn();
        }
        for replica in &mut replicas {
            replica.wait_ready().await;
        }
        let mut balancer = Balancer::start(dir.path(), &replicas);
        balancer.wait_ready().await;
        Cluster {
            fake,
            postgres,
            replicas,
            balancer,
            corpus: shared,
            config,
            _dir: dir,
        }
    }

    /// Every replica's log, for a failing assertion's message.
    pub fn logs(&self) -> String {
        self.replicas
            .iter()
            .map(|r| format!("--- {}\n{}", r.name, r.log_text()))
            .collect()
    }
}

/// Where Debian's HAProxy is, if it is installed.
pub fn haproxy_path() -> Option<&'static str> {
    [
        "/usr/sbin/haproxy",
        "/usr/bin/haproxy",
        "/usr/local/sbin/haproxy",
    ]
    .into_iter()
    .find(|path| Path::new(path).exists())
}

/// A port nobody listens on now, on 127.0.0.1.
fn free_address() -> String {
    let listener = StdListener::bind("127.0.0.1:0").expect("bind a port");
    listener.local_addr().expect("an address").to_string()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the corpus copy");
    for entry in std::fs::read_dir(from).expect("read the corpus") {
        let entry = entry.expect("a corpus entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy a corpus file");
        }
    }
}

/// What a load run got back: each interaction's status, body and latency, by id.
pub struct Load {
    pub answers: std::collections::HashMap<u64, (u16, serde_json::Value, Duration)>,
    pub elapsed: Duration,
}

impl Load {
    /// The latencies, sorted.
    pub fn latencies(&self) -> Vec<Duration> {
        let mut latencies: Vec<Duration> = self.answers.values().map(|(_, _, l)| *l).collect();
        latencies.sort_unstable();
        latencies
    }
}

/// The latency below which a share `p` of `sorted` lies (nearest rank).
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Posts every interaction to `endpoint`, `in_flight` at a time, and notifies `mark`
/// once `mark.0` answers are in. Panics if an interaction is answered twice.
pub async fn run_load(
    endpoint: Interactions,
    interactions: Vec<serde_json::Value>,
    in_flight: usize,
    mark: Option<(usize, std::sync::Arc<tokio::sync::Notify>)>,
) -> Load {
    use std::sync::Arc;
    let answers: Arc<std::sync::Mutex<std::collections::HashMap<u64, _>>> = Arc::default();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(in_flight));
    let mark = Arc::new(mark);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for interaction in interactions {
        let permit = Arc::clone(&semaphore).acquire_owned().await.unwrap();
        let id: u64 = interaction["id"].as_str().unwrap().parse().unwrap();
        let endpoint = endpoint.clone();
        let answers = Arc::clone(&answers);
        let mark = Arc::clone(&mark);
        tasks.spawn(async move {
            let sent = Instant::now();
            let answer = endpoint.post(&interaction).await;
            let latency = sent.elapsed();
            drop(permit);
            let mut answers = answers.lock().unwrap();
            let previous = answers.insert(id, (answer.status, answer.body, latency));
            assert!(previous.is_none(), "interaction {id} answered twice");
            if let Some((count, notify)) = mark.as_ref() {
                if answers.len() == *count {
                    notify.notify_one();
                }
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("a request task panicked");
    }
    let elapsed = started.elapsed();
    let answers = std::mem::take(&mut *answers.lock().unwrap());
    Load { answers, elapsed }
}
