-- Key vault (owned by the vault work; placeholder until it lands).
CREATE TABLE vault_placeholder (id {{ID_PK}})
