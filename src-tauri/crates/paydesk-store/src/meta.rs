//! What kind of workspace an app database belongs to (`workspace_meta`, migration 0007): the
//! demo marks the workspaces it creates, and runs on no other.

use crate::db::{connect_pool, sqlite_path, AppDb, Backend};
use crate::error::{redact_url, DbContext, Result};
use sqlx::{AnyPool, Row};

/// The kind of a workspace the demo created (`workspace_meta` row `kind`).
pub const WORKSPACE_KIND_DEMO: &str = "demo";

impl AppDb {
    /// Records the workspace's kind ([`WORKSPACE_KIND_DEMO`]): written when the demo creates
    /// the workspace on a new folder, and by nothing else.
    pub async fn set_workspace_kind(&self, kind: &str) -> Result<()> {
        let op = "record the workspace kind in";
        let mut tx = self.begin_write(op, "workspace_meta").await?;
        sqlx::query(
            "INSERT INTO workspace_meta (name, value, set_at) VALUES ('kind', $1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, set_at = excluded.set_at",
        )
        .bind(kind)
        .bind(crate::codec::now_ms())
        .execute(&mut *tx)
        .await
        .ctx(op, "workspace_meta")?;
        tx.commit().await.ctx(op, "workspace_meta")?;
        Ok(())
    }

    /// The workspace's recorded kind, `None` if none was recorded (not a demo workspace).
    pub async fn workspace_kind(&self) -> Result<Option<String>> {
        read_kind(&self.pool).await
    }
}

async fn read_kind(pool: &AnyPool) -> Result<Option<String>> {
    let op = "read the workspace kind from";
    let row = sqlx::query("SELECT value FROM workspace_meta WHERE name = 'kind'")
        .fetch_optional(pool)
        .await
        .ctx(op, "workspace_meta")?;
    match row {
        Some(r) => Ok(Some(
            r.try_get::<String, _>("value").ctx(op, "workspace_meta")?,
        )),
        None => Ok(None),
    }
}

/// Whether `table` exists in the database of `pool` (PostgreSQL: in the current schema).
pub(crate) async fn table_exists(pool: &AnyPool, backend: Backend, table: &str) -> Result<bool> {
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = $1"
        }
        Backend::Postgres => {
            "SELECT COUNT(*) AS n FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = $1"
        }
    };
    let row = sqlx::query(sql)
        .bind(table)
        .fetch_one(pool)
        .await
        .ctx("look for a table in", table)?;
    let n: i64 = row.try_get("n").ctx("look for a table in", table)?;
    Ok(n > 0)
}

/// What [`probe_app_db`] found in an app database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppDbProbe {
    /// The recorded workspace kind (`workspace_meta`), if any.
    pub kind: Option<String>,
    /// Nothing in it yet: the database (SQLite file) or its tables do not exist, or it has
    /// neither users nor statements.
    pub empty: bool,
}

/// The workspace kind recorded in the app database at `url` and whether the database is still
/// empty, read without creating, migrating or writing anything (SQLite is opened read-only).
pub async fn probe_app_db(url: &str) -> Result<AppDbProbe> {
    let backend = Backend::of_url(url)?;
    if backend == Backend::Sqlite {
        match sqlite_path(url) {
            Some(path) if !path.is_file() => {
                return Ok(AppDbProbe {
                    kind: None,
                    empty: true,
                })
            }
            _ => {}
        }
    }
    let pool = connect_pool(url, backend, true, 1).await?;
    let probe = probe_pool(&pool, backend).await;
    pool.close().await;
    probe.map_err(|e| match e {
        crate::StoreError::Db { op, source, .. } => crate::StoreError::Db {
            op,
            object: format!("the app database {}", redact_url(url)),
            source,
        },
        other => other,
    })
}

async fn probe_pool(pool: &AnyPool, backend: Backend) -> Result<AppDbProbe> {
    let kind = if table_exists(pool, backend, "workspace_meta").await? {
        read_kind(pool).await?
    } else {
        None
    };
    let mut empty = true;
    for table in ["users", "statements"] {
        if table_exists(pool, backend, table).await? {
            let row = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
                .fetch_one(pool)
                .await
                .ctx("count the rows of", table)?;
            let n: i64 = row.try_get("n").ctx("count the rows of", table)?;
            empty &= n == 0;
        }
    }
    Ok(AppDbProbe { kind, empty })
}
