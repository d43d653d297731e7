-- PostgreSQL part of 0009 (see 0009_bulk_save.sql).
--
-- A run saves a million statement lines and as many outcomes. Their foreign keys checked
-- each row with a lookup of its parent (one trigger call per row): most of the save's time.
-- The same guarantee is kept with one check per statement: the rows a statement inserted
-- or changed (transition table) must all have their parent, and a parent that still has
-- rows can be neither deleted nor renumbered.

ALTER TABLE statement_lines DROP CONSTRAINT statement_lines_statement_id_fkey;
ALTER TABLE run_outcomes DROP CONSTRAINT run_outcomes_run_id_fkey;

-- Child side: TG_ARGV = child column, parent table (whose key is id). Like a foreign key it
-- locks the parents it found (FOR KEY SHARE) against a concurrent delete.
CREATE FUNCTION paydesk_rows_have_parent() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    orphan BIGINT; -- EXECUTE does not set FOUND: NULL when every row has its parent
BEGIN
    EXECUTE format(
        'SELECT k FROM (SELECT DISTINCT %I AS k FROM new_rows) n '
        'WHERE NOT EXISTS (SELECT 1 FROM %I p WHERE p.id = n.k FOR KEY SHARE) LIMIT 1',
        TG_ARGV[0], TG_ARGV[1]) INTO orphan;
    IF orphan IS NOT NULL THEN
        RAISE EXCEPTION 'insert or update on table "%" violates its reference to "%"',
            TG_TABLE_NAME, TG_ARGV[1]
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Key (%s)=(%s) is not present in table "%s".',
                                  TG_ARGV[0], orphan, TG_ARGV[1]);
    END IF;
    RETURN NULL;
END
$$;

-- Parent side: TG_ARGV = child table, child column.
CREATE FUNCTION paydesk_parent_keeps_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    used BOOLEAN;
BEGIN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I = $1)', TG_ARGV[0], TG_ARGV[1])
        INTO used USING OLD.id;
    IF used THEN
        RAISE EXCEPTION 'update or delete on table "%" violates a reference from "%"',
            TG_TABLE_NAME, TG_ARGV[0]
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Key (id)=(%s) is still referenced from table "%s".',
                                  OLD.id, TG_ARGV[0]);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER statement_lines_parent_insert AFTER INSERT ON statement_lines
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION paydesk_rows_have_parent('statement_id', 'statements');

CREATE TRIGGER statement_lines_parent_update AFTER UPDATE ON statement_lines
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION paydesk_rows_have_parent('statement_id', 'statements');

CREATE TRIGGER statements_keep_lines AFTER DELETE OR UPDATE OF id ON statements
FOR EACH ROW EXECUTE FUNCTION paydesk_parent_keeps_rows('statement_lines', 'statement_id');

CREATE TRIGGER run_outcomes_parent_insert AFTER INSERT ON run_outcomes
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION paydesk_rows_have_parent('run_id', 'runs');

CREATE TRIGGER run_outcomes_parent_update AFTER UPDATE ON run_outcomes
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION paydesk_rows_have_parent('run_id', 'runs');

CREATE TRIGGER runs_keep_outcomes AFTER DELETE OR UPDATE OF id ON runs
FOR EACH ROW EXECUTE FUNCTION paydesk_parent_keeps_rows('run_outcomes', 'run_id');
