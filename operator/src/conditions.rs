//! Status conditions: `Ready` and ACK's `ACK.ResourceSynced`, `ACK.Terminal` and `ACK.ReferencesResolved`,
//! kept consistent with one another.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

/// `Ready`: what `kubectl wait --for=condition=Ready` waits for.
pub const READY: &str = "Ready";
/// ACK's: the resource in the emulator matches the spec.
pub const SYNCED: &str = "ACK.ResourceSynced";
/// ACK's: nothing more can happen until the spec changes.
pub const TERMINAL: &str = "ACK.Terminal";
/// ACK's: the references in the spec were resolved.
pub const REFERENCES_RESOLVED: &str = "ACK.ReferencesResolved";

/// The outcome of one reconciliation, as conditions show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The emulator's resource matches the spec and is usable.
    Synced,
    /// Applied, but not usable yet (e.g. a table still `CREATING`).
    Progressing {
        /// Why.
        reason: String,
        /// Details.
        message: String,
    },
    /// Cannot succeed until the spec changes (e.g. a `ValidationException`).
    Terminal {
        /// The error code.
        reason: String,
        /// The emulator's message, verbatim.
        message: String,
    },
    /// Failed, and is retried with back-off.
    Retrying {
        /// The error code.
        reason: String,
        /// What went wrong.
        message: String,
    },
    /// Waiting for a referenced resource.
    Unresolved {
        /// What is missing.
        message: String,
    },
}

/// Sets the conditions for an outcome. `uses_references` adds `ACK.ReferencesResolved`. A condition keeps its
/// `lastTransitionTime` while its status stays the same.
pub fn set(
    conditions: &mut Vec<Condition>,
    outcome: &Outcome,
    uses_references: bool,
    generation: Option<i64>,
) {
    let (ready, synced, terminal, resolved) = match outcome {
        Outcome::Synced => {
            let ok = ("True", "Synced", "The resource is in sync with the emulator");
            (
                ok,
                ok,
                None,
                Some(("True", "Resolved", "All references were resolved")),
            )
        }
        Outcome::Progressing { reason, message } => {
            let state = ("False", reason.as_str(), message.as_str());
            (
                state,
                state,
                None,
                Some(("True", "Resolved", "All references were resolved")),
            )
        }
        Outcome::Terminal { reason, message } => {
            let state = ("False", reason.as_str(), message.as_str());
            (
                state,
                state,
                Some(("True", reason.as_str(), message.as_str())),
                None,
            )
        }
        Outcome::Retrying { reason, message } => {
            let state = ("False", reason.as_str(), message.as_str());
            (state, state, None, None)
        }
        Outcome::Unresolved { message } => {
            let state = ("False", "ReferencesNotResolved", message.as_str());
            (state, state, None, Some(state))
        }
    };
    put(conditions, READY, ready, generation);
    put(conditions, SYNCED, synced, generation);
    match terminal {
        Some(state) => put(conditions, TERMINAL, state, generation),
        None => conditions.retain(|c| c.type_ != TERMINAL),
    }
    if uses_references {
        // Keep what is known about references when this outcome says nothing about them.
        if let Some(state) = resolved {
            put(conditions, REFERENCES_RESOLVED, state, generation);
        }
    } else {
        conditions.retain(|c| c.type_ != REFERENCES_RESOLVED);
    }
}

fn put(
    conditions: &mut Vec<Condition>,
    type_: &str,
    (status, reason, message): (&str, &str, &str),
    generation: Option<i64>,
) {
    let reason = condition_reason(reason);
    match conditions.iter_mut().find(|c| c.type_ == type_) {
        Some(existing) => {
            if existing.status != status {
                existing.status = status.to_owned();
                existing.last_transition_time = now();
            }
            existing.reason = reason;
            existing.message = message.to_owned();
            existing.observed_generation = generation;
        }
        None => conditions.push(Condition {
            type_: type_.to_owned(),
            status: status.to_owned(),
            reason,
            message: message.to_owned(),
            last_transition_time: now(),
            observed_generation: generation,
        }),
    }
}

/// A condition's reason must be CamelCase letters (`^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$`); error codes are.
fn condition_reason(reason: &str) -> String {
    let cleaned: String = reason
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if cleaned.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
        cleaned
    } else {
        format!("E{cleaned}")
    }
}

fn now() -> Time {
    Time(jiff::Timestamp::now())
}

/// The `Ready` condition, if set.
pub fn ready(conditions: &[Condition]) -> Option<&Condition> {
    conditions.iter().find(|c| c.type_ == READY)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
        conditions.iter().find(|c| c.type_ == type_)
    }

    #[test]
    fn a_terminal_error_shows_in_ready_synced_and_terminal() {
        let mut conditions = Vec::new();
        let outcome = Outcome::Terminal {
            reason: "ValidationException".into(),
            message: "bad key".into(),
        };
        set(&mut conditions, &outcome, false, Some(3));
        for (type_, status) in [(READY, "False"), (SYNCED, "False"), (TERMINAL, "True")] {
            let c = find(&conditions, type_).unwrap();
            assert_eq!(
                (c.status.as_str(), c.reason.as_str(), c.message.as_str()),
                (status, "ValidationException", "bad key")
            );
            assert_eq!(c.observed_generation, Some(3));
        }
    }

    #[test]
    fn success_clears_terminal_and_keeps_transition_times_of_unchanged_conditions() {
        let mut conditions = Vec::new();
        set(&mut conditions, &Outcome::Synced, true, Some(1));
        let first = find(&conditions, READY).unwrap().last_transition_time.clone();
        set(&mut conditions, &Outcome::Synced, true, Some(2));
        assert_eq!(find(&conditions, READY).unwrap().last_transition_time, first);
        assert_eq!(find(&conditions, REFERENCES_RESOLVED).unwrap().status, "True");
        assert!(find(&conditions, TERMINAL).is_none());
    }

    #[test]
    fn unresolved_references_say_what_is_missing() {
        let mut conditions = Vec::new();
        set(
            &mut conditions,
            &Outcome::Unresolved {
                message: "Table bark not found".into(),
            },
            true,
            None,
        );
        let c = find(&conditions, REFERENCES_RESOLVED).unwrap();
        assert_eq!(
            (c.status.as_str(), c.message.as_str()),
            ("False", "Table bark not found")
        );
        assert_eq!(ready(&conditions).unwrap().reason, "ReferencesNotResolved");
    }

    #[test]
    fn reasons_are_valid_condition_reasons() {
        assert_eq!(
            condition_reason("ResourceInUseException"),
            "ResourceInUseException"
        );
        assert_eq!(condition_reason("Creating table"), "Creatingtable");
        assert_eq!(condition_reason("500"), "E500");
    }
}
