//! The demo's marks: the workspace kind in the app database (SQLite and PostgreSQL), read
//! without writing, and the demo's own order mirror files.

use paydesk_store::{
    create_mirror_file, is_demo_mirror, probe_app_db, sqlite_path, AppDb, AppDbProbe,
    WORKSPACE_KIND_DEMO,
};

paydesk_testkit::db_tests!(workspace_kind_is_read_without_writing);

fn probe(kind: Option<&str>, empty: bool) -> AppDbProbe {
    AppDbProbe {
        kind: kind.map(str::to_string),
        empty,
    }
}

async fn workspace_kind_is_read_without_writing(url: String) {
    // No database yet (SQLite: no file; PostgreSQL: no tables): empty, not a demo, and the
    // probe creates nothing.
    assert_eq!(probe_app_db(&url).await.expect("probe"), probe(None, true));
    if let Some(path) = sqlite_path(&url) {
        assert!(!path.exists(), "the probe created {}", path.display());
    }
    let db = AppDb::open(&url).await.expect("open");
    assert_eq!(db.workspace_kind().await.expect("kind"), None);
    assert_eq!(probe_app_db(&url).await.expect("probe"), probe(None, true));
    db.set_workspace_kind(WORKSPACE_KIND_DEMO)
        .await
        .expect("mark");
    assert_eq!(
        probe_app_db(&url).await.expect("probe"),
        probe(Some(WORKSPACE_KIND_DEMO), true)
    );
    // Marking again is harmless.
    db.set_workspace_kind(WORKSPACE_KIND_DEMO)
        .await
        .expect("mark again");
    assert_eq!(
        db.workspace_kind().await.expect("kind").as_deref(),
        Some(WORKSPACE_KIND_DEMO)
    );
    db.close().await;

    // A database with a user is not empty any more.
    let db = AppDb::open(&url).await.expect("open");
    db.create_user(&paydesk_store::NewUser {
        username: "finance".into(),
        display_name: "Finance".into(),
        roles: [paydesk_core::Role::Finance].into_iter().collect(),
        password_hash: "not-a-real-hash".into(),
    })
    .await
    .expect("user");
    db.close().await;
    assert_eq!(
        probe_app_db(&url).await.expect("probe"),
        probe(Some(WORKSPACE_KIND_DEMO), false)
    );
}

#[tokio::test]
async fn mirror_files_are_created_new_only_and_the_demo_knows_its_own() {
    let tmp = tempfile::tempdir().expect("tmp");
    let url_of = |name: &str| format!("sqlite://{}", tmp.path().join(name).display());

    let demo = url_of("demo-orders.db");
    assert!(!is_demo_mirror(&demo).await.expect("probe missing"));
    create_mirror_file(&demo, true).await.expect("create demo");
    assert!(is_demo_mirror(&demo).await.expect("probe demo"));

    let plain = url_of("orders.db");
    create_mirror_file(&plain, false)
        .await
        .expect("create plain");
    assert!(!is_demo_mirror(&plain).await.expect("probe plain"));

    // An existing file is never written to: refused, bytes unchanged.
    let before = std::fs::read(tmp.path().join("orders.db")).expect("read");
    for demo in [false, true] {
        let err = create_mirror_file(&plain, demo)
            .await
            .expect_err("existing file");
        assert!(err.to_string().contains("already exists"), "{err}");
    }
    assert_eq!(
        std::fs::read(tmp.path().join("orders.db")).expect("read"),
        before
    );
    assert!(!is_demo_mirror(&plain).await.expect("probe plain"));

    // Not a SQLite file: nothing to create.
    let err = create_mirror_file("postgres://u@127.0.0.1:1/shop", true)
        .await
        .expect_err("postgres");
    assert!(err.to_string().contains("not a SQLite file"), "{err}");
}
