//! When a REST call to Discord is tried again, and after how long: pure decisions, so
//! that they can be tested without a clock or a network. Transient failures are retried
//! (429 after the wait Discord asks for; 500, 502, 503 and 504, and connections that
//! fail or drop, after an exponential backoff with jitter); anything else is final.
//! Nothing is retried forever: each kind of call has a number of attempts and a
//! deadline, and a retry whose wait would end past the deadline is not made.

use std::time::Duration;

/// How hard one kind of call is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// No attempt starts later than this after the call began (for a callback: after
    /// the interaction arrived).
    pub deadline: Duration,
    /// The backoff before the second attempt; it doubles each time, up to `max_backoff`.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

impl RetryPolicy {
    /// An interaction callback: Discord refuses it 3 seconds after the interaction was
    /// created, so attempts stop at 2.7 s, leaving time for the last one to arrive.
    pub const CALLBACK: RetryPolicy = RetryPolicy {
        max_attempts: 4,
        deadline: Duration::from_millis(2_700),
        first_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(800),
    };

    /// An edit of the original response, a follow-up or a command registration. The
    /// interaction token lives 15 minutes; a user waiting on "thinking…" does not, and a
    /// shutdown waits for these, so: at most 5 attempts within 60 seconds.
    pub const EDIT: RetryPolicy = RetryPolicy {
        max_attempts: 5,
        deadline: Duration::from_secs(60),
        first_backoff: Duration::from_millis(500),
        max_backoff: Duration::from_secs(8),
    };
}

/// How one attempt failed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Failure {
    /// Discord answered with this status. For a 429, `retry_after` is the longest of
    /// the waits it gave (the body's `retry_after`, the `Retry-After` and
    /// `X-RateLimit-Reset-After` headers).
    Status {
        code: u16,
        retry_after: Option<Duration>,
    },
    /// The connection could not be made, or dropped before an answer.
    Connection,
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    /// Try again after this wait.
    RetryAfter(Duration),
    /// Stop: the failure is final, or the attempts or the time are used up.
    GiveUp,
}

impl Failure {
    /// Whether trying the same call again may succeed.
    pub fn is_transient(self) -> bool {
        match self {
            Failure::Status { code, .. } => matches!(code, 429 | 500 | 502 | 503 | 504),
            Failure::Connection => true,
        }
    }
}

impl RetryPolicy {
    /// Whether to try again after attempt number `attempt` (1 for the first) failed
    /// with `failure`, `elapsed` after the call began. `jitter` (0 to 1, random in use)
    /// spreads the backoffs of calls that failed together over half their length.
    pub fn decide(
        &self,
        attempt: u32,
        elapsed: Duration,
        failure: Failure,
        jitter: f64,
    ) -> Decision {
        if !failure.is_transient() || attempt >= self.max_attempts {
            return Decision::GiveUp;
        }
        let wait = match failure {
            // Discord says how long; waiting less only earns another 429.
            Failure::Status {
                code: 429,
                retry_after: Some(wait),
            } => wait,
            _ => {
                let doubled = self
                    .first_backoff
                    .saturating_mul(1 << (attempt - 1).min(16))
                    .min(self.max_backoff);
                doubled.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
            }
        };
        if elapsed + wait >= self.deadline {
            Decision::GiveUp
        } else {
            Decision::RetryAfter(wait)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    fn status(code: u16) -> Failure {
        Failure::Status {
            code,
            retry_after: None,
        }
    }

    #[test]
    fn transient_failures_back_off_exponentially_with_jitter_up_to_a_cap() {
        let edit = RetryPolicy::EDIT;
        assert_eq!(
            edit.decide(1, MS(0), status(500), 1.0),
            Decision::RetryAfter(MS(500))
        );
        assert_eq!(
            edit.decide(2, MS(0), status(502), 1.0),
            Decision::RetryAfter(MS(1_000))
        );
        assert_eq!(
            edit.decide(3, MS(0), Failure::Connection, 0.0),
            Decision::RetryAfter(MS(1_000))
        );
        assert_eq!(
            edit.decide(4, MS(0), status(504), 1.0),
            Decision::RetryAfter(MS(4_000))
        );
        let capped = RetryPolicy {
            max_attempts: 20,
            ..edit
        };
        assert_eq!(
            capped.decide(10, MS(0), status(503), 1.0),
            Decision::RetryAfter(MS(8_000))
        );
        assert_eq!(
            edit.decide(5, MS(0), status(500), 1.0),
            Decision::GiveUp,
            "5 attempts"
        );
    }

    #[test]
    fn a_429_waits_as_long_as_discord_asks() {
        let limited = Failure::Status {
            code: 429,
            retry_after: Some(MS(1_250)),
        };
        assert_eq!(
            RetryPolicy::EDIT.decide(1, MS(0), limited, 0.3),
            Decision::RetryAfter(MS(1_250))
        );
        // Too long for a callback's 3-second window.
        assert_eq!(
            RetryPolicy::CALLBACK.decide(1, MS(1_500), limited, 0.3),
            Decision::GiveUp
        );
    }

    #[test]
    fn callbacks_retry_only_inside_their_window_and_final_failures_never() {
        let callback = RetryPolicy::CALLBACK;
        assert!(matches!(
            callback.decide(1, MS(100), status(500), 1.0),
            Decision::RetryAfter(_)
        ));
        assert_eq!(
            callback.decide(1, MS(2_650), status(500), 1.0),
            Decision::GiveUp
        );
        for code in [400, 401, 403, 404, 405] {
            assert_eq!(
                RetryPolicy::EDIT.decide(1, MS(0), status(code), 1.0),
                Decision::GiveUp
            );
        }
    }
}
