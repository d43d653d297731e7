-- Key vault: encrypted credentials and their versions (paydesk-vault envelope scheme v1).
-- The master key is never stored; vault_meta holds only how to derive it (KDF parameters
-- and salt, or "key file") and a key check value. Secret payloads are AES-256-GCM
-- ciphertexts under per-credential data keys, which are wrapped by the master key.
CREATE TABLE vault_meta (
    id BIGINT PRIMARY KEY,
    master_spec TEXT NOT NULL,
    key_check TEXT NOT NULL,
    generation BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    rotated_at BIGINT
);

CREATE TABLE vault_credentials (
    id {{ID_PK}},
    uid TEXT NOT NULL UNIQUE,
    account TEXT NOT NULL,
    purpose TEXT NOT NULL,
    wrapped_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    UNIQUE (account, purpose)
);

CREATE TABLE vault_versions (
    id {{ID_PK}},
    credential_id BIGINT NOT NULL REFERENCES vault_credentials(id),
    version BIGINT NOT NULL,
    state TEXT NOT NULL,
    info TEXT NOT NULL,
    ciphertext TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    activated_at BIGINT,
    retired_at BIGINT,
    usable_until BIGINT,
    tested_at BIGINT,
    test_outcome TEXT,
    UNIQUE (credential_id, version)
);

CREATE INDEX vault_versions_state ON vault_versions (credential_id, state)
