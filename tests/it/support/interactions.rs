//! Discord's side of the HTTP interactions mode: signs interactions with a test key
//! pair, as Discord signs them with the application's, and POSTs them to the bot (or to
//! a load balancer in front of several).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ed25519_dalek::{Signer as _, SigningKey};
use serde_json::Value;

/// The test application's private key; its public half goes in `[discord] public_key`.
const TEST_KEY: [u8; 32] = [0x5c; 32];

/// The hex public key the bot under test must be configured with.
pub fn public_key_hex() -> String {
    hex::encode(SigningKey::from_bytes(&TEST_KEY).verifying_key().to_bytes())
}

/// What the endpoint answered.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status; 0 when no answer came (the connection failed or closed early),
    /// with the error as the body.
    pub status: u16,
    /// The body as JSON; `Value::Null` when it is empty or not JSON.
    pub body: Value,
}

/// Posts interactions to one URL, signed unless a test says otherwise.
#[derive(Clone)]
pub struct Interactions {
    pub url: String,
    key: SigningKey,
    client: reqwest::Client,
}

impl Interactions {
    /// Posts to `url` (the endpoint's full URL, path included).
    pub fn new(url: String) -> Interactions {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(64)
            .build()
            .expect("an HTTP client");
        Interactions {
            url,
            key: SigningKey::from_bytes(&TEST_KEY),
            client,
        }
    }

    /// Signs and posts `interaction` now.
    pub async fn post(&self, interaction: &Value) -> Answer {
        let body = serde_json::to_vec(interaction).expect("serialisable");
        self.post_raw(body, now(), &self.key, "application/json")
            .await
    }

    /// Posts `body` as is, signed with `key` over `timestamp`.
    pub async fn post_raw(
        &self,
        body: Vec<u8>,
        timestamp: i64,
        key: &SigningKey,
        content_type: &str,
    ) -> Answer {
        let timestamp = timestamp.to_string();
        let mut message = timestamp.clone().into_bytes();
        message.extend_from_slice(&body);
        let signature = hex::encode(key.sign(&message).to_bytes());
        let response = self
            .client
            .post(&self.url)
            .header("content-type", content_type)
            .header("x-signature-ed25519", signature)
            .header("x-signature-timestamp", timestamp)
            .body(body)
            .send()
            .await;
        answer(response).await
    }

    /// Sends a request with any method and no signature.
    pub async fn unsigned(&self, method: reqwest::Method, body: Vec<u8>) -> Answer {
        let response = self
            .client
            .request(method, &self.url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        answer(response).await
    }

    /// Posts a signed body of `size` bytes the way a careful HTTP client does: the
    /// headers first, then the body while reading the answer, so that an early answer
    /// (413 from the Content-Length alone) is read even when the server then closes
    /// the connection on the rest of the body. Returns the status (0 for none).
    pub async fn post_oversized(&self, size: usize) -> u16 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let url = reqwest::Url::parse(&self.url).expect("a URL");
        let address = format!(
            "{}:{}",
            url.host_str().expect("a host"),
            url.port().expect("a port")
        );
        let body = vec![b' '; size];
        let timestamp = now().to_string();
        let mut message = timestamp.clone().into_bytes();
        message.extend_from_slice(&body);
        let signature = hex::encode(self.key.sign(&message).to_bytes());
        let head = format!(
            "POST {} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
             Content-Length: {size}\r\nX-Signature-Ed25519: {signature}\r\n\
             X-Signature-Timestamp: {timestamp}\r\nConnection: close\r\n\r\n",
            url.path()
        );
        let Ok(stream) = tokio::net::TcpStream::connect(&address).await else {
            return 0;
        };
        let (mut reader, mut writer) = stream.into_split();
        if writer.write_all(head.as_bytes()).await.is_err() {
            return 0;
        }
        let sending = tokio::spawn(async move {
            let _ = writer.write_all(&body).await;
            writer
        });
        let mut answer = Vec::new();
        let mut buffer = [0u8; 1024];
        let read = tokio::time::timeout(Duration::from_secs(10), async {
            while !answer.windows(2).any(|w| w == b"\r\n") {
                match reader.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => answer.extend_from_slice(&buffer[..n]),
                }
            }
        })
        .await;
        sending.abort();
        if read.is_err() {
            return 0;
        }
        // "HTTP/1.1 413 Payload Too Large"
        String::from_utf8_lossy(&answer)
            .split_whitespace()
            .nth(1)
            .and_then(|status| status.parse().ok())
            .unwrap_or(0)
    }

    /// The key Discord signs with, for tests that sign something else with it.
    pub fn key(&self) -> &SigningKey {
        &self.key
    }
}

async fn answer(response: reqwest::Result<reqwest::Response>) -> Answer {
    let response = match response {
        Ok(response) => response,
        Err(error) => {
            return Answer {
                status: 0,
                body: Value::String(error.to_string()),
            }
        }
    };
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap_or_default();
    Answer {
        status,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

/// The current Unix time in seconds, as Discord stamps requests.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
