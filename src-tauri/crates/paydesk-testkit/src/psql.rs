//! A fresh PostgreSQL database made with the `psql` client, for tests that drive the real
//! `paydesk` binary and so cannot run async set-up code of their own. Dropped (with force)
//! when the value is dropped.

use std::process::Command;

pub struct PsqlDb {
    /// The new database's URL, to put in a workspace's `paydesk.toml`.
    pub url: String,
    admin: String,
    name: String,
}

impl PsqlDb {
    /// Creates `<prefix>_<uuid>` on the server of [`crate::db::pg_admin_url`]. None (skip,
    /// with a notice) when the server cannot be reached, unless `CI` is set: then it panics.
    pub fn create(prefix: &str) -> Option<PsqlDb> {
        let admin = crate::db::pg_admin_url();
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let created = Command::new("psql")
            .args([admin.as_str(), "-qc", &format!("create database {name}")])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !created {
            assert!(
                !crate::ci::is_ci(),
                "PostgreSQL is required under CI (PAYDESK_TEST_PG_URL={admin})"
            );
            eprintln!("SKIPPED: no PostgreSQL at {admin}");
            return None;
        }
        let base = admin
            .rsplit_once('/')
            .map(|(b, _)| b.to_string())
            .unwrap_or(admin.clone());
        Some(PsqlDb {
            url: format!("{base}/{name}"),
            admin,
            name,
        })
    }
}

impl Drop for PsqlDb {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args([
                self.admin.as_str(),
                "-qc",
                &format!("drop database if exists {} with (force)", self.name),
            ])
            .output();
    }
}
