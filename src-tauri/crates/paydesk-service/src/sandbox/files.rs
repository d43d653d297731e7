//! `paydesk generate`: generated days written as the files a merchant would have (an order
//! mirror and each provider's statement in its real layout).

use crate::context::config::Account;
use crate::context::workspace;
use crate::sandbox::generate::{self, GenerateParams};
use crate::ServiceError;
use paydesk_core::{BillDate, Provider, StatementLine};
use paydesk_providers::statement;
use std::path::{Path, PathBuf};

/// Writes `lines` in the account's provider's real statement format.
pub fn statement_file(
    account: &Account,
    date: BillDate,
    lines: &[StatementLine],
) -> Result<(String, Vec<u8>), ServiceError> {
    let compact = date.0.format("%Y%m%d");
    let bad = |e: statement::StatementError| ServiceError::Io(e.to_string());
    Ok(match account.provider {
        Provider::Alipay => {
            let pid = account.credential("pid").unwrap_or("2088000000000001");
            (
                format!("{pid}0156_{compact}.csv.zip"),
                statement::write_alipay_bill_zip(lines, pid, date).map_err(bad)?,
            )
        }
        Provider::Wechat => {
            let mchid = account.credential("mchid").unwrap_or("1900000001");
            let mut out = Vec::new();
            statement::write_wechat_bill(lines.iter(), &mut out).map_err(bad)?;
            (format!("{mchid}_{compact}_ALL.csv"), out)
        }
        Provider::Stripe => {
            let mut out = Vec::new();
            statement::write_stripe_report(lines.iter(), &mut out).map_err(bad)?;
            (
                format!("balance_change_from_activity_itemized_{date}.csv"),
                out,
            )
        }
        Provider::Manual => {
            let mut out = Vec::new();
            statement::write_normalized(lines.iter(), &mut out).map_err(bad)?;
            (format!("{}_{date}.csv", account.name), out)
        }
    })
}

/// `paydesk generate`: an order mirror (`orders.db`, default schema), one statement file per
/// account in its provider's real format, and a `paydesk.toml` that reads them.
pub async fn generate_to_dir(
    params: &GenerateParams,
    out: &Path,
) -> Result<Vec<PathBuf>, ServiceError> {
    crate::context::private_file::create_private_dir_all(out)
        .map_err(|e| ServiceError::Io(format!("cannot create {}: {e}", out.display())))?;
    let day = generate::generate(params);
    let mut written = Vec::new();

    let config_path = out.join(crate::context::config::CONFIG_FILE);
    if !config_path.exists() {
        crate::context::private_file::write_new_private(
            &config_path,
            workspace::template_config(false).as_bytes(),
        )
        .map_err(|e| ServiceError::Io(format!("cannot write {}: {e}", config_path.display())))?;
        written.push(config_path);
    }
    let mirror_path = out.join("orders.db");
    if mirror_path.exists() {
        return Err(ServiceError::BadInput(format!(
            "{} already exists; generate into an empty folder",
            mirror_path.display()
        )));
    }
    let mirror_url = crate::context::config::sqlite_url(&mirror_path);
    paydesk_store::create_mirror_file(&mirror_url, false).await?;
    paydesk_store::insert_mirror_rows(&mirror_url, &day.orders, &day.refunds).await?;
    written.push(mirror_path);

    for gen in &params.accounts {
        let account = Account {
            name: gen.name.clone(),
            provider: gen.provider,
            currency: gen.currency,
            timezone: gen.timezone,
            endpoint: crate::context::config::Endpoint::FileOnly,
            fee_rules: Vec::new(),
            credentials: toml::Table::new(),
            mirror_filter: Vec::new(),
            payout_fee: None,
        };
        let lines = day.lines.get(&gen.name).cloned().unwrap_or_default();
        let (name, bytes) = statement_file(&account, params.date, &lines)?;
        let path = out.join(format!("{}-{name}", gen.name));
        std::fs::write(&path, bytes)
            .map_err(|e| ServiceError::Io(format!("cannot write {}: {e}", path.display())))?;
        written.push(path);
    }
    Ok(written)
}
