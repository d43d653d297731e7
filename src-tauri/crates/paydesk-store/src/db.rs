//! Opening the app database and running its migrations.

use crate::error::{redact_url, DbContext, Result, StoreError};
use sha2::{Digest, Sha256};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Any, AnyPool, PgPool, Row, Transaction};
use std::str::FromStr;
use std::sync::Once;
use std::time::Duration;

/// Which database engine an [`AppDb`] (or the order mirror) talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a URL names.
    pub fn of_url(url: &str) -> Result<Backend> {
        let lower = url.trim().to_ascii_lowercase();
        if lower.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::BadUrl {
                url: redact_url(url),
                reason: "expected sqlite://PATH, sqlite:///ABSOLUTE/PATH or postgres://...".into(),
            })
        }
    }
}

/// Paydesk's own database: statements, runs, discrepancies and their review history.
#[derive(Clone, Debug)]
pub struct AppDb {
    pub(crate) pool: AnyPool,
    pub(crate) backend: Backend,
    /// PostgreSQL only: native connections for saving statements and runs, which stream
    /// their rows with COPY (the `Any` driver has no COPY). Opened lazily, at most 2.
    pub(crate) pg: Option<PgPool>,
    /// The key of the audit chain's HMACs ([`crate::audit`]); `None`: unkeyed (only for a
    /// log that was never keyed).
    pub(crate) audit_key: Option<std::sync::Arc<crate::audit::AuditKey>>,
    /// Position anchors of the review table's deep jumps ([`crate::paging`]).
    pub(crate) anchor_cache: std::sync::Arc<crate::paging::AnchorCache>,
}

pub(crate) fn install_drivers() {
    static ONCE: Once = Once::new();
    ONCE.call_once(sqlx::any::install_default_drivers);
}

/// Adds `mode=rwc` (create if missing) or `mode=ro` to a SQLite URL unless a mode is given.
pub(crate) fn sqlite_url_with_mode(url: &str, mode: &str) -> String {
    let url = url.trim();
    if url.contains(":memory:") || url.contains("mode=") {
        return url.to_string();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}mode={mode}")
}

/// The file a SQLite URL names (`None` for an in-memory database or another backend).
pub fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let url = url.trim();
    if !url.get(.."sqlite:".len())?.eq_ignore_ascii_case("sqlite:") {
        return None;
    }
    let rest = url.get("sqlite:".len()..)?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path.contains(":memory:") {
        return None;
    }
    Some(std::path::PathBuf::from(path))
}

/// Refuses at once a file that exists but is not a SQLite database (SQLite would otherwise
/// fail each connection attempt and the pool retry until its acquire timeout).
fn check_sqlite_header(url: &str) -> Result<()> {
    use std::io::Read;
    let Some(path) = sqlite_path(url) else {
        return Ok(());
    };
    let Ok(mut file) = std::fs::File::open(&path) else {
        return Ok(()); // missing (created on open) or unreadable: SQLite says why
    };
    let mut head = Vec::with_capacity(16);
    if file.by_ref().take(16).read_to_end(&mut head).is_err() || head.is_empty() {
        return Ok(()); // an empty file is an empty database to SQLite
    }
    if head != b"SQLite format 3\0" {
        return Err(StoreError::Invalid {
            what: "database".into(),
            reason: format!("{} is not a SQLite database", path.display()),
        });
    }
    Ok(())
}

/// Creates a missing SQLite database file empty, mode 0600 whatever the umask, before SQLite
/// opens it: SQLite would create it with the umask's permissions (often world-readable), and
/// it gives the `-wal` and `-shm` files the main file's permissions. `create_new` never
/// follows a link planted at the name. An existing file is left as it is.
fn create_private_sqlite_file(url: &str) {
    let Some(path) = sqlite_path(url) else {
        return;
    };
    if url.contains("mode=ro") || std::fs::symlink_metadata(&path).is_ok() {
        return;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    // Created by another process meanwhile, or a missing folder: SQLite's own open then
    // uses theirs or names the problem.
    let _ = options.open(&path);
}

/// Opens a pool for `url`; SQLite connections get WAL, foreign keys and a 5 s busy timeout.
pub(crate) async fn connect_pool(
    url: &str,
    backend: Backend,
    read_only: bool,
    max_connections: u32,
) -> Result<AnyPool> {
    install_drivers();
    let open_err = |source| StoreError::Open {
        url: redact_url(url),
        source,
    };
    if backend == Backend::Sqlite {
        check_sqlite_header(url)?;
        if !read_only {
            create_private_sqlite_file(url);
        }
    }
    let effective = match backend {
        Backend::Sqlite => sqlite_url_with_mode(url, if read_only { "ro" } else { "rwc" }),
        Backend::Postgres => url.trim().to_string(),
    };
    let options = AnyConnectOptions::from_str(&effective).map_err(open_err)?;
    // No pool maintenance task: no minimum to keep open, no idle/lifetime reaping. sqlx
    // 0.8's maintenance task can spin a core forever after the work is done (sqlx issue
    // #3645, a `num_idle` underflow, fixed only after 0.8.6), which kept `paydesk` from
    // exiting. With both reapers off sqlx spawns no maintenance task at all.
    let mut pool_options = AnyPoolOptions::new()
        .max_connections(max_connections)
        .min_connections(0)
        .idle_timeout(None)
        .max_lifetime(None)
        .acquire_timeout(Duration::from_secs(30));
    if backend == Backend::Sqlite {
        pool_options = pool_options.after_connect(move |conn, _meta| {
            Box::pin(async move {
                use sqlx::Executor;
                conn.execute("PRAGMA busy_timeout = 5000").await?;
                if !read_only {
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    // Walking a big index (the review table's deep blocks) reads the file
                    // mapped instead of one read() per page into a 2 MB cache.
                    conn.execute("PRAGMA mmap_size = 1073741824").await?;
                }
                Ok(())
            })
        });
    }
    let pool = pool_options.connect_with(options).await.map_err(open_err)?;
    if backend == Backend::Sqlite && !read_only && !url.contains(":memory:") {
        sqlx::raw_sql("PRAGMA journal_mode = WAL")
            .execute(&pool)
            .await
            .map_err(open_err)?;
    }
    track(&pool);
    Ok(pool)
}

/// The native PostgreSQL pool the saves use ([`AppDb::pg`]): lazy (its first save connects),
/// and, like [`connect_pool`]'s, without a maintenance task.
fn connect_pg_save_pool(url: &str) -> Result<PgPool> {
    let options = PgConnectOptions::from_str(url.trim()).map_err(|source| StoreError::Open {
        url: redact_url(url),
        source,
    })?;
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .min_connections(0)
        .idle_timeout(None)
        .max_lifetime(None)
        .acquire_timeout(Duration::from_secs(30))
        .connect_lazy_with(options);
    track_pool(TrackedPool::Pg(pool.clone()));
    Ok(pool)
}

/// Pools opened in this process, kept only after [`track_pools`] (the CLI calls it), so
/// that [`close_tracked_pools`] can close them all before the process exits.
static TRACKED: std::sync::Mutex<Option<Vec<TrackedPool>>> = std::sync::Mutex::new(None);

enum TrackedPool {
    Any(AnyPool),
    Pg(PgPool),
}

fn track(pool: &AnyPool) {
    track_pool(TrackedPool::Any(pool.clone()));
}

fn track_pool(pool: TrackedPool) {
    let mut tracked = TRACKED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(pools) = tracked.as_mut() {
        pools.push(pool);
    }
}

/// From now on every pool this process opens (app database, order mirror) is remembered for
/// [`close_tracked_pools`]. For short-lived processes (the CLI); a long-lived app does not
/// call it.
pub fn track_pools() {
    let mut tracked = TRACKED.lock().unwrap_or_else(|p| p.into_inner());
    tracked.get_or_insert_with(Vec::new);
}

/// Closes every pool remembered since [`track_pools`], waiting at most `limit` for each.
pub async fn close_tracked_pools(limit: Duration) {
    let pools = {
        let mut tracked = TRACKED.lock().unwrap_or_else(|p| p.into_inner());
        tracked.as_mut().map(std::mem::take).unwrap_or_default()
    };
    for pool in pools {
        let _ = match pool {
            TrackedPool::Any(p) => tokio::time::timeout(limit, p.close()).await,
            TrackedPool::Pg(p) => tokio::time::timeout(limit, p.close()).await,
        };
    }
}

impl AppDb {
    /// Opens (creating a SQLite file if missing) and migrates the app database.
    ///
    /// `url`: `sqlite:///abs/path.db`, `sqlite://relative.db` or `postgres://...`.
    pub async fn open(url: &str) -> Result<AppDb> {
        let backend = Backend::of_url(url)?;
        let max = match backend {
            Backend::Sqlite => 4,
            Backend::Postgres => 8,
        };
        let pool = connect_pool(url, backend, false, max).await?;
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(connect_pg_save_pool(url)?),
        };
        let db = AppDb {
            pool,
            backend,
            pg,
            audit_key: None,
            anchor_cache: Default::default(),
        };
        migrate(&db).await?;
        Ok(db)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// This database with the audit key: from now on its audit entries are HMAC-keyed and
    /// [`AppDb::audit_verify`] checks them with it.
    pub fn with_audit_key(mut self, key: crate::audit::AuditKey) -> AppDb {
        self.audit_key = Some(std::sync::Arc::new(key));
        self
    }

    /// The id of the audit key this handle writes with (no secret), if any.
    pub fn audit_key_id(&self) -> Option<String> {
        self.audit_key.as_ref().map(|k| k.id())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes the pools (waits for connections to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
        if let Some(pg) = &self.pg {
            pg.close().await;
        }
    }

    /// Begins a write transaction. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`) so that concurrent writers wait on the busy timeout instead of
    /// failing when a read transaction tries to upgrade.
    pub(crate) async fn begin_write(
        &self,
        op: &'static str,
        object: impl std::fmt::Display,
    ) -> Result<Transaction<'static, Any>> {
        match self.backend {
            Backend::Sqlite => self
                .pool
                .begin_with("BEGIN IMMEDIATE")
                .await
                .ctx(op, object),
            Backend::Postgres => self.pool.begin().await.ctx(op, object),
        }
    }
}

/// One embedded migration: portable SQL, then the statements only one backend runs (empty
/// for most migrations).
pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

impl Migration {
    /// The SQL this migration runs on `backend`.
    pub(crate) fn sql_for(&self, backend: Backend) -> String {
        let only = match backend {
            Backend::Sqlite => self.sqlite,
            Backend::Postgres => self.postgres,
        };
        if only.is_empty() {
            self.sql.to_string()
        } else {
            format!("{}\n;\n{only}", self.sql)
        }
    }

    /// What `schema_migrations` records: the portable SQL's hash for a migration without
    /// backend parts (as before they existed), else the hash of all three parts.
    pub(crate) fn checksum(&self) -> String {
        if self.sqlite.is_empty() && self.postgres.is_empty() {
            checksum(self.sql)
        } else {
            checksum(&format!(
                "{}\n-- sqlite --\n{}\n-- postgres --\n{}",
                self.sql, self.sqlite, self.postgres
            ))
        }
    }
}

pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../migrations/0001_init.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 2,
        name: "users_audit",
        sql: include_str!("../migrations/0002_users_audit.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 3,
        name: "refunds",
        sql: include_str!("../migrations/0003_refunds.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 4,
        name: "vault",
        sql: include_str!("../migrations/0004_vault.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 5,
        name: "vault_refresh",
        sql: include_str!("../migrations/0005_vault_refresh.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 6,
        name: "run_lock_liveness",
        sql: include_str!("../migrations/0006_run_lock_liveness.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 7,
        name: "workspace_meta",
        sql: include_str!("../migrations/0007_workspace_meta.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 8,
        name: "review_paging",
        sql: include_str!("../migrations/0008_review_paging.sql"),
        sqlite: include_str!("../migrations/0008_review_paging.sqlite.sql"),
        postgres: include_str!("../migrations/0008_review_paging.postgres.sql"),
    },
    Migration {
        version: 9,
        name: "bulk_save",
        sql: include_str!("../migrations/0009_bulk_save.sql"),
        sqlite: "",
        postgres: include_str!("../migrations/0009_bulk_save.postgres.sql"),
    },
    Migration {
        version: 10,
        name: "review_anchors",
        sql: include_str!("../migrations/0010_review_anchors.sql"),
        sqlite: include_str!("../migrations/0010_review_anchors.sqlite.sql"),
        postgres: include_str!("../migrations/0010_review_anchors.postgres.sql"),
    },
    Migration {
        version: 11,
        name: "amount_at_stake",
        sql: include_str!("../migrations/0011_amount_at_stake.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 12,
        name: "explanation_zh",
        sql: include_str!("../migrations/0012_explanation_zh.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 13,
        name: "settlement",
        sql: include_str!("../migrations/0013_settlement.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 14,
        name: "settlement_reviews",
        sql: include_str!("../migrations/0014_settlement_reviews.sql"),
        sqlite: "",
        postgres: "",
    },
    Migration {
        version: 15,
        name: "review_undo",
        sql: include_str!("../migrations/0015_review_undo.sql"),
        sqlite: "",
        postgres: "",
    },
];

pub(crate) fn checksum(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

/// The per-backend spelling of the few things SQL dialects disagree on.
pub(crate) fn substitute(sql: &str, backend: Backend) -> String {
    let (id_pk, without_rowid) = match backend {
        Backend::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", " WITHOUT ROWID"),
        Backend::Postgres => ("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", ""),
    };
    sql.replace("{{ID_PK}}", id_pk)
        .replace("{{WITHOUT_ROWID}}", without_rowid)
}

/// Splits a migration into statements (comment lines dropped, split on `;`). A `;` inside a
/// `$$ ... $$` body (PostgreSQL functions, `DO`) or inside a SQLite `CREATE TRIGGER ... BEGIN
/// ... END` does not end the statement.
pub(crate) fn statements_of(sql: &str) -> Vec<String> {
    let without_comments: String = sql
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = Vec::new();
    let mut cur = String::new();
    for part in without_comments.split_inclusive(';') {
        cur.push_str(part);
        let body = cur.trim_end_matches(';').trim();
        let in_dollar = body.matches("$$").count() % 2 == 1;
        let upper = body.to_ascii_uppercase();
        let words = || upper.split_whitespace();
        let in_trigger = upper.starts_with("CREATE TRIGGER")
            && words().any(|w| w == "BEGIN")
            && words().last() != Some("END");
        if in_dollar || in_trigger {
            continue;
        }
        if !body.is_empty() {
            out.push(body.to_string());
        }
        cur.clear();
    }
    let rest = cur.trim();
    if !rest.is_empty() {
        out.push(rest.to_string());
    }
    out
}

async fn migrate(db: &AppDb) -> Result<()> {
    let op = "prepare migrations of";
    let mut tx = db.begin_write(op, "the app database").await?;
    if db.backend == Backend::Postgres {
        // CREATE TABLE IF NOT EXISTS is not safe against a concurrent creator on PostgreSQL
        // (duplicate pg_type row): two processes opening a fresh database wait on this lock.
        sqlx::query("SELECT pg_advisory_xact_lock(7403185501)")
            .execute(&mut *tx)
            .await
            .ctx(op, "the app database")?;
    }
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (\
            version BIGINT PRIMARY KEY, \
            name TEXT NOT NULL, \
            checksum TEXT NOT NULL, \
            applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *tx)
    .await
    .ctx(op, "the app database")?;
    tx.commit().await.ctx(op, "the app database")?;

    for m in MIGRATIONS {
        let mut tx = db.begin_write("migrate", "the app database").await?;
        if db.backend == Backend::Postgres {
            // Two consoles opening the same fresh database must not both migrate it.
            sqlx::query("LOCK TABLE schema_migrations IN EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await
                .ctx(op, "the app database")?;
        }
        let applied =
            sqlx::query("SELECT version, checksum FROM schema_migrations ORDER BY version")
                .fetch_all(&mut *tx)
                .await
                .ctx(op, "the app database")?;
        let mut known = None;
        for row in &applied {
            let version: i64 = row.try_get("version").ctx(op, "schema_migrations")?;
            let sum: String = row.try_get("checksum").ctx(op, "schema_migrations")?;
            match MIGRATIONS.iter().find(|x| x.version == version) {
                None => return Err(StoreError::SchemaTooNew { version }),
                Some(x) => {
                    let expected = x.checksum();
                    if expected != sum {
                        return Err(StoreError::MigrationChecksum {
                            version,
                            name: x.name.to_string(),
                            applied: sum,
                            expected,
                        });
                    }
                }
            }
            if version == m.version {
                known = Some(version);
            }
        }
        if known.is_some() {
            tx.commit().await.ctx(op, "the app database")?;
            continue;
        }
        let mig_err = |source| StoreError::Migration {
            version: m.version,
            name: m.name.to_string(),
            source,
        };
        for stmt in statements_of(&substitute(&m.sql_for(db.backend), db.backend)) {
            sqlx::query(&stmt)
                .execute(&mut *tx)
                .await
                .map_err(mig_err)?;
        }
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(m.checksum())
        .bind(crate::codec::now_ms())
        .execute(&mut *tx)
        .await
        .map_err(mig_err)?;
        tx.commit().await.map_err(mig_err)?;
        tracing::info!(
            version = m.version,
            name = m.name,
            "applied app database migration"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_modes() {
        assert_eq!(
            sqlite_url_with_mode("sqlite:///a.db", "rwc"),
            "sqlite:///a.db?mode=rwc"
        );
        assert_eq!(
            sqlite_url_with_mode("sqlite://a.db?cache=shared", "ro"),
            "sqlite://a.db?cache=shared&mode=ro"
        );
        assert_eq!(
            sqlite_url_with_mode("sqlite::memory:", "rwc"),
            "sqlite::memory:"
        );
        assert!(Backend::of_url("mysql://x").is_err());
        assert_eq!(
            Backend::of_url("postgresql://h/db").ok(),
            Some(Backend::Postgres)
        );
    }

    #[test]
    fn migrations_split_and_substitute() {
        for m in MIGRATIONS {
            let mut statements = 0;
            for b in [Backend::Sqlite, Backend::Postgres] {
                let s = substitute(&m.sql_for(b), b);
                assert!(!s.contains("{{"));
                statements += statements_of(&s).len();
            }
            // 0009 is PostgreSQL only; none is empty on both.
            assert!(statements > 0, "{}", m.name);
            if m.sqlite.is_empty() && m.postgres.is_empty() {
                assert_eq!(m.checksum(), checksum(m.sql), "{}", m.name);
            }
        }
        let sqlite = statements_of(&MIGRATIONS[7].sql_for(Backend::Sqlite));
        let triggers: Vec<_> = sqlite
            .iter()
            .filter(|s| s.starts_with("CREATE TRIGGER"))
            .collect();
        assert_eq!(triggers.len(), 6);
        assert!(triggers.iter().all(|t| t.ends_with("END")), "{triggers:?}");
        let pg = statements_of(&MIGRATIONS[7].sql_for(Backend::Postgres));
        assert!(pg
            .iter()
            .any(|s| s.starts_with("CREATE FUNCTION") && s.ends_with("$$")));
        assert!(pg
            .iter()
            .any(|s| s.starts_with("DO $$") && s.ends_with("$$")));
        assert!(statements_of(&MIGRATIONS[8].sql_for(Backend::Sqlite)).is_empty());
        let pg = statements_of(&MIGRATIONS[8].sql_for(Backend::Postgres));
        assert_eq!(
            pg.iter()
                .filter(|s| s.starts_with("CREATE FUNCTION") && s.ends_with("$$"))
                .count(),
            2
        );
        assert_eq!(
            pg.iter()
                .filter(|s| s.starts_with("CREATE TRIGGER"))
                .count(),
            6
        );
        assert_eq!(
            statements_of("CREATE TABLE a (x TEXT);\n-- note; here\nDROP TABLE b;"),
            ["CREATE TABLE a (x TEXT)", "DROP TABLE b"]
        );
    }
}
