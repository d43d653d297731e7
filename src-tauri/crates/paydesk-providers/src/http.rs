//! HTTP plumbing shared by the adapters: client construction with timeouts, an injectable
//! clock, and bounded retries with backoff for calls the providers document as safe to repeat.

use crate::error::{ErrorKind, ProviderError};
use paydesk_core::Provider;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// A source of "now" (Unix seconds), injectable for signature-freshness tests.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now_unix(&self) -> i64;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix(&self) -> i64 {
        chrono::Utc::now().timestamp()
    }
}

/// A clock frozen at a given instant.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub i64);

impl Clock for FixedClock {
    fn now_unix(&self) -> i64 {
        self.0
    }
}

pub fn system_clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// Timeouts and retry policy.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Whole-request timeout for every call.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Extra attempts after the first, only for retryable errors on idempotent calls.
    pub max_retries: u32,
    /// First backoff delay; doubled on every retry, capped at `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_retries: 2,
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(5),
        }
    }
}

pub(crate) fn build_client(
    provider: Provider,
    opts: &HttpOptions,
) -> Result<reqwest::Client, ProviderError> {
    reqwest::Client::builder()
        .timeout(opts.timeout)
        .connect_timeout(opts.connect_timeout)
        .user_agent(concat!("paydesk/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| {
            ProviderError::new(
                provider,
                "http client",
                ErrorKind::Config {
                    detail: e.to_string(),
                },
            )
        })
}

/// Converts a reqwest error without leaking the URL (it can carry download tokens).
pub(crate) fn transport_error(
    provider: Provider,
    call: &str,
    err: reqwest::Error,
) -> ProviderError {
    let timeout = err.is_timeout();
    let err = err.without_url();
    let kind = if err.is_decode() || err.is_body() && !timeout {
        ErrorKind::Transport {
            timeout,
            detail: format!("reading the answer failed: {err}"),
        }
    } else {
        ErrorKind::Transport {
            timeout,
            detail: err.to_string(),
        }
    };
    ProviderError::new(provider, call, kind)
}

/// Runs `attempt` until it succeeds, fails with a non-retryable error, or the retry budget is
/// spent. Use only for calls that are idempotent (GETs, refunds carrying their idempotency key).
pub(crate) async fn with_retries<T, F, Fut>(
    opts: &HttpOptions,
    mut attempt: F,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let mut delay = opts.backoff;
    let mut tries = 0u32;
    loop {
        match attempt().await {
            Ok(v) => return Ok(v),
            Err(e) if e.is_retryable() && tries < opts.max_retries => {
                tries += 1;
                tracing::debug!(error = %e, tries, "retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(opts.max_backoff);
            }
            Err(e) => return Err(e),
        }
    }
}

/// Reads a response body, mapping failures to transport errors.
pub(crate) async fn read_body(
    provider: Provider,
    call: &str,
    resp: reqwest::Response,
) -> Result<Vec<u8>, ProviderError> {
    resp.bytes()
        .await
        .map(|b| b.to_vec())
        .map_err(|e| transport_error(provider, call, e))
}

/// A random string of `len` characters from `[0-9A-Za-z]`.
pub fn random_nonce(len: usize) -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| char::from(CHARS[rng.gen_range(0..CHARS.len())]))
        .collect()
}
