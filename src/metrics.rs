//! The optional Prometheus endpoint (`[metrics] listen`): counters and histograms are
//! recorded with the `metrics` crate's macros where things happen (interactions,
//! retries, refusals, reindexes); metrics-exporter-prometheus renders them as text; a
//! small HTTP/1.1 responder here serves that text on `GET /metrics`. Without `listen`,
//! no recorder is installed and every macro call costs next to nothing. The index
//! gauges are read from the engine when the page is asked for, so they are never stale.
//!
//! The names: `spacecollab_interactions_total{command, outcome}`,
//! `spacecollab_answer_seconds{command}` (a histogram of `/ask` and `/search` answers,
//! from arrival to the last response sent), `spacecollab_discord_retries_total{route}`,
//! `spacecollab_discord_give_ups_total{route}`, `spacecollab_cooldowns_total`,
//! `spacecollab_busy_total`, `spacecollab_reindexes_total{trigger, outcome}`,
//! `spacecollab_index_generation` and `spacecollab_index_passages`.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::answer::Engine;

/// Answer-time buckets, in seconds: answers take milliseconds; deferral starts at 1.5 s.
const ANSWER_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 3.0, 10.0,
];

/// Installs the recorder and serves the metrics on `listen` until the runtime ends.
///
/// # Errors
/// When a recorder is already installed in this process, or `listen` cannot be bound.
pub async fn serve(listen: SocketAddr, engine: Arc<Engine>) -> anyhow::Result<()> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("spacecollab_answer_seconds".to_string()),
            ANSWER_BUCKETS,
        )
        .context("invalid answer-time buckets")?
        .install_recorder()
        .context("cannot install the metrics recorder")?;
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen for metrics on {listen}"))?;
    tracing::info!(%listen, "serving metrics on /metrics");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (handle, engine) = (handle.clone(), Arc::clone(&engine));
            tokio::spawn(async move {
                if let Err(error) = answer(stream, &handle, &engine).await {
                    tracing::debug!(%error, "a metrics request failed");
                }
            });
        }
    });
    Ok(())
}

/// Reads one request's head and answers it: the metrics for `GET /metrics`, 404 for
/// anything else. One request per connection, which is how Prometheus scrapes.
async fn answer(
    mut stream: TcpStream,
    handle: &PrometheusHandle,
    engine: &Engine,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 8 * 1024 {
        let read =
            tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut buffer))
                .await
                .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
        if read == 0 {
            break;
        }
        head.extend_from_slice(&buffer[..read]);
    }
    let request_line = String::from_utf8_lossy(&head);
    let wanted =
        request_line.starts_with("GET /metrics ") || request_line.starts_with("GET /metrics?");
    let (status, body) = if wanted {
        let snapshot = engine.snapshot();
        metrics::gauge!("spacecollab_index_passages").set(snapshot.passage_count() as f64);
        if let Some(number) = generation_number(snapshot.generation_name()) {
            metrics::gauge!("spacecollab_index_generation").set(number as f64);
        }
        handle.run_upkeep();
        ("200 OK", handle.render())
    } else {
        (
            "404 Not Found",
            "not found; the metrics are at /metrics\n".to_string(),
        )
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

/// The number at the end of a generation's folder name (`gen-000012` is 12).
fn generation_number(name: &str) -> Option<u64> {
    let digits = name.trim_start_matches(|c: char| !c.is_ascii_digit());
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_numbers_come_from_folder_names() {
        assert_eq!(generation_number("gen-000012"), Some(12));
        assert_eq!(generation_number("gen-"), None);
    }
}
