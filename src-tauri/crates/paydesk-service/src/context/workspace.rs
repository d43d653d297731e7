//! Opening and creating workspaces.

use crate::context::config::{Account, Config, CONFIG_FILE};
use crate::context::private_file::{create_private_dir_all, write_new_private};
use crate::ServiceError;
use paydesk_store::{AccountFilter, AppDb, MirrorMapping, MirrorScope, OrderMirror};
use paydesk_vault::MasterKey;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// An opened workspace: its validated configuration, the app database, the order mirror and,
/// once unlocked, the key vault.
pub struct Workspace {
    pub dir: PathBuf,
    pub config: Config,
    pub db: AppDb,
    pub mirror: OrderMirror,
    /// The master key of the vault unlocked in this process (by a person's passphrase in the
    /// desktop app, or from the workspace's key file / environment on first need).
    vault: tokio::sync::RwLock<Option<Arc<MasterKey>>>,
}

impl Workspace {
    pub async fn open(dir: &Path) -> Result<Workspace, ServiceError> {
        if !dir.join(CONFIG_FILE).is_file() {
            return Err(ServiceError::BadInput(format!(
                "{} is not a Paydesk workspace (no {CONFIG_FILE}); create one with `paydesk init --workspace {}` or `paydesk demo`",
                dir.display(),
                dir.display()
            )));
        }
        let config = Config::load(dir)?;
        let db = crate::context::audit_key::attach(dir, AppDb::open(&config.database_url).await?)
            .await?;
        let mapping = mirror_mapping(&config)?;
        let mirror = OrderMirror::open(&config.mirror_url, mapping).await?;
        Ok(Workspace {
            dir: dir.to_path_buf(),
            config,
            db,
            mirror,
            vault: tokio::sync::RwLock::new(None),
        })
    }

    /// The master key of the vault unlocked in this process, if any (see
    /// `vault::WorkspaceVault`, which is how callers use it).
    pub async fn unlocked_master(&self) -> Option<Arc<MasterKey>> {
        self.vault.read().await.clone()
    }

    /// Keeps (or with `None` forgets, i.e. locks) the unlocked vault's master key.
    pub async fn keep_unlocked_master(&self, master: Option<Arc<MasterKey>>) {
        *self.vault.write().await = master;
    }
}

/// Which mirror rows belong to `account` (README, "Account scoping"): its
/// `[accounts.mirror_filter]` if it has one; else the mirror's account column holding the
/// account's name (rows without a value too when the provider has only this account); else,
/// for a provider's only account, every row of the provider. Two accounts of one provider
/// that the mirror cannot tell apart are a configuration error, never a guess.
pub async fn account_scope(
    config: &Config,
    mirror: &OrderMirror,
    account: &Account,
) -> Result<MirrorScope, ServiceError> {
    let siblings = config.accounts_of(account.provider);
    let only = siblings.len() <= 1;
    let path = config.workspace.join(CONFIG_FILE);
    if !account.mirror_filter.is_empty() {
        for (col, _) in &account.mirror_filter {
            if !mirror.orders_have_column(col).await {
                return Err(ServiceError::BadInput(format!(
                    "{}: key `accounts.mirror_filter` of account {}: the mirror's orders table {:?} has no column {col:?}",
                    path.display(),
                    account.name,
                    mirror.mapping().orders_table
                )));
            }
        }
        return Ok(MirrorScope {
            provider: account.provider,
            account: Some(AccountFilter {
                conditions: account.mirror_filter.clone(),
                or_unassigned: false,
            }),
        });
    }
    if let Some(col) = mirror.account_column() {
        return Ok(MirrorScope {
            provider: account.provider,
            account: Some(AccountFilter {
                conditions: vec![(col.to_string(), account.name.clone())],
                or_unassigned: only,
            }),
        });
    }
    if only {
        return Ok(account.provider.into());
    }
    let names: Vec<&str> = siblings.iter().map(|a| a.name.as_str()).collect();
    let configured = match &mirror.mapping().order_columns.account {
        Some(c) => format!(
            "the orders table {:?} has no account column {c:?} (`[mirror.mapping]` order_columns.account)",
            mirror.mapping().orders_table
        ),
        None => "`[mirror.mapping]` maps no account column (order_columns.account)".to_string(),
    };
    Err(ServiceError::BadInput(format!(
        "{}: accounts {} are all {} accounts, but {configured} and account {} has no          [accounts.mirror_filter]: Paydesk cannot tell which orders belong to which account.          Add the account column (holding the Paydesk account name) or give each of these          accounts a mirror_filter (column = value)",
        path.display(),
        names.join(", "),
        account.provider,
        account.name
    )))
}

/// The account whose Paydesk-executed refunds count for `account`: `None` (every refund of
/// the provider) when the provider has only this account.
pub fn refund_scope<'a>(config: &Config, account: &'a Account) -> Option<&'a str> {
    (config.accounts_of(account.provider).len() > 1).then_some(account.name.as_str())
}

/// The mirror mapping from `[mirror.mapping]`, or the documented default schema.
pub fn mirror_mapping(config: &Config) -> Result<MirrorMapping, ServiceError> {
    match &config.mirror_mapping {
        None => Ok(MirrorMapping::default()),
        Some(value) => value.clone().try_into().map_err(|e: toml::de::Error| {
            ServiceError::BadInput(format!(
                "{}: key `mirror.mapping`: {}",
                config.workspace.join(CONFIG_FILE).display(),
                e.to_string().trim().replace('\n', " ")
            ))
        }),
    }
}

/// The configuration `paydesk init` writes: one account per provider, all files in the
/// workspace. With `demo`, the accounts talk to the built-in sandbox, and a second WeChat Pay
/// merchant (`wechat-shop2`) shows account scoping.
pub fn template_config(demo: bool) -> String {
    let endpoint = if demo { "sandbox" } else { "file" };
    // The demo has a second WeChat Pay merchant, to show account scoping.
    let second_wechat = if demo {
        r#"
# A second WeChat Pay merchant (another merchant id): the mirror's account column tells its
# orders from wechat-main's (see "Account scoping" in the README).
[[accounts]]
name = "wechat-shop2"
provider = "wechat"
currency = "CNY"
endpoint = "sandbox"
fees = [{ currency = "CNY", rate = "0.6%" }]
[accounts.credentials]
mchid = "1900000002"
"#
    } else {
        ""
    };
    // The demo's settlement: Alipay's withdrawal fee schedule and the bank accounts the
    // payouts arrive in.
    let (alipay_payout_fee, bank_accounts) = if demo {
        (
            r#"[accounts.payout_fee]
rate = "0.10%"               # Alipay's fee per 提现 (the sandbox charges it)
"#,
            r#"
# Settlement (资金对账): the bank accounts the providers pay out into.
[[bank_accounts]]
name = "cmb-main"
currency = "CNY"
accounts = ["alipay-main", "wechat-main", "wechat-shop2"]

[[bank_accounts]]
name = "stripe-bank"
currency = "USD"
accounts = ["stripe-main"]
"#,
        )
    } else {
        ("", "")
    };
    format!(
        r#"# Paydesk workspace configuration. Reference: README.md, "Configuration".

[app]
# Paydesk's own database. Default: the embedded SQLite file below.
# database_url = "postgres://paydesk@127.0.0.1:5432/paydesk"
database_url = "sqlite://paydesk.db"
timezone = "Asia/Shanghai"

[mirror]
# The merchant's orders and refunds (read-only). `paydesk init --demo` creates this file
# with the documented default schema; map your own tables with [mirror.mapping].
url = "sqlite://orders.db"

[tolerances]
amount = "0.00"              # amount difference still considered equal (major units)
timing_window_minutes = 30   # paid this close to midnight and missing: timing difference
fee = "0.01"                 # fee difference tolerated before a fee variance

[sla]
days = 3                     # days to resolve a discrepancy
large_amount = "1000.00"     # at or above this amount...
large_days = 1               # ...resolve within this many days

[refunds]
support_limit = "500.00"     # largest refund support may issue without approval (order currency)
daily_count = 20             # refunds one support user may request per day without approval
# admin_limit = "5000.00"    # largest refund an admin may issue without approval (default: none)
# call_timeout_ms = 30000    # one provider call; no answer = outcome unknown, re-query
# retry_backoff_ms = 2000    # first wait after an unknown outcome (doubles up to max_backoff_ms)
# execute_for_seconds = 60   # then `paydesk refunds resume` finishes the refund

[[accounts]]
name = "alipay-main"
provider = "alipay"
currency = "CNY"
endpoint = "{endpoint}"
fees = [{{ currency = "CNY", rate = "0.6%" }}]
[accounts.credentials]
app_id = "2021000000000001"
pid = "2088000000000001"
{alipay_payout_fee}
[[accounts]]
name = "wechat-main"
provider = "wechat"
currency = "CNY"
endpoint = "{endpoint}"
fees = [{{ currency = "CNY", rate = "0.6%" }}]
[accounts.credentials]
mchid = "1900000001"
{second_wechat}
[[accounts]]
name = "stripe-main"
provider = "stripe"
currency = "USD"
timezone = "UTC"
endpoint = "{endpoint}"
fees = [{{ currency = "USD", rate = "2.9%", fixed = "0.30" }}, {{ currency = "JPY", rate = "3.6%" }}]
[accounts.credentials]
order_metadata_key = "order_id"
{bank_accounts}"#
    )
}

/// Creates a workspace folder with `paydesk.toml` (unless it has one), the app database and,
/// when the configured mirror is a SQLite file in the default schema that does not exist yet,
/// an empty order mirror. An existing mirror is never touched. With `demo` on a folder
/// without `paydesk.toml`, the new workspace is the demo's: its app database is marked
/// `demo` and its mirror file is the demo's own (see [`demo_folder`]; the demo itself goes
/// through [`open_or_create_demo`], which refuses any other folder).
pub async fn init(dir: &Path, demo: bool) -> Result<Workspace, ServiceError> {
    create_private_dir_all(dir)
        .map_err(|e| ServiceError::Io(format!("cannot create {}: {e}", dir.display())))?;
    let config_path = dir.join(CONFIG_FILE);
    let created = std::fs::symlink_metadata(&config_path).is_err();
    if created {
        // 0600, and never through a link planted at the name.
        write_new_private(&config_path, template_config(demo).as_bytes()).map_err(|e| {
            ServiceError::Io(format!("cannot write {}: {e}", config_path.display()))
        })?;
    }
    let config = Config::load(dir)?;
    if demo && created {
        let db = AppDb::open(&config.database_url).await?;
        let marked = db
            .set_workspace_kind(paydesk_store::WORKSPACE_KIND_DEMO)
            .await;
        db.close().await;
        marked?;
    }
    if config.mirror_mapping.is_none() {
        if let Some(path) = paydesk_store::sqlite_path(&config.mirror_url) {
            if !path.exists() {
                paydesk_store::create_mirror_file(&config.mirror_url, demo).await?;
            }
        }
    }
    Workspace::open(dir).await
}

/// What the demo (`paydesk demo`, `paydesk init --demo`, the desktop app on a folder without
/// `paydesk.toml`) may do with a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoFolder {
    /// Missing or empty: the demo creates its workspace there.
    New,
    /// A workspace the demo created: its app database is marked `demo` and its order mirror
    /// is the demo's own file (or not there any more: the demo creates it anew); or its
    /// mirror is the demo's and its app database still empty (a demo workspace pointed at a
    /// new database, which the demo then marks).
    Demo,
}

/// Checks, writing nothing, that the demo may use `dir`; any other folder (a real workspace,
/// a folder with other files, a demo workspace pointed at another order mirror) is refused
/// with a message naming the folder.
pub async fn demo_folder(dir: &Path) -> Result<DemoFolder, ServiceError> {
    if !dir.exists() {
        return Ok(DemoFolder::New);
    }
    if !dir.is_dir() {
        return Err(not_for_demo(dir, "is not a folder"));
    }
    if dir.join(CONFIG_FILE).exists() {
        let config = Config::load(dir)?;
        let db = paydesk_store::probe_app_db(&config.database_url).await?;
        let marked = db.kind.as_deref() == Some(paydesk_store::WORKSPACE_KIND_DEMO);
        let demo_mirror = paydesk_store::is_demo_mirror(&config.mirror_url).await?;
        // An unmarked but empty app database is the demo's when its mirror is: a demo
        // workspace pointed at a new database.
        let demo_db = marked || (db.empty && demo_mirror);
        if !demo_db {
            return Err(not_for_demo(
                dir,
                "holds a Paydesk workspace that was not created as a demo",
            ));
        }
        let mirror_gone = config.mirror_mapping.is_none()
            && paydesk_store::sqlite_path(&config.mirror_url).is_some_and(|p| !p.exists());
        if !demo_mirror && !mirror_gone {
            return Err(not_for_demo(
                dir,
                "has an order mirror (`[mirror] url` in paydesk.toml) that is not the file the \
                 demo created, and the demo writes to no other",
            ));
        }
        return Ok(DemoFolder::Demo);
    }
    let mut entries = std::fs::read_dir(dir)
        .map_err(|e| ServiceError::Io(format!("cannot read {}: {e}", dir.display())))?;
    if entries.next().is_some() {
        return Err(not_for_demo(
            dir,
            "is not empty and holds no Paydesk workspace",
        ));
    }
    Ok(DemoFolder::New)
}

/// The refusal of a folder the demo must not use: names it and says what to do instead.
pub fn not_for_demo(dir: &Path, why: &str) -> ServiceError {
    ServiceError::Conflict(format!(
        "{} {why}; the demo runs only on a new folder or on a workspace the demo created, never \
         on a real workspace: give it a new folder with --workspace DIR (or unset \
         PAYDESK_WORKSPACE)",
        dir.display()
    ))
}

/// The demo's workspace in `dir`: created on a new folder, opened if the demo created it,
/// refused otherwise ([`demo_folder`]) before anything is written.
pub async fn open_or_create_demo(dir: &Path) -> Result<Workspace, ServiceError> {
    match demo_folder(dir).await? {
        DemoFolder::New => init(dir, true).await,
        DemoFolder::Demo => {
            let config = Config::load(dir)?;
            if let Some(path) = paydesk_store::sqlite_path(&config.mirror_url) {
                if !path.exists() && config.mirror_mapping.is_none() {
                    paydesk_store::create_mirror_file(&config.mirror_url, true).await?;
                }
            }
            let w = Workspace::open(dir).await?;
            if w.db.workspace_kind().await?.is_none() {
                w.db.set_workspace_kind(paydesk_store::WORKSPACE_KIND_DEMO)
                    .await?;
            }
            Ok(w)
        }
    }
}
