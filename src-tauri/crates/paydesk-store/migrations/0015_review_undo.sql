-- Undo of a reviewer's change (issue 17): for a short while after a change, what each row it
-- changed looked like before and after, so that the change can be taken back row by row,
-- only where nobody has changed the row since. Old entries are deleted as new ones come.
CREATE TABLE review_edits (
    id {{ID_PK}},
    actor TEXT NOT NULL,
    at BIGINT NOT NULL,
    -- The newest history entry once the change was written: a later entry on a review field
    -- of one of its rows means that row was changed since.
    history_mark BIGINT NOT NULL,
    undone_at BIGINT NULL,
    undone_by TEXT NULL
);

CREATE INDEX review_edits_at ON review_edits (at);

CREATE TABLE review_edit_rows (
    edit_id BIGINT NOT NULL REFERENCES review_edits (id) ON DELETE CASCADE,
    discrepancy_id BIGINT NOT NULL,
    old_state TEXT NOT NULL,
    old_resolution TEXT NULL,
    old_note TEXT NULL,
    old_assignee TEXT NULL,
    old_auto_closed TEXT NULL,
    new_state TEXT NOT NULL,
    new_resolution TEXT NULL,
    new_note TEXT NULL,
    new_assignee TEXT NULL,
    new_auto_closed TEXT NULL,
    PRIMARY KEY (edit_id, discrepancy_id)
){{WITHOUT_ROWID}};
