//! Who may do what. One table, [`ROLE_PERMISSIONS`], decides; every service checks the acting
//! user against it before doing anything, so the desktop app, the CLI and any future surface
//! obey the same rules.

use crate::names::{self, Case};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::str::FromStr;
use strum::VariantArray;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::Display,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Role {
    /// Runs reconciliations, reviews and resolves discrepancies, exports reports.
    Finance,
    /// Searches orders and requests refunds within limits.
    Support,
    /// Approves refunds over the limit (never their own).
    Approver,
    /// Users, keys, settings: everything.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = names::array(Role::VARIANTS);

    pub fn as_str(&self) -> &'static str {
        self.into()
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        names::parse(s, Case::Insensitive, &[]).ok_or_else(|| {
            format!(
                "unknown role {s:?} (expected {})",
                names::listed::<Role>(" or ")
            )
        })
    }
}

/// An operation that needs permission. Its name (`as_str`) is `area.action`; JSON uses the
/// snake_case variant name (`reconcile_run`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::Display,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Permission {
    /// Start a reconciliation run, import a statement.
    #[strum(serialize = "reconcile.run")]
    ReconcileRun,
    /// See runs and discrepancies.
    #[strum(serialize = "discrepancy.view")]
    DiscrepancyView,
    /// Annotate, assign, resolve (also in bulk and by spreadsheet re-import).
    #[strum(serialize = "discrepancy.review")]
    DiscrepancyReview,
    /// Export reports (CSV/XLSX).
    #[strum(serialize = "report.export")]
    ReportExport,
    /// Find orders and see their payments and refunds.
    #[strum(serialize = "order.view")]
    OrderView,
    /// Request a refund.
    #[strum(serialize = "refund.request")]
    RefundRequest,
    /// Approve or reject a refund over the limit.
    #[strum(serialize = "refund.approve")]
    RefundApprove,
    /// See provider credentials' fingerprints, states and expiry.
    #[strum(serialize = "key.view")]
    KeyView,
    /// Import, generate, test, activate, retire keys; rotate the master key.
    #[strum(serialize = "key.manage")]
    KeyManage,
    /// Create, disable users; change roles.
    #[strum(serialize = "user.manage")]
    UserManage,
    /// Read and verify the audit log.
    #[strum(serialize = "audit.view")]
    AuditView,
    /// Change settings (databases, accounts, schedule, tolerances, limits).
    #[strum(serialize = "settings.manage")]
    SettingsManage,
}

impl Permission {
    pub const ALL: [Permission; 12] = names::array(Permission::VARIANTS);

    pub fn as_str(&self) -> &'static str {
        self.into()
    }
}

use Permission as P;

/// The permission matrix: what each role grants. Admin is granted everything.
pub const ROLE_PERMISSIONS: &[(Role, &[Permission])] = &[
    (
        Role::Finance,
        &[
            P::ReconcileRun,
            P::DiscrepancyView,
            P::DiscrepancyReview,
            P::ReportExport,
            P::OrderView,
        ],
    ),
    (Role::Support, &[P::OrderView, P::RefundRequest]),
    (Role::Approver, &[P::OrderView, P::RefundApprove]),
    (Role::Admin, &Permission::ALL),
];

/// Whether `role` grants `permission`.
pub fn role_grants(role: Role, permission: Permission) -> bool {
    ROLE_PERMISSIONS
        .iter()
        .any(|(r, ps)| *r == role && ps.contains(&permission))
}

/// The user on whose behalf an operation runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub username: String,
    pub roles: BTreeSet<Role>,
}

impl Actor {
    pub fn new(username: impl Into<String>, roles: impl IntoIterator<Item = Role>) -> Actor {
        Actor {
            username: username.into(),
            roles: roles.into_iter().collect(),
        }
    }

    /// Paydesk itself (scheduled runs, the background refund worker).
    pub fn system() -> Actor {
        Actor::new("system", [Role::Admin])
    }

    pub fn can(&self, permission: Permission) -> bool {
        self.roles.iter().any(|r| role_grants(*r, permission))
    }

    /// Ok if allowed; otherwise an error that names the missing permission.
    pub fn require(&self, permission: Permission) -> Result<(), Denied> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(Denied {
                username: self.username.clone(),
                permission,
            })
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{username} lacks the permission {permission} (granted by: {})", granting_roles(*permission).join(", "))]
pub struct Denied {
    pub username: String,
    pub permission: Permission,
}

/// The roles that grant a permission, for error messages.
pub fn granting_roles(permission: Permission) -> Vec<&'static str> {
    Role::ALL
        .into_iter()
        .filter(|r| role_grants(*r, permission))
        .map(|r| r.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        names::assert_round_trip::<Role>(|s| s.parse().ok());
        names::assert_round_trip::<Permission>(|s| names::parse(s, Case::Sensitive, &[]));
        assert_eq!(Role::ALL.as_slice(), Role::VARIANTS);
        assert_eq!(Permission::ALL.as_slice(), Permission::VARIANTS);
        assert_eq!(P::ReconcileRun.as_str(), "reconcile.run");
        assert_eq!(P::SettingsManage.to_string(), "settings.manage");
        assert_eq!(
            serde_json::to_value(P::ReconcileRun).ok(),
            Some("reconcile_run".into())
        );
        for r in Role::ALL {
            assert_eq!(serde_json::to_value(r).ok(), Some(r.as_str().into()));
        }
        assert_eq!(" Admin ".parse::<Role>(), Ok(Role::Admin));
        assert_eq!(
            "Boss".parse::<Role>(),
            Err("unknown role \"Boss\" (expected finance, support, approver or admin)".into())
        );
    }

    #[test]
    fn admin_can_do_everything() {
        let admin = Actor::new("root", [Role::Admin]);
        assert!(Permission::ALL.iter().all(|p| admin.can(*p)));
    }

    #[test]
    fn roles_combine() {
        let both = Actor::new("zhang", [Role::Support, Role::Approver]);
        assert!(both.can(P::RefundRequest) && both.can(P::RefundApprove));
        assert!(!both.can(P::ReconcileRun));
    }

    #[test]
    fn refusal_names_the_permission() {
        let support = Actor::new("li", [Role::Support]);
        let err = support.require(P::KeyManage).expect_err("denied");
        assert_eq!(
            err.to_string(),
            "li lacks the permission key.manage (granted by: admin)"
        );
        let err = support.require(P::ReconcileRun).expect_err("denied");
        assert!(err.to_string().contains("finance, admin"));
    }

    #[test]
    fn nobody_without_roles_can_do_anything() {
        let nobody = Actor::new("ghost", []);
        assert!(Permission::ALL.iter().all(|p| !nobody.can(*p)));
    }
}
