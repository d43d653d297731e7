//! Version states: pending → active → retired (pending may also be retired unused).
//!
//! Exactly one version per signing credential is active; activating a pending version
//! retires the active one in the same transaction. Verification material (provider public
//! keys, platform certificates) stays usable for verification until its `usable_until`
//! (the grace period after retirement) and, for certificates, until it expires.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Stored as `pending` / `active` / `retired`; parsed exactly (the words the vault writes).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::Display,
    strum::EnumString,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(
    serialize_all = "snake_case",
    parse_err_ty = String,
    parse_err_fn = unknown_version_state
)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum VersionState {
    Pending,
    Active,
    Retired,
}

impl VersionState {
    pub fn as_str(&self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Result<VersionState, String> {
        s.parse()
    }

    /// Whether `self → to` is allowed.
    pub fn can_become(&self, to: VersionState) -> bool {
        matches!(
            (self, to),
            (VersionState::Pending, VersionState::Active)
                | (VersionState::Pending, VersionState::Retired)
                | (VersionState::Active, VersionState::Retired)
        )
    }
}

fn unknown_version_state(s: &str) -> String {
    format!("unknown version state {s:?}")
}

/// Whether a version may still be used at `now`: active and not expired, or retired with a
/// grace period (`usable_until`) not yet over and not expired.
pub fn usable_at(
    state: VersionState,
    usable_until: Option<DateTime<Utc>>,
    not_after: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    if not_after.is_some_and(|t| t <= now) {
        return false;
    }
    match state {
        VersionState::Active => true,
        VersionState::Retired => usable_until.is_some_and(|t| now < t),
        VersionState::Pending => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use strum::VariantArray;

    #[test]
    fn names_round_trip() {
        let mut seen = std::collections::BTreeSet::new();
        for s in VersionState::VARIANTS {
            assert!(seen.insert(s.as_str()));
            assert_eq!(s.as_str().parse::<VersionState>(), Ok(*s));
            assert_eq!(s.to_string(), s.as_str());
            assert_eq!(serde_json::to_value(s).ok(), Some(s.as_str().into()));
        }
        // Exact, as before: no trimming, no case folding.
        assert_eq!(
            VersionState::parse(" active"),
            Err("unknown version state \" active\"".into())
        );
        assert_eq!(
            "Active".parse::<VersionState>(),
            Err("unknown version state \"Active\"".into())
        );
    }

    #[test]
    fn transitions() {
        use VersionState::*;
        assert!(Pending.can_become(Active));
        assert!(Active.can_become(Retired));
        assert!(Pending.can_become(Retired));
        assert!(!Retired.can_become(Active));
        assert!(!Active.can_become(Pending));
        assert!(!Active.can_become(Active));
        for s in [Pending, Active, Retired] {
            assert_eq!(VersionState::parse(s.as_str()).unwrap(), s);
        }
    }

    #[test]
    fn grace_and_expiry() {
        let now = Utc::now();
        let later = now + Duration::hours(48);
        assert!(usable_at(VersionState::Retired, Some(later), None, now));
        assert!(!usable_at(VersionState::Retired, Some(later), None, later));
        assert!(!usable_at(VersionState::Retired, None, None, now));
        assert!(usable_at(VersionState::Active, None, None, now));
        assert!(!usable_at(VersionState::Active, None, Some(now), now));
        assert!(!usable_at(VersionState::Pending, None, None, now));
    }
}
