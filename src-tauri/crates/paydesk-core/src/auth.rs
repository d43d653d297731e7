//! Who may do what. One table, [`ROLE_PERMISSIONS`], decides; every service checks the acting
//! user against it before doing anything, so the desktop app, the CLI and any future surface
//! obey the same rules.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
    pub const ALL: [Role; 4] = [Role::Finance, Role::Support, Role::Approver, Role::Admin];

    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Finance => "finance",
            Role::Support => "support",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                format!("unknown role {s:?} (expected finance, support, approver or admin)")
            })
    }
}

/// An operation that needs permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Start a reconciliation run, import a statement.
    ReconcileRun,
    /// See runs and discrepancies.
    DiscrepancyView,
    /// Annotate, assign, resolve (also in bulk and by spreadsheet re-import).
    DiscrepancyReview,
    /// Export reports (CSV/XLSX).
    ReportExport,
    /// Find orders and see their payments and refunds.
    OrderView,
    /// Request a refund.
    RefundRequest,
    /// Approve or reject a refund over the limit.
    RefundApprove,
    /// See provider credentials' fingerprints, states and expiry.
    KeyView,
    /// Import, generate, test, activate, retire keys; rotate the master key.
    KeyManage,
    /// Create, disable users; change roles.
    UserManage,
    /// Read and verify the audit log.
    AuditView,
    /// Change settings (databases, accounts, schedule, tolerances, limits).
    SettingsManage,
}

impl Permission {
    pub const ALL: [Permission; 12] = [
        Permission::ReconcileRun,
        Permission::DiscrepancyView,
        Permission::DiscrepancyReview,
        Permission::ReportExport,
        Permission::OrderView,
        Permission::RefundRequest,
        Permission::RefundApprove,
        Permission::KeyView,
        Permission::KeyManage,
        Permission::UserManage,
        Permission::AuditView,
        Permission::SettingsManage,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Permission::ReconcileRun => "reconcile.run",
            Permission::DiscrepancyView => "discrepancy.view",
            Permission::DiscrepancyReview => "discrepancy.review",
            Permission::ReportExport => "report.export",
            Permission::OrderView => "order.view",
            Permission::RefundRequest => "refund.request",
            Permission::RefundApprove => "refund.approve",
            Permission::KeyView => "key.view",
            Permission::KeyManage => "key.manage",
            Permission::UserManage => "user.manage",
            Permission::AuditView => "audit.view",
            Permission::SettingsManage => "settings.manage",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
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
