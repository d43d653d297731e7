//! Workspaces for service-level tests: the demo template, pointed at another app database,
//! and logins.

use chrono::DateTime;
use chrono::Utc;
use paydesk_core::{Actor, Currency, Order, OrderStatus, Provider, Role};
use paydesk_service::context::auth;
use paydesk_service::context::workspace::{self, Workspace};
use std::path::Path;

/// The template's app database line, replaced by [`with_database`].
const SQLITE_DATABASE: &str = "database_url = \"sqlite://paydesk.db\"";

/// The password [`login_new_user`] gives the users it creates.
pub const USER_PASSWORD: &str = "matrix-pass-2026";

/// `config` (a `paydesk.toml` text) with its app database at `url`.
pub fn with_database(config: &str, url: &str) -> String {
    config.replace(SQLITE_DATABASE, &format!("database_url = \"{url}\""))
}

/// Points an existing workspace's `paydesk.toml` at the app database `url`.
pub fn set_database(dir: &Path, url: &str) {
    let path = dir.join("paydesk.toml");
    let text = std::fs::read_to_string(&path).expect("read config");
    std::fs::write(&path, with_database(&text, url)).expect("write config");
}

/// A demo-style workspace (the demo template; its SQLite app database unless `database_url`),
/// with the demo users.
pub async fn demo_workspace(dir: &Path, database_url: Option<&str>) -> Workspace {
    std::fs::create_dir_all(dir).expect("dir");
    let mut config = workspace::template_config(true);
    if let Some(url) = database_url {
        config = with_database(&config, url);
    }
    std::fs::write(dir.join("paydesk.toml"), config).expect("config");
    let w = workspace::init(dir, true).await.expect("init");
    auth::ensure_demo_users(&w.db).await.expect("demo users");
    w
}

/// Creates the user `name` (password [`USER_PASSWORD`]) with `roles` as `admin`, logs in and
/// returns the session's actor.
pub async fn login_new_user(w: &Workspace, admin: &Actor, name: &str, roles: &[Role]) -> Actor {
    auth::create_user(
        &w.db,
        admin,
        name,
        name,
        USER_PASSWORD,
        roles.iter().copied().collect(),
    )
    .await
    .expect("create user");
    auth::login(&w.db, name, USER_PASSWORD, Utc::now())
        .await
        .expect("login")
        .actor
}

/// A paid order of `amount` minor units, paid at `paid_at` (created a minute before).
pub fn paid_order(
    order_no: &str,
    provider: Provider,
    amount: i64,
    currency: Currency,
    paid_at: DateTime<Utc>,
) -> Order {
    Order {
        order_no: order_no.into(),
        provider,
        provider_txn_id: None,
        amount,
        currency,
        status: OrderStatus::Paid,
        created_at: paid_at - chrono::Duration::minutes(1),
        paid_at: Some(paid_at),
        customer_ref: None,
    }
}

/// Puts `orders` into the workspace's order mirror, each under its account (the mirror's
/// account column, which the demo's two WeChat Pay merchants need).
pub async fn add_mirror_orders(w: &Workspace, orders: &[(&str, Order)]) {
    let rows: Vec<Order> = orders.iter().map(|(_, o)| o.clone()).collect();
    paydesk_store::insert_mirror_rows(&w.config.mirror_url, &rows, &[])
        .await
        .expect("mirror rows");
    let accounts: Vec<(String, String)> = orders
        .iter()
        .map(|(account, o)| (o.order_no.to_string(), account.to_string()))
        .collect();
    paydesk_store::set_mirror_accounts(&w.config.mirror_url, &accounts)
        .await
        .expect("mirror accounts");
}
