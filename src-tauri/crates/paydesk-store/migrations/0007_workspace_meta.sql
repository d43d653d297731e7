-- Facts about the workspace this database belongs to, one row each. ('kind', 'demo') marks a
-- workspace the demo created on a new folder (`paydesk demo`, `paydesk init --demo`, the
-- desktop app's first start): the demo runs only on a new folder or on a workspace so marked,
-- never on a real one. A database without the row is not a demo workspace.
CREATE TABLE workspace_meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    set_at BIGINT NOT NULL
)
