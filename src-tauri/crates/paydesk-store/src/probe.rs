//! A connection test for URLs people type into the settings screen.

/// Connects to a SQLite file (read-only; a missing file is reported, not created) or a
/// PostgreSQL URL and says what is there, for the settings screen's connection test.
pub async fn probe_connection(url: &str, workspace: &std::path::Path) -> Result<String, String> {
    use sqlx::Connection;
    if url.is_empty() {
        return Err("the URL is empty; give sqlite://FILE or postgres://USER@HOST:PORT/DB".into());
    }
    if let Some(rest) = url.strip_prefix("sqlite://") {
        let path = std::path::Path::new(rest.split('?').next().unwrap_or(rest));
        let path = if path.is_absolute() {
            path.to_path_buf()
        } else {
            workspace.join(path)
        };
        if !path.is_file() {
            return Err(format!("no SQLite file at {}", path.display()));
        }
        let opts = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .read_only(true);
        let mut conn = sqlx::SqliteConnection::connect_with(&opts)
            .await
            .map_err(|e| e.to_string())?;
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'")
            .fetch_one(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        let _ = conn.close().await;
        return Ok(format!("SQLite, {n} tables"));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let connect = sqlx::PgConnection::connect(url);
        let mut conn = tokio::time::timeout(std::time::Duration::from_secs(10), connect)
            .await
            .map_err(|_| "no answer within 10 s".to_string())?
            .map_err(|e| e.to_string())?;
        let version: String = sqlx::query_scalar("SHOW server_version")
            .fetch_one(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        let _ = conn.close().await;
        return Ok(format!("PostgreSQL {version}"));
    }
    Err("the URL must start with sqlite:// or postgres://".into())
}
