//! Both database backends for one test: a SQLite file in a temporary directory, and a fresh
//! PostgreSQL database (`CREATE DATABASE <prefix>_<uuid>`, dropped afterwards) on the server
//! named by `PAYDESK_TEST_PG_URL` (default [`DEFAULT_PG_URL`]).
//!
//! PostgreSQL unreachable → the test fails when `CI` is set ([`crate::ci`]), otherwise it
//! prints a loud skip notice and runs on SQLite only.

use sqlx::Connection;
use std::future::Future;
use std::path::PathBuf;

pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The PostgreSQL server's admin URL: `PAYDESK_TEST_PG_URL` unless unset or blank.
pub fn pg_admin_url() -> String {
    std::env::var("PAYDESK_TEST_PG_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_PG_URL.to_string())
}

/// A fresh PostgreSQL database, dropped by [`PgDb::drop_db`].
pub struct PgDb {
    pub url: String,
    admin: String,
    name: String,
}

impl PgDb {
    /// Creates `<prefix>_<uuid>`; None (skip, loudly) when the server is unreachable outside CI.
    pub async fn create(prefix: &str) -> Option<PgDb> {
        sqlx::any::install_default_drivers();
        let admin = pg_admin_url();
        let mut conn = match sqlx::AnyConnection::connect(&admin).await {
            Ok(c) => c,
            Err(e) => {
                if crate::ci::is_ci() {
                    panic!(
                        "PostgreSQL test database at {admin} is unreachable and CI is set, so \
                         this is a failure, not a skip: {e}. Start PostgreSQL or set \
                         PAYDESK_TEST_PG_URL."
                    );
                }
                eprintln!(
                    "\n\
                     ##################################################################\n\
                     ## SKIPPING PostgreSQL half of this test: cannot connect to      ##\n\
                     ## {admin}\n\
                     ## ({e})\n\
                     ## Set PAYDESK_TEST_PG_URL or start PostgreSQL. With CI set this ##\n\
                     ## is a failure.                                                ##\n\
                     ##################################################################\n"
                );
                return None;
            }
        };
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let _ = conn.close().await;
        let mut url = url::Url::parse(&admin).expect("PAYDESK_TEST_PG_URL is a URL");
        url.set_path(&format!("/{name}"));
        Some(PgDb {
            url: url.to_string(),
            admin,
            name,
        })
    }

    /// The database's name (`<prefix>_<uuid>`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops the database (forcing other connections off); errors are ignored.
    pub async fn drop_db(self) {
        if let Ok(mut conn) = sqlx::AnyConnection::connect(&self.admin).await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn)
            .await;
            let _ = conn.close().await;
        }
    }
}

/// One backend of a test: a SQLite file (its directory lives as long as the value) or a
/// fresh PostgreSQL database.
pub enum TestDb {
    Sqlite {
        dir: tempfile::TempDir,
        path: PathBuf,
        url: String,
    },
    Pg(PgDb),
}

impl TestDb {
    /// `sqlite://<temp dir>/<file_name>`; the file is created by whoever opens it.
    pub fn sqlite(file_name: &str) -> TestDb {
        let dir = crate::dirs::temp_dir();
        let path = dir.path().join(file_name);
        let url = format!("sqlite://{}", path.display());
        TestDb::Sqlite { dir, path, url }
    }

    /// A fresh PostgreSQL database `<prefix>_<uuid>` ([`PgDb::create`]).
    pub async fn pg(prefix: &str) -> Option<TestDb> {
        PgDb::create(prefix).await.map(TestDb::Pg)
    }

    pub fn url(&self) -> &str {
        match self {
            TestDb::Sqlite { url, .. } => url,
            TestDb::Pg(pg) => &pg.url,
        }
    }

    pub fn is_pg(&self) -> bool {
        matches!(self, TestDb::Pg(_))
    }

    /// The SQLite file, for tests that read it raw.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        match self {
            TestDb::Sqlite { path, .. } => Some(path.clone()),
            TestDb::Pg(_) => None,
        }
    }

    /// Drops the PostgreSQL database; a SQLite file goes with its directory.
    pub async fn drop_db(self) {
        match self {
            TestDb::Pg(pg) => pg.drop_db().await,
            TestDb::Sqlite { dir, .. } => drop(dir),
        }
    }
}

/// SQLite always (a file named `sqlite_file`); PostgreSQL (`<pg_prefix>_<uuid>`) when
/// reachable — or a failure under CI when not.
pub async fn backends(sqlite_file: &str, pg_prefix: &str) -> Vec<TestDb> {
    let mut v = vec![TestDb::sqlite(sqlite_file)];
    if let Some(pg) = TestDb::pg(pg_prefix).await {
        v.push(pg);
    }
    v
}

/// Runs `f` with the URL of a fresh SQLite file (`paydesk-test.db`).
pub async fn run_sqlite<F, Fut>(f: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let db = TestDb::sqlite("paydesk-test.db");
    f(db.url().to_string()).await;
    db.drop_db().await;
}

/// Runs `f` with the URL of a fresh PostgreSQL database (`paydesk_t_<uuid>`), dropping it
/// afterwards even when `f` panics.
pub async fn run_pg<F, Fut>(f: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(db) = PgDb::create("paydesk_t").await else {
        return;
    };
    let result = tokio::spawn(f(db.url.clone())).await;
    db.drop_db().await;
    if let Err(e) = result {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        panic!("test task failed: {e}");
    }
}

/// Declares `mod name { sqlite(), postgres() }` test pairs for `async fn name(url: String)`
/// ([`run_sqlite`], [`run_pg`]). The calling crate needs `tokio` with its macros.
#[macro_export]
macro_rules! db_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    $crate::db::run_sqlite(super::$name).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    $crate::db::run_pg(super::$name).await;
                }
            }
        )*
    };
}
