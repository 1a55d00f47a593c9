//! Warm pools: a function tagged `dynastream:min-warm` = `"<N>"` keeps at least N environments of its `$LATEST`
//! deployment started, so that a first invocation need not wait for one to start (in a cluster, a pod's start is
//! the dominant cost). Busy environments count, as with AWS's provisioned concurrency, and so does the function's
//! reserved concurrency: a pool never holds more environments than it allows.
//!
//! A tag rather than a new API or field: AWS allows `:` in tag keys and ignores tags it does not know, and tags
//! can be set by CreateFunction, TagResource and the operator's `Function.spec.tags`.
//!
//! The pool is topped up when the function is created, changed (its old environments retired), re-tagged or its
//! reserved concurrency changes, and whenever one of its environments stops. The idle timeout never takes a pool
//! below N.

use std::{
    collections::HashMap,
    sync::{Arc, Weak, atomic::Ordering},
    time::{Duration, Instant},
};

use super::{DeploymentKey, Environments, PoolState};
use crate::lambda::functions::Function;

/// The tag naming how many environments of a function to keep started.
pub const MIN_WARM_TAG: &str = "dynastream:min-warm";

/// The largest warm pool a function may ask for.
pub const MAX_MIN_WARM: usize = 10;

/// How long after an environment stopped by itself (a crash, a deleted pod) its replacement starts: a pause, so
/// that an environment that cannot start does not restart in a tight loop.
const RESTART_DELAY: Duration = Duration::from_secs(1);

/// One function's warm pool.
pub(super) struct WarmPool {
    function: Weak<Function>,
    /// How many environments to keep: the tag's N, capped by reserved concurrency.
    size: usize,
    /// The deployment the pool was last filled with (`$LATEST` then).
    key: Option<DeploymentKey>,
}

/// The pool size a `dynastream:min-warm` value asks for, or `None` when it is not an integer in 0..=10.
pub fn parse_min_warm(value: &str) -> Option<usize> {
    value.trim().parse::<usize>().ok().filter(|n| *n <= MAX_MIN_WARM)
}

/// For each warm deployment, how many of its environments may stop without leaving fewer than its pool size.
pub(super) fn spare(state: &PoolState) -> HashMap<DeploymentKey, usize> {
    state
        .warm
        .values()
        .filter_map(|pool| {
            let key = pool.key.as_ref()?;
            let current = state
                .environments
                .values()
                .filter(|e| e.key == *key && !e.retired.load(Ordering::Relaxed))
                .count();
            Some((key.clone(), current.saturating_sub(pool.size)))
        })
        .collect()
}

impl Environments {
    /// Sizes `function`'s warm pool from its `dynastream:min-warm` tag and reserved concurrency, then starts what
    /// is missing (or lets the idle timeout stop what is no longer wanted).
    ///
    /// AWS accepts any tag value, so a value that is not an integer in 0..=10 does not fail the tagging: it
    /// counts as 0, with a warning logged once per function and value.
    pub fn keep_warm(&self, function: &Arc<Function>) {
        let (value, reserved) =
            function.read(|state| (state.tags.get(MIN_WARM_TAG).cloned(), state.reserved_concurrency));
        let wanted = match value.as_deref() {
            None => 0,
            Some(value) => parse_min_warm(value).unwrap_or_else(|| {
                let mut state = self.state.lock();
                if state.warm_warned.get(&function.arn).map(String::as_str) != Some(value) {
                    state.warm_warned.insert(function.arn.clone(), value.to_owned());
                    tracing::warn!(
                        function = %function.name,
                        "ignoring tag {MIN_WARM_TAG}={value:?}: not an integer from 0 to {MAX_MIN_WARM}"
                    );
                }
                0
            }),
        };
        let size = reserved.map_or(wanted, |reserved| wanted.min(reserved as usize));
        {
            let mut state = self.state.lock();
            if size == 0 {
                state.warm.remove(&function.arn);
                return;
            }
            let pool = state
                .warm
                .entry(function.arn.clone())
                .or_insert_with(|| WarmPool {
                    function: Arc::downgrade(function),
                    size,
                    key: None,
                });
            pool.function = Arc::downgrade(function);
            pool.size = size;
        }
        self.top_up(&function.arn);
    }

    /// Forgets a deleted function's warm pool (its environments are retired separately).
    pub fn forget_warm(&self, function_arn: &str) {
        let mut state = self.state.lock();
        state.warm.remove(function_arn);
        state.warm_warned.remove(function_arn);
    }

    /// Starts environments of the function's current `$LATEST` until its warm pool is full again.
    pub(super) fn top_up(&self, function_arn: &str) {
        let function = {
            let state = self.state.lock();
            match state.warm.get(function_arn) {
                Some(pool) => pool.function.upgrade(),
                None => return,
            }
        };
        let Some(function) = function else { return };
        let deployment = function.read(|state| state.latest.clone());
        // A failed function (say, its image cannot be pulled) waits for an update to settle it.
        if deployment.config.state != "Active" {
            return;
        }
        let key = DeploymentKey {
            function_arn: function.arn.clone(),
            version: deployment.config.version.clone(),
            revision: deployment.config.revision_id.clone(),
        };
        let added = {
            let mut state = self.state.lock();
            let Some(pool) = state.warm.get_mut(function_arn) else {
                return;
            };
            pool.key = Some(key.clone());
            let size = pool.size;
            let current = state
                .environments
                .values()
                .filter(|e| e.key == key && !e.retired.load(Ordering::Relaxed))
                .count();
            // Within the account's limit, without stopping other functions' idle environments for it.
            let room = self
                .settings
                .max_environments
                .saturating_sub(state.per_function.values().sum());
            let missing = size.saturating_sub(current).min(room);
            (0..missing)
                .map(|_| {
                    let mut config =
                        crate::lambda::invoke::agent_config(&function, &deployment, self.emulator_url());
                    config.prestarted = true;
                    self.add_environment(&mut state, &function, key.clone(), config)
                })
                .collect::<Vec<_>>()
        };
        for environment in added {
            if let Err(reason) = self.launch(&environment) {
                tracing::warn!(function = %function.name, "failed to start a warm execution environment: {reason}");
                self.remove(&environment);
                continue;
            }
            let mut state = self.state.lock();
            // Retired while it started (the function changed): it has no place in the pool.
            if environment.retired.load(Ordering::Relaxed) {
                drop(state);
                self.remove(&environment);
                environment.kill();
                continue;
            }
            state
                .idle
                .entry(key.clone())
                .or_default()
                .push((environment.id.clone(), Instant::now()));
        }
    }

    /// Tops up a function's warm pool after [`RESTART_DELAY`], from a task of the current runtime.
    pub(super) fn top_up_later(&self, function_arn: &str) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if !self.state.lock().warm.contains_key(function_arn) {
            return;
        }
        let (me, function_arn) = (self.me.clone(), function_arn.to_owned());
        runtime.spawn(async move {
            tokio::time::sleep(RESTART_DELAY).await;
            if let Some(pool) = me.upgrade() {
                pool.top_up(&function_arn);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_warm_tag_values_are_integers_from_0_to_10() {
        assert_eq!(parse_min_warm("0"), Some(0));
        assert_eq!(parse_min_warm("1"), Some(1));
        assert_eq!(parse_min_warm(" 2 "), Some(2));
        assert_eq!(parse_min_warm("10"), Some(10));
        assert_eq!(parse_min_warm("11"), None);
        assert_eq!(parse_min_warm("-1"), None);
        assert_eq!(parse_min_warm("1.5"), None);
        assert_eq!(parse_min_warm("two"), None);
        assert_eq!(parse_min_warm(""), None);
    }
}
