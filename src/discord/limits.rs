//! What keeps one user, or a crowd, from taking the bot over: a per-user cooldown on
//! questions (a sliding window: at most N in any S seconds) and a bound on the answers
//! being worked on at once. Both refuse with a sentence the user can act on, rather than
//! letting Discord show "the application did not respond".

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::LimitsConfig;

/// The per-user cooldown.
#[derive(Debug)]
pub struct Cooldown {
    /// Questions allowed in any window; 0 turns the cooldown off.
    per_user: usize,
    window: Duration,
    /// When each user's recent questions were asked, oldest first. A std mutex: held
    /// for a lookup and a push, never across `.await`.
    asked: Mutex<HashMap<u64, VecDeque<Instant>>>,
}

impl Cooldown {
    pub fn new(per_user: usize, window: Duration) -> Cooldown {
        Cooldown {
            per_user,
            window,
            asked: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a question by `user` at `now`, or says how long until they may ask again.
    ///
    /// # Errors
    /// The wait, when `user` has asked `per_user` questions in the last window.
    pub fn check(&self, user: u64, now: Instant) -> Result<(), Duration> {
        if self.per_user == 0 {
            return Ok(());
        }
        let mut asked = self.asked.lock().unwrap_or_else(|p| p.into_inner());
        if asked.len() > 10_000 {
            // Forget users whose window has passed, so the map stays small.
            let window = self.window;
            asked.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < window)
            });
        }
        let times = asked.entry(user).or_default();
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            times.pop_front();
        }
        if times.len() >= self.per_user {
            let oldest = times.front().copied().unwrap_or(now);
            return Err((oldest + self.window).saturating_duration_since(now));
        }
        times.push_back(now);
        Ok(())
    }
}

/// The cooldown and the bound on answers at once, as configured.
#[derive(Debug)]
pub struct Limits {
    pub cooldown: Cooldown,
    /// One permit per answer being worked on (a tokio semaphore: the permit is held
    /// across the `.await`s of computing and sending the answer).
    answering: std::sync::Arc<Semaphore>,
}

impl Limits {
    pub fn new(config: &LimitsConfig) -> Limits {
        Limits {
            cooldown: Cooldown::new(
                config.per_user,
                Duration::from_secs(config.per_user_seconds),
            ),
            answering: std::sync::Arc::new(Semaphore::new(config.answers_at_once)),
        }
    }

    /// A permit to work on one answer, or `None` when as many as allowed are underway.
    pub fn start_answer(&self) -> Option<OwnedSemaphorePermit> {
        std::sync::Arc::clone(&self.answering)
            .try_acquire_owned()
            .ok()
    }
}

/// "Try again in N s", rounded up so that trying again then works.
pub fn cooldown_text(wait: Duration) -> String {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    format!(
        "You are asking faster than I can keep up with; please try again in {} s.",
        seconds.max(1)
    )
}

/// What users read when too many answers are underway.
pub const BUSY: &str =
    "I am busy answering many questions right now; please try again in a few seconds.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_may_ask_n_questions_in_any_window() {
        let cooldown = Cooldown::new(2, Duration::from_secs(30));
        let start = Instant::now();
        let at = |s: u64| start + Duration::from_secs(s);
        assert_eq!(cooldown.check(1, at(0)), Ok(()));
        assert_eq!(cooldown.check(1, at(10)), Ok(()));
        assert_eq!(cooldown.check(1, at(12)), Err(Duration::from_secs(18)));
        // Another user is not held back.
        assert_eq!(cooldown.check(2, at(12)), Ok(()));
        // Refusals are not counted: the first question leaves the window at 30 s.
        assert_eq!(cooldown.check(1, at(30)), Ok(()));
        assert_eq!(cooldown.check(1, at(31)), Err(Duration::from_secs(9)));
        let off = Cooldown::new(0, Duration::from_secs(30));
        assert!((0..100).all(|_| off.check(1, at(0)).is_ok()));
    }

    #[test]
    fn waits_are_shown_rounded_up() {
        assert!(cooldown_text(Duration::from_millis(17_200)).contains("try again in 18 s"));
        assert!(cooldown_text(Duration::from_millis(0)).contains("try again in 1 s"));
    }

    #[test]
    fn answers_beyond_the_bound_are_refused_until_one_ends() {
        let limits = Limits::new(&LimitsConfig {
            per_user: 5,
            per_user_seconds: 30,
            answers_at_once: 2,
        });
        let first = limits.start_answer().unwrap();
        let _second = limits.start_answer().unwrap();
        assert!(limits.start_answer().is_none());
        drop(first);
        assert!(limits.start_answer().is_some());
    }
}
