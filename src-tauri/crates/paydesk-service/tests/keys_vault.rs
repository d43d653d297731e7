//! Key vault acceptance tests on real SQLite files and real PostgreSQL databases: no secret
//! at rest or in outputs, authentication of every ciphertext, clear wrong-passphrase errors,
//! crash-safe master rotation, grace periods of retired verification keys.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::sliced_string_as_bytes
)]

mod keys_common;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::{Duration, Utc};
use keys_common::*;
use paydesk_providers::keys::{public_key_base64, Certificate, PrivateKey};
use paydesk_service::vault::{self, ImportInput, MasterSource};
use paydesk_store::AuditFilter;
use paydesk_vault::Purpose;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::EncodePrivateKey;
use secrecy::SecretString;

const STRIPE_KEY: &str = "rk_live_51PaydeskTestSecretKEYzq8w3";
const WEBHOOK: &str = "whsec_PaydeskWebhookSecret9f8e7d6c5b";
const APIV3: &str = "Pd3kApiV3KeyForTests0123456789ab";

struct Secrets {
    alipay: PrivateKey,
    wechat: PrivateKey,
}

/// Byte strings that must never appear: the secrets, their base64, the private keys' DER
/// fragments and their base64 bodies.
fn needles(s: &Secrets) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = Vec::new();
    for text in [STRIPE_KEY, WEBHOOK, APIV3] {
        v.push((format!("secret {}", &text[..6]), text.as_bytes().to_vec()));
        v.push((
            format!("base64 of {}", &text[..6]),
            B64.encode(text).into_bytes(),
        ));
    }
    for (name, k) in [("alipay", &s.alipay), ("wechat", &s.wechat)] {
        let der8 = k.rsa().to_pkcs8_der().unwrap();
        let der1 = k.rsa().to_pkcs1_der().unwrap();
        // A slice from the private half (CRT values at the end) of both encodings.
        for (label, der) in [("pkcs8", der8.as_bytes()), ("pkcs1", der1.as_bytes())] {
            let tail = &der[der.len() - 120..der.len() - 80];
            v.push((format!("{name} {label} DER"), tail.to_vec()));
            let b64 = B64.encode(der);
            v.push((
                format!("{name} {label} base64"),
                b64[b64.len() - 160..b64.len() - 100].as_bytes().to_vec(),
            ));
        }
    }
    v
}

fn assert_absent(haystack: &[u8], needles: &[(String, Vec<u8>)], where_: &str) {
    for (name, n) in needles {
        assert!(
            !haystack.windows(n.len()).any(|w| w == n.as_slice()),
            "{name} found in {where_}"
        );
    }
}

async fn import_all(db: &paydesk_store::AppDb, s: &Secrets) {
    let v = vault::unlock(db, &admin(), &passphrase(PASSPHRASE))
        .await
        .unwrap();
    let a = admin();
    // Alipay app key as the one-line PKCS#1 base64 the key tool shows, with its public key.
    let one_line = B64.encode(s.alipay.rsa().to_pkcs1_der().unwrap().as_bytes());
    v.import(
        &a,
        "alipay-main",
        &ImportInput::AlipayAppKey {
            private_key: SecretString::from(one_line),
            public_key: Some(public_key_base64(&s.alipay.public_key()).unwrap()),
        },
    )
    .await
    .unwrap();
    let cert =
        Certificate::self_signed(&s.wechat, &[0x4a, 0x11, 0x22, 0x33], "1900000001").unwrap();
    v.import(
        &a,
        "wechat-main",
        &ImportInput::WechatMerchant {
            key: SecretString::from(s.wechat.to_pkcs8_pem().unwrap()),
            cert: cert.to_pem(),
            mchid: "1900000001".into(),
        },
    )
    .await
    .unwrap();
    v.import(
        &a,
        "wechat-main",
        &ImportInput::WechatApiv3Key {
            key: SecretString::from(APIV3),
        },
    )
    .await
    .unwrap();
    v.import(
        &a,
        "stripe-main",
        &ImportInput::StripeSecretKey {
            key: SecretString::from(STRIPE_KEY),
        },
    )
    .await
    .unwrap();
    v.import(
        &a,
        "stripe-main",
        &ImportInput::StripeWebhookSecret {
            secret: SecretString::from(WEBHOOK),
        },
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_bytes_in_database_listing_or_audit() {
    let s = Secrets {
        alipay: PrivateKey::generate().unwrap(),
        wechat: PrivateKey::generate().unwrap(),
    };
    let needles = needles(&s);
    for t in backends().await {
        let db = vault_db(&t).await;
        import_all(&db, &s).await;
        let v = vault::unlock(&db, &admin(), &passphrase(PASSPHRASE))
            .await
            .unwrap();
        let listing = v.list(&admin()).await.unwrap();
        assert_eq!(listing.len(), 5);
        let wechat = listing
            .iter()
            .find(|l| l.purpose == Purpose::WechatMerchantKey)
            .unwrap();
        assert_eq!(
            wechat.versions[0].info.serial.as_deref(),
            Some("4A112233"),
            "serial read from the certificate"
        );
        let stripe = listing
            .iter()
            .find(|l| l.purpose == Purpose::StripeSecretKey)
            .unwrap();
        assert_eq!(
            stripe.versions[0].info.hint.as_deref(),
            Some("rk_live_…q8w3")
        );
        let json = serde_json::to_vec(&listing).unwrap();
        assert_absent(&json, &needles, "the JSON listing");
        assert_absent(
            format!("{listing:?}").as_bytes(),
            &needles,
            "the Debug listing",
        );
        let audit = db
            .audit_entries(&AuditFilter::default(), 1000, 0)
            .await
            .unwrap();
        assert!(audit.iter().filter(|e| e.action == "key.import").count() >= 5);
        assert_absent(format!("{audit:?}").as_bytes(), &needles, "the audit log");
        assert_absent(
            dump_text(&db).await.as_bytes(),
            &needles,
            "the database text columns",
        );
        // Bad input is refused with a reason that does not echo the input.
        let e = v
            .import(
                &admin(),
                "stripe-main",
                &ImportInput::StripeSecretKey {
                    key: SecretString::from(format!("pk_live_{}", &STRIPE_KEY[8..])),
                },
            )
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("publishable"), "{e}");
        assert_absent(e.as_bytes(), &needles, "an import error");
        db.close().await;
        if let Some(path) = t.sqlite_path() {
            let mut bytes = std::fs::read(&path).unwrap();
            if let Ok(wal) = std::fs::read(path.with_extension("db-wal")) {
                bytes.extend(wal);
            }
            assert!(bytes.len() > 10_000);
            assert_absent(&bytes, &needles, "the SQLite file");
        }
        t.drop_db().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tampered_and_swapped_ciphertexts_fail_and_wrong_passphrase_is_clear() {
    let s = Secrets {
        alipay: PrivateKey::generate().unwrap(),
        wechat: PrivateKey::generate().unwrap(),
    };
    for t in backends().await {
        let db = vault_db(&t).await;
        import_all(&db, &s).await;

        // Wrong passphrase: a clear error, audited, no garbage.
        let e = vault::unlock(&db, &admin(), &passphrase("not-the-passphrase"))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("master key is wrong") && e.contains("PAYDESK_VAULT_PASSPHRASE"),
            "{e}"
        );
        let failed = db
            .audit_entries(
                &AuditFilter {
                    action: Some("key.unlock".into()),
                    ..Default::default()
                },
                10,
                0,
            )
            .await
            .unwrap();
        assert!(failed
            .iter()
            .any(|a| a.outcome == "failed" && a.actor == "keyadmin"));
        // A key file given for a passphrase vault is named as the problem.
        let e = vault::unlock(&db, &admin(), &MasterSource::KeyFile("/nonexistent".into()))
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("opened with a passphrase"), "{e}");

        let v = vault::unlock(&db, &admin(), &passphrase(PASSPHRASE))
            .await
            .unwrap();
        v.list(&admin()).await.expect("intact vault lists");

        // Swap the ciphertexts of the two Stripe credentials' versions (same account).
        let rows: Vec<(i64, String)> = sqlx::query_as::<_, (i64, String)>(
            "SELECT v.id, v.ciphertext FROM vault_versions v JOIN vault_credentials c ON c.id = v.credential_id \
             WHERE c.account = 'stripe-main' ORDER BY c.purpose",
        )
        .fetch_all(db.pool())
        .await
        .unwrap();
        assert_eq!(rows.len(), 2);
        for (id, ct) in [(rows[0].0, &rows[1].1), (rows[1].0, &rows[0].1)] {
            sqlx::query("UPDATE vault_versions SET ciphertext = $1 WHERE id = $2")
                .bind(ct)
                .bind(id)
                .execute(db.pool())
                .await
                .unwrap();
        }
        let e = v.list(&admin()).await.unwrap_err().to_string();
        assert!(e.contains("failed authentication"), "{e}");
        // Swap back: readable again.
        for (id, ct) in [(rows[0].0, &rows[0].1), (rows[1].0, &rows[1].1)] {
            sqlx::query("UPDATE vault_versions SET ciphertext = $1 WHERE id = $2")
                .bind(ct)
                .bind(id)
                .execute(db.pool())
                .await
                .unwrap();
        }
        v.list(&admin()).await.unwrap();

        // Flip one byte of a ciphertext.
        let mut raw = B64.decode(&rows[0].1[3..]).unwrap();
        raw[15] ^= 0x01;
        sqlx::query("UPDATE vault_versions SET ciphertext = $1 WHERE id = $2")
            .bind(format!("v1.{}", B64.encode(&raw)))
            .bind(rows[0].0)
            .execute(db.pool())
            .await
            .unwrap();
        assert!(v
            .list(&admin())
            .await
            .unwrap_err()
            .to_string()
            .contains("failed authentication"));
        sqlx::query("UPDATE vault_versions SET ciphertext = $1 WHERE id = $2")
            .bind(&rows[0].1)
            .bind(rows[0].0)
            .execute(db.pool())
            .await
            .unwrap();

        // Edit the displayed info (bound into the AAD).
        sqlx::query("UPDATE vault_versions SET info = REPLACE(info, '4A112233', '4A112234')")
            .execute(db.pool())
            .await
            .unwrap();
        assert!(v
            .list(&admin())
            .await
            .unwrap_err()
            .to_string()
            .contains("failed authentication"));
        sqlx::query("UPDATE vault_versions SET info = REPLACE(info, '4A112234', '4A112233')")
            .execute(db.pool())
            .await
            .unwrap();

        // Swap wrapped data keys between credentials.
        let wk: Vec<(i64, String)> = sqlx::query_as::<_, (i64, String)>(
            "SELECT id, wrapped_key FROM vault_credentials ORDER BY id",
        )
        .fetch_all(db.pool())
        .await
        .unwrap();
        sqlx::query("UPDATE vault_credentials SET wrapped_key = $1 WHERE id = $2")
            .bind(&wk[1].1)
            .bind(wk[0].0)
            .execute(db.pool())
            .await
            .unwrap();
        assert!(v
            .list(&admin())
            .await
            .unwrap_err()
            .to_string()
            .contains("failed authentication"));
        db.close().await;
        t.drop_db().await;
    }
}

async fn readable_with(db: &paydesk_store::AppDb, p: &str) -> bool {
    match vault::unlock(db, &admin(), &passphrase(p)).await {
        Ok(v) => {
            let l = v
                .list(&admin())
                .await
                .expect("an unlocked vault must read every secret");
            assert_eq!(l.len(), 5);
            true
        }
        Err(e) => {
            assert!(e.to_string().contains("master key is wrong"), "{e}");
            false
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn master_rotation_is_all_or_nothing() {
    let s = Secrets {
        alipay: PrivateKey::generate().unwrap(),
        wechat: PrivateKey::generate().unwrap(),
    };
    for t in backends().await {
        let mut db = vault_db(&t).await;
        import_all(&db, &s).await;
        const NEW: &str = "new-master-passphrase-77";

        // 1. A failing statement injected in the middle of the re-wrap (third credential).
        let third: i64 = sqlx::query_as::<_, (i64,)>(
            "SELECT id FROM vault_credentials ORDER BY id LIMIT 1 OFFSET 2",
        )
        .fetch_one(db.pool())
        .await
        .unwrap()
        .0;
        if t.is_pg() {
            sqlx::raw_sql(&format!(
                "CREATE FUNCTION vault_crash() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected crash'; END $$ LANGUAGE plpgsql; \
                 CREATE TRIGGER vault_crash BEFORE UPDATE ON vault_credentials FOR EACH ROW WHEN (NEW.id = {third}) EXECUTE FUNCTION vault_crash();"
            ))
            .execute(db.pool())
            .await
            .unwrap();
        } else {
            sqlx::raw_sql(&format!(
                "CREATE TRIGGER vault_crash BEFORE UPDATE ON vault_credentials WHEN NEW.id = {third} BEGIN SELECT RAISE(ABORT, 'injected crash'); END;"
            ))
            .execute(db.pool())
            .await
            .unwrap();
        }
        let mut v = vault::unlock(&db, &admin(), &passphrase(PASSPHRASE))
            .await
            .unwrap();
        let e = v
            .rotate_master(&admin(), &passphrase(NEW), kdf())
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("injected crash"), "{e}");
        assert!(
            readable_with(&db, PASSPHRASE).await,
            "old master key still opens the vault"
        );
        assert!(
            !readable_with(&db, NEW).await,
            "new master key was not committed"
        );
        sqlx::raw_sql("DROP TRIGGER vault_crash")
            .execute(db.pool())
            .await
            .ok();
        if t.is_pg() {
            sqlx::raw_sql("DROP TRIGGER IF EXISTS vault_crash ON vault_credentials; DROP FUNCTION vault_crash()").execute(db.pool()).await.unwrap();
        }

        // 2. Aborts at arbitrary points (the future dropped mid-way): old OR new, never neither.
        let mut current = PASSPHRASE.to_string();
        for (i, micros) in [50u64, 300, 1_000, 3_000, 10_000, 30_000]
            .into_iter()
            .enumerate()
        {
            let next = format!("rotated-passphrase-{i}");
            let mut v = vault::unlock(&db, &admin(), &passphrase(&current))
                .await
                .unwrap();
            let _ = tokio::time::timeout(
                std::time::Duration::from_micros(micros),
                v.rotate_master(&admin(), &passphrase(&next), kdf()),
            )
            .await;
            // The process "dies": its connections close, the database rolls back whatever
            // was not committed. A new process opens the database again.
            drop(v);
            db.close().await;
            db = paydesk_store::AppDb::open(t.url()).await.unwrap();
            let old_ok = readable_with(&db, &current).await;
            let new_ok = readable_with(&db, &next).await;
            assert!(old_ok ^ new_ok, "abort after {micros} µs: exactly one of old/new must open (old {old_ok}, new {new_ok})");
            if new_ok {
                current = next;
            }
        }

        // 3. A completed rotation: the new key opens, the old does not.
        let mut v = vault::unlock(&db, &admin(), &passphrase(&current))
            .await
            .unwrap();
        v.rotate_master(&admin(), &passphrase(NEW), kdf())
            .await
            .unwrap();
        assert!(readable_with(&db, NEW).await);
        assert!(!readable_with(&db, &current).await);
        let rotations = db
            .audit_entries(
                &AuditFilter {
                    action: Some("vault.rotate_master".into()),
                    ..Default::default()
                },
                100,
                0,
            )
            .await
            .unwrap();
        assert!(
            rotations.iter().any(|r| r.outcome == "ok")
                && rotations.iter().any(|r| r.outcome == "failed")
        );

        // 4. Passphrase → key file.
        let dir = tempfile::tempdir().unwrap();
        let kf = dir.path().join("vault.key");
        std::fs::write(
            &kf,
            paydesk_vault::MasterKey::generate_key_file().as_bytes(),
        )
        .unwrap();
        // A master key file must be readable by its owner only.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&kf, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let mut v = vault::unlock(&db, &admin(), &passphrase(NEW))
            .await
            .unwrap();
        v.rotate_master(&admin(), &MasterSource::KeyFile(kf.clone()), None)
            .await
            .unwrap();
        let v = vault::unlock(&db, &admin(), &MasterSource::KeyFile(kf))
            .await
            .unwrap();
        assert_eq!(v.list(&admin()).await.unwrap().len(), 5);
        let e = vault::unlock(&db, &admin(), &passphrase(NEW))
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("key file"), "{e}");
        db.close().await;
        t.drop_db().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn previous_verification_key_works_inside_grace_and_not_after() {
    for t in backends().await {
        let db = vault_db(&t).await;
        let v = vault::unlock(&db, &admin(), &passphrase(PASSPHRASE))
            .await
            .unwrap();
        let a = admin();
        let old = PrivateKey::generate().unwrap();
        let new = PrivateKey::generate().unwrap();
        let v1 = v
            .import(
                &a,
                "alipay-main",
                &ImportInput::AlipayPublicKey {
                    text: public_key_base64(&old.public_key()).unwrap(),
                },
            )
            .await
            .unwrap();
        assert_eq!(v1.state, paydesk_vault::VersionState::Active);
        let v2 = v
            .import(
                &a,
                "alipay-main",
                &ImportInput::AlipayPublicKey {
                    text: paydesk_providers::keys::public_key_pem(&new.public_key()).unwrap(),
                },
            )
            .await
            .unwrap();
        assert_eq!(v2.state, paydesk_vault::VersionState::Pending);
        let msg = b"{\"code\":\"10000\",\"msg\":\"Success\"}";
        let sig_old = old.sign_sha256_b64(msg).unwrap();
        let sig_new = new.sign_sha256_b64(msg).unwrap();
        let now = Utc::now();
        // Before activation only the old key verifies.
        assert!(v
            .verify_signature("alipay-main", Purpose::AlipayPublicKey, msg, &sig_old, now)
            .await
            .unwrap());
        assert!(!v
            .verify_signature("alipay-main", Purpose::AlipayPublicKey, msg, &sig_new, now)
            .await
            .unwrap());

        let grace = Duration::hours(48);
        v.activate(
            &a,
            "alipay-main",
            Purpose::AlipayPublicKey,
            v2.version,
            grace,
        )
        .await
        .unwrap();
        let now = Utc::now();
        assert!(v
            .verify_signature("alipay-main", Purpose::AlipayPublicKey, msg, &sig_new, now)
            .await
            .unwrap());
        assert!(
            v.verify_signature("alipay-main", Purpose::AlipayPublicKey, msg, &sig_old, now)
                .await
                .unwrap(),
            "old key inside the grace period"
        );
        assert!(v
            .verify_signature(
                "alipay-main",
                Purpose::AlipayPublicKey,
                msg,
                &sig_old,
                now + grace - Duration::minutes(1)
            )
            .await
            .unwrap());
        let after = now + grace + Duration::minutes(1);
        assert!(
            !v.verify_signature(
                "alipay-main",
                Purpose::AlipayPublicKey,
                msg,
                &sig_old,
                after
            )
            .await
            .unwrap(),
            "old key after the grace period"
        );
        assert!(v
            .verify_signature(
                "alipay-main",
                Purpose::AlipayPublicKey,
                msg,
                &sig_new,
                after
            )
            .await
            .unwrap());

        // Exactly one active; the old is retired with its grace end; retired cannot come back.
        let l = v.list(&a).await.unwrap();
        let vs = &l[0].versions;
        assert_eq!(
            vs.iter()
                .filter(|x| x.state == paydesk_vault::VersionState::Active)
                .count(),
            1
        );
        assert_eq!(vs[0].state, paydesk_vault::VersionState::Retired);
        assert!(vs[0].usable && vs[0].usable_until.is_some());
        let e = v
            .activate(
                &a,
                "alipay-main",
                Purpose::AlipayPublicKey,
                v1.version,
                grace,
            )
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("only a pending version"), "{e}");

        // Retiring with zero grace ends verification at once.
        v.retire(
            &a,
            "alipay-main",
            Purpose::AlipayPublicKey,
            v2.version,
            Duration::zero(),
        )
        .await
        .unwrap();
        assert!(!v
            .verify_signature(
                "alipay-main",
                Purpose::AlipayPublicKey,
                msg,
                &sig_new,
                Utc::now()
            )
            .await
            .unwrap());

        // Permissions: a finance user cannot manage keys, and the refusal is audited.
        let finance = paydesk_core::Actor::new("fin", [paydesk_core::Role::Finance]);
        assert!(v
            .generate(&finance, "alipay-main", Purpose::AlipayAppKey, 2048)
            .await
            .is_err());
        let denied = db
            .audit_entries(
                &AuditFilter {
                    actor: Some("fin".into()),
                    ..Default::default()
                },
                10,
                0,
            )
            .await
            .unwrap();
        assert!(denied.iter().any(|e| e.outcome == "denied"));
        db.close().await;
        t.drop_db().await;
    }
}

/// Swapping two credentials' account labels in the database (so that one account's Stripe
/// key would be used for the other) is tampering: each data key is bound to its account.
#[tokio::test(flavor = "multi_thread")]
async fn swapped_account_labels_are_detected_as_tampering() {
    const EU_KEY: &str = "rk_live_51PaydeskEuropeKEYab12cd34ef";
    let main = account("stripe-main");
    let mut eu = account("stripe-main");
    eu.name = "stripe-eu".into();
    for t in backends().await {
        let db = vault_db(&t).await;
        let v = vault::unlock(&db, &admin(), &passphrase(PASSPHRASE))
            .await
            .unwrap();
        for (acct, key) in [(&main, STRIPE_KEY), (&eu, EU_KEY)] {
            v.import(
                &admin(),
                &acct.name,
                &ImportInput::StripeSecretKey {
                    key: SecretString::from(key),
                },
            )
            .await
            .unwrap();
        }
        // Before: each account gets its own key.
        for (acct, key) in [(&main, STRIPE_KEY), (&eu, EU_KEY)] {
            let cfg = v.stripe_config(acct, "http://127.0.0.1:9", None).await;
            assert_eq!(
                cfg.map(|c| secrecy::ExposeSecret::expose_secret(&c.secret_key).to_string())
                    .ok()
                    .as_deref(),
                Some(key)
            );
        }
        // Swap the labels (through a third name: (account, purpose) is unique).
        for (from, to) in [
            ("stripe-main", "swap-tmp"),
            ("stripe-eu", "stripe-main"),
            ("swap-tmp", "stripe-eu"),
        ] {
            sqlx::query("UPDATE vault_credentials SET account = $1 WHERE account = $2")
                .bind(to)
                .bind(from)
                .execute(db.pool())
                .await
                .unwrap();
        }
        for acct in [&main, &eu] {
            let e = v
                .stripe_config(acct, "http://127.0.0.1:9", None)
                .await
                .err()
                .map(|e| e.to_string())
                .unwrap_or_else(|| panic!("{} used the other account's key", acct.name));
            assert!(
                e.starts_with(&format!(
                    "the data key of stripe_secret_key of account {} (credential ",
                    acct.name
                )) && e.contains("failed authentication"),
                "{e}"
            );
            assert!(!e.contains("rk_live"), "{e}");
        }
        let e = v.list(&admin()).await.unwrap_err().to_string();
        assert!(e.contains("failed authentication"), "{e}");
        // A fresh unlock (which re-wraps old-format keys) does not launder the swap.
        let v = vault::unlock(&db, &admin(), &passphrase(PASSPHRASE))
            .await
            .unwrap();
        assert!(v
            .stripe_config(&main, "http://127.0.0.1:9", None)
            .await
            .is_err());
        db.close().await;
        t.drop_db().await;
    }
}

/// Re-encrypts a v2-wrapped data key as format v1 wrapped it (AAD: the credential uid
/// only), as a vault written before v2 holds it.
fn as_v1_wrap(
    master: &[u8; 32],
    wrapped_v2: &str,
    uid: &str,
    account: &str,
    purpose: &str,
) -> String {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    use aes_gcm::{Aes256Gcm, Nonce};
    let cipher = Aes256Gcm::new(master.into());
    let raw = B64
        .decode(wrapped_v2.strip_prefix("v2.").expect("v2"))
        .unwrap();
    let (nonce, ct) = raw.split_at(12);
    let aad = format!(
        "paydesk-vault/v2/data-key|{}",
        serde_json::to_string(&[uid, account, purpose]).unwrap()
    );
    let dk = cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ct,
                aad: aad.as_bytes(),
            },
        )
        .expect("v2 wrap opens with its binding");
    let v1_aad = format!("paydesk-vault/v1/data-key|{uid}");
    let ct = cipher
        .encrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: &dk,
                aad: v1_aad.as_bytes(),
            },
        )
        .unwrap();
    let mut out = nonce.to_vec();
    out.extend(ct);
    format!("v1.{}", B64.encode(out))
}

/// A vault written before format v2 (data keys bound to the uid only) still opens; unlocking
/// re-wraps its data keys as v2, after which relabelling is detected.
#[tokio::test(flavor = "multi_thread")]
async fn old_format_data_keys_open_and_are_rewrapped_at_unlock() {
    const EU_KEY: &str = "rk_live_51PaydeskEuropeKEYab12cd34ef";
    let master = [0x11u8; 32];
    let main = account("stripe-main");
    let mut eu = account("stripe-main");
    eu.name = "stripe-eu".into();
    for t in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("master.key");
        std::fs::write(&key_file, hex::encode(master)).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let source = MasterSource::KeyFile(key_file);
        let db = paydesk_store::AppDb::open(t.url()).await.unwrap();
        vault::init(&db, &admin(), &source, None).await.unwrap();
        let v = vault::unlock(&db, &admin(), &source).await.unwrap();
        for (acct, key) in [(&main, STRIPE_KEY), (&eu, EU_KEY)] {
            v.import(
                &admin(),
                &acct.name,
                &ImportInput::StripeSecretKey {
                    key: SecretString::from(key),
                },
            )
            .await
            .unwrap();
        }
        // Turn the vault into what an older Paydesk wrote.
        let rows: Vec<(i64, String, String, String, String)> =
            sqlx::query_as("SELECT id, uid, account, purpose, wrapped_key FROM vault_credentials")
                .fetch_all(db.pool())
                .await
                .unwrap();
        for (id, uid, acct, purpose, wrapped) in &rows {
            assert!(wrapped.starts_with("v2."), "new writes are v2");
            sqlx::query("UPDATE vault_credentials SET wrapped_key = $1 WHERE id = $2")
                .bind(as_v1_wrap(&master, wrapped, uid, acct, purpose))
                .bind(id)
                .execute(db.pool())
                .await
                .unwrap();
        }
        // The old format opens (an already unlocked vault reads it as it is)...
        for (acct, key) in [(&main, STRIPE_KEY), (&eu, EU_KEY)] {
            let cfg = v
                .stripe_config(acct, "http://127.0.0.1:9", None)
                .await
                .unwrap();
            assert_eq!(secrecy::ExposeSecret::expose_secret(&cfg.secret_key), key);
        }
        // ... and the next unlock re-wraps every data key as v2 (audited).
        let v = vault::unlock(&db, &admin(), &source).await.unwrap();
        let wrapped: Vec<(String,)> = sqlx::query_as("SELECT wrapped_key FROM vault_credentials")
            .fetch_all(db.pool())
            .await
            .unwrap();
        assert!(
            wrapped.iter().all(|(w,)| w.starts_with("v2.")),
            "{wrapped:?}"
        );
        let rewraps = db
            .audit_entries(
                &AuditFilter {
                    action: Some("key.rewrap".into()),
                    ..Default::default()
                },
                10,
                0,
            )
            .await
            .unwrap();
        assert_eq!(rewraps.len(), 1);
        assert!(
            rewraps[0].details.contains("\"data_keys\":2"),
            "{}",
            rewraps[0].details
        );
        for (acct, key) in [(&main, STRIPE_KEY), (&eu, EU_KEY)] {
            let cfg = v
                .stripe_config(acct, "http://127.0.0.1:9", None)
                .await
                .unwrap();
            assert_eq!(secrecy::ExposeSecret::expose_secret(&cfg.secret_key), key);
        }
        // Now bound to their accounts: a relabelling is tampering.
        for (from, to) in [
            ("stripe-main", "swap-tmp"),
            ("stripe-eu", "stripe-main"),
            ("swap-tmp", "stripe-eu"),
        ] {
            sqlx::query("UPDATE vault_credentials SET account = $1 WHERE account = $2")
                .bind(to)
                .bind(from)
                .execute(db.pool())
                .await
                .unwrap();
        }
        let e = v
            .stripe_config(&eu, "http://127.0.0.1:9", None)
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("failed authentication"), "{e}");
        db.close().await;
        t.drop_db().await;
    }
}
