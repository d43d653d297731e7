//! Version states: pending → active → retired (pending may also be retired unused).
//!
//! Exactly one version per signing credential is active; activating a pending version
//! retires the active one in the same transaction. Verification material (provider public
//! keys, platform certificates) stays usable for verification until its `usable_until`
//! (the grace period after retirement) and, for certificates, until it expires.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionState {
    Pending,
    Active,
    Retired,
}

impl VersionState {
    pub fn as_str(&self) -> &'static str {
        match self {
            VersionState::Pending => "pending",
            VersionState::Active => "active",
            VersionState::Retired => "retired",
        }
    }

    pub fn parse(s: &str) -> Result<VersionState, String> {
        match s {
            "pending" => Ok(VersionState::Pending),
            "active" => Ok(VersionState::Active),
            "retired" => Ok(VersionState::Retired),
            other => Err(format!("unknown version state {other:?}")),
        }
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

impl std::str::FromStr for VersionState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VersionState::parse(s)
    }
}

impl std::fmt::Display for VersionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
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
