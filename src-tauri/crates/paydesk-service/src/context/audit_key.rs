//! The audit chain's key: where it lives and how a workspace gets one.
//!
//! The audit log is HMAC-SHA256 chained (`paydesk_store::audit`) with a 32-byte random key
//! kept in the file `audit.key` (64 hex digits, mode 0600) beside `paydesk.toml`, never in
//! the database. Why a file of its own and not the vault's master key: audit entries are
//! written before anybody unlocks the vault (failed logins, permission refusals, the unlock
//! attempt itself) and by workspaces whose vault is unlocked only by a person's passphrase,
//! so the master key is not there when most entries are written. A team sharing one
//! PostgreSQL database from several machines copies the one `audit.key` into each
//! machine's workspace (as it shares the vault key file); the log names the key's public
//! id in its `audit.key` entry, and a machine with another key or none is refused with a
//! message saying so instead of writing entries nobody else can verify.
//!
//! The first time a workspace opens a database whose log is not keyed yet, it creates the
//! key (first as `audit.key.new`), appends the `audit.key` entry that starts the keyed
//! part of the log, and only then renames the file to `audit.key`: a crash in between
//! leaves either no keyed log (a new key is made next time) or a pending file the next open
//! completes. So a workspace with `audit.key` always has a keyed log, and a log without
//! its keyed part (removed or recomputed without the key) fails verification.

use crate::ServiceError;
use paydesk_store::{AppDb, AuditKey};
use std::path::{Path, PathBuf};

/// The key file's name in the workspace folder.
pub const AUDIT_KEY_FILE: &str = "audit.key";
const PENDING_SUFFIX: &str = ".new";

fn pending_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_os_string();
    p.push(PENDING_SUFFIX);
    PathBuf::from(p)
}

/// Reads a key file: 64 hex digits (surrounding white space ignored), not readable by
/// other users.
pub fn read_key_file(path: &Path) -> Result<AuditKey, ServiceError> {
    let shown = path.display();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(ServiceError::BadInput(format!(
                    "the audit key file {shown} can be read by other users (mode {mode:04o}); run `chmod 600 {shown}`"
                )));
            }
        }
    }
    let text =
        zeroize::Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
            ServiceError::Io(format!("cannot read the audit key file {shown}: {e}"))
        })?);
    let bad = || {
        ServiceError::BadInput(format!(
            "the audit key file {shown} must hold 64 hex digits (32 bytes); restore it from the workspace of another machine that uses this database"
        ))
    };
    let digits = text.trim();
    if digits.len() != 64 {
        return Err(bad());
    }
    let mut key = zeroize::Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(digits, key.as_mut()).map_err(|_| bad())?;
    Ok(AuditKey::from_bytes(*key))
}

/// Writes a new random key file (mode 0600); never overwrites one (`Ok(None)` when it
/// exists: another process is creating it).
fn create_key_file(path: &Path) -> Result<Option<AuditKey>, ServiceError> {
    use std::io::Write;
    let shown = path.display();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = match options.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(None),
        Err(e) => {
            return Err(ServiceError::Io(format!(
                "cannot create the audit key file {shown}: {e}"
            )))
        }
    };
    let mut key = zeroize::Zeroizing::new([0u8; 32]);
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, key.as_mut());
    let text = zeroize::Zeroizing::new(format!("{}\n", hex::encode(key.as_ref())));
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| ServiceError::Io(format!("cannot write the audit key file {shown}: {e}")))?;
    Ok(Some(AuditKey::from_bytes(*key)))
}

/// A pending key file older than this was left by a process that died while creating it.
const STALE_PENDING: std::time::Duration = std::time::Duration::from_secs(30);

/// The workspace's app database with its audit key attached: the key of `dir/audit.key`,
/// or a new one (and the log's `audit.key` start entry) when neither the file nor a keyed
/// log exists yet.
pub async fn attach(dir: &Path, db: AppDb) -> Result<AppDb, ServiceError> {
    let path = dir.join(AUDIT_KEY_FILE);
    let pending = pending_path(&path);
    loop {
        let started = db.audit_key_start().await?;
        if path.exists() {
            let key = read_key_file(&path)?;
            if let Some((seq, id)) = &started {
                if *id != key.id() {
                    return Err(ServiceError::BadInput(format!(
                        "the audit log of this database is keyed with audit key {id} (entry {seq}), but {} holds key {}: copy audit.key from the workspace of a machine that uses this database",
                        path.display(),
                        key.id()
                    )));
                }
            }
            let db = db.with_audit_key(key);
            if started.is_none() && db.audit_head().await?.0 == 0 {
                // An empty log (a new database for this workspace): nothing to protect yet.
                db.audit_start_keyed().await?;
            }
            // A log with entries but without its start entry: appends are refused and
            // `audit verify` says so.
            return Ok(db);
        }
        if let Some((seq, id)) = started {
            // Keyed already: by this workspace (a creator that has not renamed its file yet,
            // or died before it), or elsewhere.
            if pending.exists() {
                let key = read_key_file(&pending)?;
                if key.id() == id {
                    publish(&pending, &path)?;
                    continue;
                }
            }
            return Err(ServiceError::BadInput(format!(
                "the audit log of this database is keyed (audit key {id}, from entry {seq}) but this workspace has no {}: copy audit.key (mode 0600) from the workspace of a machine that uses this database",
                path.display()
            )));
        }
        // Not keyed yet: make the key, start the keyed log, then publish the file.
        let Some(key) = create_key_file(&pending)? else {
            // Another process is making the key: wait for it (or clear what a dead one left).
            let age = std::fs::metadata(&pending)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok());
            if age.is_some_and(|a| a > STALE_PENDING) {
                let _ = std::fs::remove_file(&pending);
            } else {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            continue;
        };
        let keyed = db.clone().with_audit_key(key);
        if let Err(e) = keyed.audit_start_keyed().await {
            let _ = std::fs::remove_file(&pending);
            return Err(e.into());
        }
        publish(&pending, &path)?;
        return Ok(keyed);
    }
}

/// Renames the pending key file to `audit.key`; done already (by a concurrent opener of the
/// workspace) is fine.
fn publish(from: &Path, to: &Path) -> Result<(), ServiceError> {
    match std::fs::rename(from, to) {
        Ok(()) => Ok(()),
        Err(_) if to.exists() && !from.exists() => Ok(()),
        Err(e) => Err(ServiceError::Io(format!(
            "cannot rename {} to {}: {e}",
            from.display(),
            to.display()
        ))),
    }
}
