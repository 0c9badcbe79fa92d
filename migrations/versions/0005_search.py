"""search: case_search, each case's inbound text under a trigram index; queue indexes

The queue's search looks for substrings (every term in some inbound message of the case),
which a b-tree cannot help with. Each case's inbound ``messages.search_text``, one per line,
make its search document in ``case_search``: one trigram index look-up then finds the cases
with every term, without reading the messages table. Triggers on ``messages`` keep the
documents in step; the documents of the messages already there are built here.

Two indexes on cases let the queue count without reading the table: ix_cases_queue (status,
level, location, sensitivity... : the default "needs action" view and status/level filters)
and ix_cases_sensitive_created_at (a PSEA focal point's sensitive cases).

PostgreSQL: a table with a GIN index (pg_trgm's gin_trgm_ops; the extension is created when
missing — it is a trusted extension, so the database owner may create it). SQLite: an FTS5
table with the trigram tokenizer (SQLite 3.34 or later), the case id as its rowid.

The DDL is copied here, not imported, so that this revision keeps doing what it did when the
models change (casework/models.py carries the same statements, for ``create_all``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def _sqlite_refresh(case_id):
    """Rebuild the search document of one case (an SQL expression) from its messages."""
    return (
        "DELETE FROM case_search WHERE rowid = CASE; "
        "INSERT INTO case_search(rowid, search_text) "
        "SELECT case_id, group_concat(search_text, char(10)) FROM messages "
        "WHERE case_id = CASE AND direction = 'in' AND search_text IS NOT NULL "
        "GROUP BY case_id;"
    ).replace("CASE", case_id)


SQLITE_UPGRADE = (
    "CREATE VIRTUAL TABLE case_search USING fts5(search_text, tokenize='trigram')",
    "CREATE TRIGGER messages_case_search_insert AFTER INSERT ON messages "
    "WHEN new.case_id IS NOT NULL AND new.direction = 'in' AND new.search_text IS NOT NULL "
    f"BEGIN {_sqlite_refresh('new.case_id')} END",
    "CREATE TRIGGER messages_case_search_update "
    "AFTER UPDATE OF case_id, direction, search_text ON messages "
    "WHEN old.case_id IS NOT new.case_id OR old.direction IS NOT new.direction "
    "OR old.search_text IS NOT new.search_text "
    f"BEGIN {_sqlite_refresh('old.case_id')} {_sqlite_refresh('new.case_id')} END",
    "CREATE TRIGGER messages_case_search_delete AFTER DELETE ON messages "
    "WHEN old.case_id IS NOT NULL AND old.direction = 'in' AND old.search_text IS NOT NULL "
    f"BEGIN {_sqlite_refresh('old.case_id')} END",
    "INSERT INTO case_search(rowid, search_text) "
    "SELECT case_id, group_concat(search_text, char(10)) FROM messages "
    "WHERE case_id IS NOT NULL AND direction = 'in' AND search_text IS NOT NULL "
    "GROUP BY case_id",
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS messages_case_search_delete",
    "DROP TRIGGER IF EXISTS messages_case_search_update",
    "DROP TRIGGER IF EXISTS messages_case_search_insert",
    "DROP TABLE IF EXISTS case_search",
)
POSTGRESQL_UPGRADE = (
    "CREATE TABLE case_search (case_id integer PRIMARY KEY, search_text text NOT NULL)",
    "INSERT INTO case_search (case_id, search_text) "
    "SELECT case_id, string_agg(search_text, E'\\n' ORDER BY id) FROM messages "
    "WHERE case_id IS NOT NULL AND direction = 'in' AND search_text IS NOT NULL "
    "GROUP BY case_id",
    # The operator class is named in the schema pg_trgm lives in, which need not be on the path.
    "DO $$ DECLARE trgm_schema text; BEGIN "
    "CREATE EXTENSION IF NOT EXISTS pg_trgm; "
    "SELECT extnamespace::regnamespace::text INTO trgm_schema "
    "FROM pg_extension WHERE extname = 'pg_trgm'; "
    "EXECUTE format('CREATE INDEX ix_case_search_search_text_trgm ON case_search "
    "USING gin (search_text %s.gin_trgm_ops)', trgm_schema); END $$",
    # A new message is appended to its case's document; other changes rebuild it. Both hold
    # the document's row lock until commit, and a rebuild reads the messages only once it has
    # the lock, so concurrent transactions do not lose each other's text.
    "CREATE FUNCTION case_search_refresh(wanted integer) RETURNS void LANGUAGE plpgsql AS $$ "
    "DECLARE document text; BEGIN "
    "PERFORM 1 FROM case_search WHERE case_id = wanted FOR UPDATE; "
    "SELECT string_agg(search_text, E'\\n' ORDER BY id) INTO document FROM messages "
    "WHERE case_id = wanted AND direction = 'in' AND search_text IS NOT NULL; "
    "IF document IS NULL THEN DELETE FROM case_search WHERE case_id = wanted; "
    "ELSE INSERT INTO case_search (case_id, search_text) VALUES (wanted, document) "
    "ON CONFLICT (case_id) DO UPDATE SET search_text = EXCLUDED.search_text; "
    "END IF; END $$",
    "CREATE FUNCTION messages_case_search() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP = 'INSERT' THEN "
    "IF NEW.case_id IS NOT NULL AND NEW.direction = 'in' AND NEW.search_text IS NOT NULL THEN "
    "INSERT INTO case_search AS doc (case_id, search_text) "
    "VALUES (NEW.case_id, NEW.search_text) ON CONFLICT (case_id) DO UPDATE "
    "SET search_text = doc.search_text || E'\\n' || EXCLUDED.search_text; "
    "END IF; "
    "ELSE "
    "PERFORM case_search_refresh(OLD.case_id); "
    "IF TG_OP = 'UPDATE' AND NEW.case_id IS DISTINCT FROM OLD.case_id THEN "
    "PERFORM case_search_refresh(NEW.case_id); "
    "END IF; "
    "END IF; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER messages_case_search "
    "AFTER INSERT OR DELETE OR UPDATE OF case_id, direction, search_text ON messages "
    "FOR EACH ROW EXECUTE FUNCTION messages_case_search()",
)
# The extension stays: something else in the database may use it.
POSTGRESQL_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS messages_case_search ON messages",
    "DROP FUNCTION IF EXISTS messages_case_search()",
    "DROP FUNCTION IF EXISTS case_search_refresh(integer)",
    "DROP TABLE IF EXISTS case_search",
)


def _run(statements):
    for statement in statements:
        op.execute(statement)


def upgrade():
    # The queue's counts read these instead of the table.
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_queue', [
            'status', 'level', 'location', 'sensitive', 'merged_into_id', 'delivery_failed_at',
            'due_at', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_cases_sensitive_created_at', ['created_at', 'merged_into_id'],
                              unique=False, postgresql_where=sa.text('sensitive IS true'),
                              sqlite_where=sa.text('sensitive IS 1'))
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(SQLITE_UPGRADE)
    elif dialect == "postgresql":
        _run(POSTGRESQL_UPGRADE)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(SQLITE_DOWNGRADE)
    elif dialect == "postgresql":
        _run(POSTGRESQL_DOWNGRADE)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_sensitive_created_at')
        batch_op.drop_index('ix_cases_queue')
