//! Midnight crossings in both directions never make a false discrepancy (issue 14, point 3).
//!
//! Property: over many seeds of generated multi-day data (payments booked by the provider
//! before midnight but paid after by the shop's clock, late payments booked the next day,
//! refunds crossing midnight both ways, refunds made the day after the payment), reconciled
//! day after day through the real service, every run reports exactly the discrepancies the
//! generator planted for that account and day — no false 短款 or 长款. Two WeChat Pay
//! accounts share the order mirror (its account column says whose an order is).
#![cfg(feature = "demo")]

use paydesk_core::{Actor, BillDate, OutcomeClass, Provider, Role};
use paydesk_service::context::config::Config;
use paydesk_service::context::progress::Silent;
use paydesk_service::reconcile::{self, DryRun, ReconcileRequest, StatementInput};
use paydesk_service::sandbox::files::statement_file;
use paydesk_service::sandbox::generate::{
    self, Crossings, GenAccount, GenerateParams, GeneratedDay, Mix, Planted,
};
use paydesk_store::{AppDb, MirrorMapping, OrderMirror};
use paydesk_testkit::db::TestDb;
use std::path::Path;

const SEEDS: u64 = 50;
const DAYS: usize = 4;
const ORDERS_PER_DAY: u64 = 240;

fn accounts() -> Vec<GenAccount> {
    vec![
        GenAccount::new("alipay-main", Provider::Alipay),
        GenAccount::new("wechat-main", Provider::Wechat),
        GenAccount::new("wechat-shop2", Provider::Wechat),
        GenAccount::new("stripe-main", Provider::Stripe),
    ]
}

/// Merchant ids of the two WeChat Pay accounts (their bills must say whose they are).
fn mchid(account: &str) -> Option<&'static str> {
    match account {
        "wechat-main" => Some("1900000001"),
        "wechat-shop2" => Some("1900000002"),
        _ => None,
    }
}

/// The generator spreads order `i` of a day over the accounts round-robin; its number ends
/// in `i`. The mirror's account column says so.
fn account_of(order_no: &str) -> String {
    let i: usize = order_no[order_no.len() - 8..].parse().expect("order index");
    let all = accounts();
    all[i % all.len()].name.clone()
}

/// The classes that cross days or are 短款/长款, at 1% of orders each.
fn mix() -> Mix {
    let mut mix = Mix::none();
    for class in [
        OutcomeClass::OrderOnly,
        OutcomeClass::ProviderOnly,
        OutcomeClass::RefundOnlyLocal,
        OutcomeClass::RefundOnlyAtProvider,
        OutcomeClass::TimingDifference,
    ] {
        mix.rates_ppm.insert(class, 10_000);
    }
    mix
}

fn config_text(db_url: &str, mirror_url: &str) -> String {
    let mut text = format!(
        "[app]\ndatabase_url = \"{db_url}\"\ntimezone = \"Asia/Shanghai\"\n\n\
         [mirror]\nurl = \"{mirror_url}\"\n\n\
         [tolerances]\ntiming_window_minutes = 30\n"
    );
    for a in accounts() {
        text.push_str(&format!(
            "\n[[accounts]]\nname = \"{}\"\nprovider = \"{}\"\ncurrency = \"{}\"\nendpoint = \"file\"\n",
            a.name,
            a.provider,
            a.currency.code()
        ));
        if let Some(id) = mchid(&a.name) {
            text.push_str(&format!("[accounts.credentials]\nmchid = \"{id}\"\n"));
        }
    }
    text
}

#[derive(Default)]
struct Seen {
    crossings: Crossings,
    late_payments: u64,
    runs: u64,
}

async fn reconcile_seed(seed: u64, db_url: &str, dir: &Path, seen: &mut Seen) {
    let first = BillDate::parse("2026-11-20").expect("date");
    let mut dates = vec![first];
    for _ in 1..DAYS {
        let next = dates.last().copied().unwrap_or(first).succ();
        dates.push(next);
    }
    let days: Vec<GeneratedDay> = dates
        .iter()
        .map(|&date| {
            generate::generate(&GenerateParams {
                orders: ORDERS_PER_DAY,
                date,
                seed,
                mix: mix(),
                accounts: accounts(),
            })
        })
        .collect();

    let mirror_path = dir.join(format!("orders-{seed}.db"));
    let mirror_url = format!("sqlite://{}", mirror_path.display());
    paydesk_store::create_default_mirror(&mirror_url)
        .await
        .expect("mirror");
    let orders: Vec<_> = days.iter().flat_map(|d| d.orders.clone()).collect();
    let refunds: Vec<_> = days.iter().flat_map(|d| d.refunds.clone()).collect();
    paydesk_store::insert_mirror_rows(&mirror_url, &orders, &refunds)
        .await
        .expect("mirror rows");
    let pairs: Vec<(String, String)> = orders
        .iter()
        .map(|o| (o.order_no.to_string(), account_of(&o.order_no)))
        .collect();
    paydesk_store::set_mirror_accounts(&mirror_url, &pairs)
        .await
        .expect("mirror accounts");

    let config = Config::parse(&config_text(db_url, &mirror_url), dir).expect("config");
    let db = AppDb::open(db_url).await.expect("app db");
    let mirror = OrderMirror::open(&mirror_url, MirrorMapping::default())
        .await
        .expect("mirror");
    let actor = Actor::new("finance", [Role::Admin]);

    for (d, (&date, day)) in dates.iter().zip(&days).enumerate() {
        seen.crossings.payments_booked_before += day.crossings.payments_booked_before;
        seen.crossings.refunds_booked_before += day.crossings.refunds_booked_before;
        seen.crossings.refunds_booked_after += day.crossings.refunds_booked_after;
        seen.crossings.refunds_next_day += day.crossings.refunds_next_day;
        seen.late_payments += day
            .injected
            .get(&OutcomeClass::TimingDifference)
            .copied()
            .unwrap_or(0);
        for gen in accounts() {
            let account = config.account(&gen.name).expect("account");
            let mut lines = day.lines.get(&gen.name).cloned().unwrap_or_default();
            if d > 0 {
                lines.extend(
                    days[d - 1]
                        .next_day_lines
                        .get(&gen.name)
                        .cloned()
                        .unwrap_or_default(),
                );
            }
            let (file_name, bytes) = statement_file(account, date, &lines).expect("statement");
            let report = reconcile::reconcile(
                &config,
                &db,
                &mirror,
                &ReconcileRequest {
                    account: gen.name.clone(),
                    date,
                    statement: StatementInput::Downloaded {
                        file_name,
                        bytes,
                        source: "test".into(),
                    },
                    dry_run: DryRun::No,
                    actor: actor.clone(),
                    lock_wait: std::time::Duration::from_secs(10),
                },
                &Silent,
            )
            .await
            .unwrap_or_else(|e| panic!("seed {seed} {date} {}: {e}", gen.name));
            seen.runs += 1;
            let mut found: Vec<Planted> = report
                .discrepancies
                .iter()
                .map(|x| Planted {
                    account: gen.name.clone(),
                    class: x.class,
                    order_no: x.order_no.clone().unwrap_or_default(),
                })
                .collect();
            found.sort();
            let mut planted: Vec<Planted> = day
                .planted
                .iter()
                .filter(|p| p.account == gen.name)
                .cloned()
                .collect();
            planted.sort();
            assert_eq!(
                found, planted,
                "seed {seed}, {date}, {}: reported discrepancies (left) are not the planted ones (right)",
                gen.name
            );
        }
    }
    db.close().await;
}

/// Everything the generator can make crossing midnight was made, in both directions.
fn assert_both_directions(seen: &Seen) {
    assert!(seen.late_payments > 0, "no payment booked after midnight");
    assert!(
        seen.crossings.payments_booked_before > 0,
        "no payment booked before midnight and paid after"
    );
    assert!(
        seen.crossings.refunds_booked_before > 0,
        "{:?}",
        seen.crossings
    );
    assert!(
        seen.crossings.refunds_booked_after > 0,
        "{:?}",
        seen.crossings
    );
    assert!(seen.crossings.refunds_next_day > 0, "{:?}", seen.crossings);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn midnight_crossings_make_no_false_discrepancy_sqlite() {
    let mut seen = Seen::default();
    for seed in 0..SEEDS {
        let db = TestDb::sqlite(&format!("paydesk-{seed}.db"));
        let dir = paydesk_testkit::dirs::temp_dir();
        reconcile_seed(seed, db.url(), dir.path(), &mut seen).await;
        db.drop_db().await;
    }
    assert_eq!(seen.runs, SEEDS * DAYS as u64 * accounts().len() as u64);
    assert_both_directions(&seen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn midnight_crossings_make_no_false_discrepancy_postgres() {
    let Some(db) = TestDb::pg("paydesk_midnight").await else {
        return;
    };
    let dir = paydesk_testkit::dirs::temp_dir();
    let mut seen = Seen::default();
    reconcile_seed(7, db.url(), dir.path(), &mut seen).await;
    db.drop_db().await;
    assert_eq!(seen.runs, DAYS as u64 * accounts().len() as u64);
}
