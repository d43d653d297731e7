-- When each account's provider certificates were last downloaded (WeChat Pay platform
-- certificates): the scheduled refresh runs when the last success is older than
-- [vault] certificate_refresh_hours, and the key listing shows the last error.
CREATE TABLE vault_refresh (
    account TEXT PRIMARY KEY,
    last_attempt_at BIGINT NOT NULL,
    last_ok_at BIGINT,
    last_error TEXT
)
