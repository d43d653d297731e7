//! Files Paydesk writes are private and never clobber its own state.
//!
//! * Folders are created 0700 and files 0600 whatever the umask (the mode is given to
//!   `mkdir`/`open` themselves, so no other user can open the file in between).
//! * A new file is opened with `O_CREAT | O_EXCL` (`create_new`), which never follows a
//!   symbolic link: a link planted at the name makes the open fail instead of redirecting
//!   the write.
//! * An export ([`write_export`]) refuses a target that is a symbolic link or that is one of
//!   the workspace's own files (its database and `-wal`/`-shm`/`-journal`, `paydesk.toml`,
//!   the vault key file, the demo and sandbox keys, the order mirror), and replaces the
//!   target atomically: it is written to a new temporary file beside it, synced, then
//!   renamed over it. A failed export leaves the old file as it was and no partial file.

use crate::context::config::{Config, CONFIG_FILE};
use crate::ServiceError;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The environment variable naming the vault key file (the vault layer's `KEY_FILE_VAR`).
const KEY_FILE_VAR: &str = "PAYDESK_VAULT_KEY_FILE";

/// Creates `dir` and any missing parents; the folders it creates are 0700 (owner only).
pub fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Opens a new file for writing, mode 0600. Fails if anything (a file, a symbolic link)
/// already has that name: `O_CREAT | O_EXCL` does not follow links.
pub fn create_new_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Writes `bytes` to a new file (mode 0600); an existing file or link at `path` is an error.
pub fn write_new_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = create_new_private(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// The workspace files an export must never replace, by their resolved path. A folder in
/// [`ProtectedFiles::dirs`] protects every file in it.
#[derive(Debug, Default, Clone)]
pub struct ProtectedFiles {
    files: Vec<(PathBuf, &'static str)>,
    dirs: Vec<(PathBuf, &'static str)>,
}

/// `parent` canonicalized joined with the file name: where `path` resolves, whether or not
/// the file exists (a link at the name itself is not followed). `None` if the folder does
/// not exist.
fn resolve(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Some(std::fs::canonicalize(parent).ok()?.join(name))
}

/// The file a `sqlite://` URL names.
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url.trim().strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let file = rest.split('?').next().unwrap_or(rest);
    (!file.is_empty() && !file.contains(":memory:")).then(|| PathBuf::from(file))
}

impl ProtectedFiles {
    /// The workspace's own files: `paydesk.toml`, the app database (with its `-wal`, `-shm`
    /// and `-journal`), the order mirror's SQLite file, the vault key file (of `paydesk.toml`
    /// and of `PAYDESK_VAULT_KEY_FILE`), the audit chain's `audit.key`, and every file in
    /// `keys/` and `sandbox/`.
    pub fn of(config: &Config) -> ProtectedFiles {
        let ws = &config.workspace;
        let mut p = ProtectedFiles::default();
        p.add_file(&ws.join(CONFIG_FILE), "the workspace configuration");
        if let Some(db) = sqlite_file(&config.database_url) {
            p.add_sqlite(&db, "the workspace database");
        }
        if let Some(mirror) = sqlite_file(&config.mirror_url) {
            p.add_sqlite(&mirror, "the order mirror database");
        }
        if let Some(key) = &config.vault.key_file {
            p.add_file(key, "the vault key file");
        }
        if let Some(key) = std::env::var_os(KEY_FILE_VAR).filter(|v| !v.is_empty()) {
            p.add_file(Path::new(&key), "the vault key file");
        }
        p.add_file(
            &ws.join(crate::context::audit_key::AUDIT_KEY_FILE),
            "the audit chain's key file",
        );
        p.add_dir(&ws.join("keys"), "the workspace's keys");
        p.add_dir(&ws.join("sandbox"), "the sandbox's keys");
        p
    }

    fn add_file(&mut self, path: &Path, what: &'static str) {
        if let Some(r) = resolve(path) {
            self.files.push((r, what));
        }
    }

    fn add_sqlite(&mut self, db: &Path, what: &'static str) {
        self.add_file(db, what);
        for suffix in ["-wal", "-shm", "-journal"] {
            let mut name = db.as_os_str().to_os_string();
            name.push(suffix);
            self.add_file(Path::new(&name), what);
        }
    }

    fn add_dir(&mut self, dir: &Path, what: &'static str) {
        if let Ok(r) = std::fs::canonicalize(dir) {
            self.dirs.push((r, what));
        }
    }

    /// What `resolved` is, if it is protected.
    fn protects(&self, resolved: &Path) -> Option<&'static str> {
        self.files
            .iter()
            .find(|(f, _)| f == resolved)
            .or_else(|| {
                self.dirs
                    .iter()
                    .find(|(d, _)| resolved.parent() == Some(d.as_path()))
            })
            .map(|(_, what)| *what)
    }
}

/// Checks an export target: not a symbolic link, not one of `protected`, its folder exists
/// (or is created, 0700). Returns the path resolved (canonical folder + file name).
fn check_export_target(target: &Path, protected: &ProtectedFiles) -> Result<PathBuf, ServiceError> {
    let shown = target.display();
    if target.file_name().is_none() {
        return Err(ServiceError::BadInput(format!(
            "{shown}: an export needs a file name, not a folder"
        )));
    }
    match std::fs::symlink_metadata(target) {
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(ServiceError::BadInput(format!(
                "{shown} is a symbolic link; Paydesk does not write through links: give the real file name"
            )))
        }
        Ok(meta) if meta.is_dir() => {
            return Err(ServiceError::BadInput(format!(
                "{shown} is a folder; give a file name"
            )))
        }
        _ => {}
    }
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_private_dir_all(parent)
            .map_err(|e| ServiceError::Io(format!("cannot create {}: {e}", parent.display())))?;
    }
    let resolved = resolve(target)
        .ok_or_else(|| ServiceError::Io(format!("cannot resolve the folder of {shown}")))?;
    if let Some(what) = protected.protects(&resolved) {
        return Err(ServiceError::BadInput(format!(
            "{shown} is {what}; Paydesk never overwrites it with an export: choose another file"
        )));
    }
    Ok(resolved)
}

/// Writes an export to `target` atomically, mode 0600: `write` fills a new temporary file
/// beside the target (never a link, never an existing file), which is synced and renamed
/// over the target. Refuses a target that is a symbolic link or one of `protected`. On any
/// failure the target is unchanged and the temporary file removed.
pub fn write_export(
    target: &Path,
    protected: &ProtectedFiles,
    write: impl FnOnce(&mut File) -> Result<(), String>,
) -> Result<(), ServiceError> {
    let resolved = check_export_target(target, protected)?;
    let (tmp, mut file) = create_temp_beside(&resolved)?;
    let result = write(&mut file)
        .and_then(|()| file.sync_all().map_err(|e| e.to_string()))
        .and_then(|()| {
            drop(file);
            // A link put at the target since the check is replaced, not followed: rename
            // replaces the name itself.
            std::fs::rename(&tmp, &resolved).map_err(|e| e.to_string())
        });
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(ServiceError::Io(format!(
            "cannot write {}: {e}",
            target.display()
        )));
    }
    if let Some(dir) = resolved.parent() {
        // The rename is durable once the folder is synced (best effort: not every system
        // lets a folder be opened).
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// A new temporary file (0600, `create_new`) in the folder of `resolved`: `NAME.partial`, or
/// `NAME.partial-N` when that name is taken (by a file or a planted link, neither touched).
fn create_temp_beside(resolved: &Path) -> Result<(PathBuf, File), ServiceError> {
    let mut name = resolved.as_os_str().to_os_string();
    name.push(".partial");
    let first = PathBuf::from(&name);
    let mut last = None;
    for n in 0..16u32 {
        let candidate = if n == 0 {
            first.clone()
        } else {
            let mut c = name.clone();
            c.push(format!("-{}-{n}", rand::random::<u32>()));
            PathBuf::from(c)
        };
        match create_new_private(&candidate) {
            Ok(f) => return Ok((candidate, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => {
                return Err(ServiceError::Io(format!(
                    "cannot create {}: {e}",
                    candidate.display()
                )))
            }
        }
    }
    Err(ServiceError::Io(format!(
        "cannot create a temporary file beside {}: {}",
        resolved.display(),
        last.map_or_else(String::new, |e| e.to_string())
    )))
}

/// Replaces `path` (a workspace file such as `paydesk.toml`) atomically with `bytes`, the new
/// file 0600: written to a new `NAME.saving` temporary file (never through a link), synced,
/// renamed over the old one.
pub fn replace_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut name = path.as_os_str().to_os_string();
    name.push(".saving");
    let tmp = PathBuf::from(name);
    // A stale temporary file of an earlier failed save (or a link) is removed, not followed.
    match std::fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let result = write_new_private(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[cfg(unix)]
    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_files_refuse_existing_names_and_links() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        assert!(write_new_private(&victim, b"x").is_err());
        #[cfg(unix)]
        {
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(&victim, &link).unwrap();
            assert!(write_new_private(&link, b"x").is_err());
        }
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        let fresh = dir.path().join("a/b/fresh");
        create_private_dir_all(fresh.parent().unwrap()).unwrap();
        write_new_private(&fresh, b"x").unwrap();
        #[cfg(unix)]
        {
            assert_eq!(mode(&fresh), 0o600);
            assert_eq!(mode(&dir.path().join("a")), 0o700);
            assert_eq!(mode(&dir.path().join("a/b")), 0o700);
        }
    }

    #[test]
    fn exports_replace_atomically_and_refuse_protected_files() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("paydesk.db");
        std::fs::write(&db, "db").unwrap();
        let mut protected = ProtectedFiles::default();
        protected.add_sqlite(&db, "the workspace database");
        // Through `..` and a relative spelling: still the database.
        let sneaky = dir.path().join("sub/../paydesk.db-wal");
        std::fs::create_dir_all(dir.path().join("sub")).unwrap();
        let e = write_export(&sneaky, &protected, |f| {
            f.write_all(b"x").map_err(|e| e.to_string())
        })
        .unwrap_err();
        assert!(e.to_string().contains("the workspace database"), "{e}");
        let e = write_export(&db, &protected, |_| Ok(())).unwrap_err();
        assert!(e.to_string().contains("never overwrites"), "{e}");
        assert_eq!(std::fs::read_to_string(&db).unwrap(), "db");

        let out = dir.path().join("out.csv");
        std::fs::write(&out, "old").unwrap();
        // A failed write leaves the old file and no temporary file.
        let e = write_export(&out, &protected, |_| Err("disk full".into())).unwrap_err();
        assert!(e.to_string().contains("disk full"), "{e}");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
        write_export(&out, &protected, |f| {
            f.write_all(b"new").map_err(|e| e.to_string())
        })
        .unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "new");
        #[cfg(unix)]
        assert_eq!(mode(&out), 0o600);
    }

    #[cfg(unix)]
    #[test]
    fn exports_never_follow_links() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let link = dir.path().join("out.csv");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let e = write_export(&link, &ProtectedFiles::default(), |_| Ok(())).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        // A link planted at the temporary file's name is not followed either.
        let out = dir.path().join("real.csv");
        std::os::unix::fs::symlink(&victim, dir.path().join("real.csv.partial")).unwrap();
        write_export(&out, &ProtectedFiles::default(), |f| {
            f.write_all(b"new").map_err(|e| e.to_string())
        })
        .unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "new");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    }

    #[test]
    fn replace_private_removes_a_planted_link() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let cfg = dir.path().join("paydesk.toml");
        std::fs::write(&cfg, "old").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(&victim, dir.path().join("paydesk.toml.saving")).unwrap();
        replace_private(&cfg, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&cfg).unwrap(), "new");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        #[cfg(unix)]
        assert_eq!(mode(&cfg), 0o600);
    }
}
