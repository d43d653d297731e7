//! The people the tests act as (no database needed: an `Actor` is a name and roles).

use paydesk_core::{Actor, Role};

/// An actor named `name` holding `roles`.
pub fn actor(name: &str, roles: &[Role]) -> Actor {
    Actor::new(name, roles.iter().copied())
}

/// `admin`, an administrator.
pub fn admin() -> Actor {
    Actor::new("admin", [Role::Admin])
}

/// `support`, who requests refunds.
pub fn support() -> Actor {
    Actor::new("support", [Role::Support])
}

/// `approver`, an approver who also holds the support role.
pub fn approver() -> Actor {
    Actor::new("approver", [Role::Approver, Role::Support])
}

/// `finance`, who reconciles and reviews.
pub fn finance() -> Actor {
    Actor::new("finance", [Role::Finance])
}
