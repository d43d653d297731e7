//! Issue 16, point 8, through the service's reconcile on SQLite and PostgreSQL: a run lock
//! left by a dead process on this host is taken over at once; a lock from another host with
//! a fresh heartbeat is respected (the run fails after its lock wait, naming the holder and
//! how to take over by hand).

use paydesk_core::{Actor, BillDate, Role};
use paydesk_service::context::config::Config;
use paydesk_service::context::progress::Silent;
use paydesk_service::reconcile::{self, DryRun, ReconcileRequest, RunReport, StatementInput};
use paydesk_service::ServiceError;
use paydesk_store::{AppDb, LockOwner, MirrorMapping, OrderMirror, RUN_LOCK_STALE_AFTER};
use std::path::{Path, PathBuf};
use std::time::Duration;

const DAY: &str = "2019-09-16";

fn bill() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../fixtures/alipay_refund_no/20880211096256330156_20190916_业务明细.csv")
}

struct Setup {
    config: Config,
    db: AppDb,
    mirror: OrderMirror,
    _dir: tempfile::TempDir,
}

async fn setup(url: &str) -> Setup {
    let dir = tempfile::tempdir().expect("tmp");
    let mirror_url = format!("sqlite://{}", dir.path().join("orders.db").display());
    paydesk_store::create_default_mirror(&mirror_url)
        .await
        .expect("mirror");
    let text = format!(
        "[app]\ndatabase_url = \"{url}\"\ntimezone = \"Asia/Shanghai\"\n\n\
         [mirror]\nurl = \"{mirror_url}\"\n\n\
         [[accounts]]\nname = \"alipay-main\"\nprovider = \"alipay\"\ncurrency = \"CNY\"\n\
         endpoint = \"file\"\n"
    );
    let config = Config::parse(&text, dir.path()).expect("config");
    let db = AppDb::open(url).await.expect("app db");
    let mirror = OrderMirror::open(&mirror_url, MirrorMapping::default())
        .await
        .expect("mirror");
    Setup {
        config,
        db,
        mirror,
        _dir: dir,
    }
}

async fn run(s: &Setup, wait: Duration) -> Result<RunReport, ServiceError> {
    reconcile::reconcile(
        &s.config,
        &s.db,
        &s.mirror,
        &ReconcileRequest {
            account: "alipay-main".into(),
            date: BillDate::parse(DAY).expect("date"),
            statement: StatementInput::File(bill()),
            dry_run: DryRun::No,
            actor: Actor::new("finance", [Role::Admin]),
            lock_wait: wait,
        },
        &Silent,
    )
    .await
}

async fn lock_as(s: &Setup, holder: &str, owner: &LockOwner) -> paydesk_store::RunLock {
    s.db.try_lock_run_as(
        "alipay-main",
        BillDate::parse(DAY).expect("date"),
        holder,
        owner,
        Duration::from_secs(15 * 60),
        RUN_LOCK_STALE_AFTER,
    )
    .await
    .expect("lock")
}

async fn dead_process_lock_is_taken_over_at_once(url: String) {
    let s = setup(&url).await;
    if paydesk_store::process_alive(std::process::id(), None).is_none() {
        eprintln!("skipped: no /proc to tell a dead process");
        return;
    }
    let mut child = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    let dead = LockOwner::of_pid(child.id());
    child.wait().expect("wait for true");
    lock_as(&s, "admin@killed", &dead).await;
    let started = std::time::Instant::now();
    let report = run(&s, Duration::from_secs(120))
        .await
        .expect("the dead holder's lock is taken over");
    assert!(report.run_id.is_some());
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
}

async fn fresh_heartbeat_from_another_host_is_respected(url: String) {
    let s = setup(&url).await;
    let elsewhere = LockOwner {
        host: "another-host.example".into(),
        pid: std::process::id(),
        pid_start: None,
    };
    let theirs = lock_as(&s, "admin@pid42", &elsewhere).await;
    let started = std::time::Instant::now();
    match run(&s, Duration::from_millis(800)).await {
        Err(e @ ServiceError::Busy(_)) => {
            let msg = e.to_string();
            assert!(
                msg.contains("admin@pid42 on host another-host.example"),
                "{msg}"
            );
            assert!(
                msg.contains(
                    "DELETE FROM run_locks WHERE account = 'alipay-main' AND bill_date = '2019-09-16'"
                ),
                "{msg}"
            );
        }
        other => panic!("expected Busy, got {other:?}"),
    }
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_secs(10),
        "{took:?}"
    );
    s.db.unlock_run(theirs).await.expect("unlock");
    run(&s, Duration::from_secs(5))
        .await
        .expect("runs once released");
}

paydesk_testkit::db_tests!(
    dead_process_lock_is_taken_over_at_once,
    fresh_heartbeat_from_another_host_is_respected
);
