"""The partition manager's definition as a SQL function; the upgrade creates the periods ahead.

``portal_create_partition(parent, period, day)`` creates the partition of ``parent`` for the
month or year holding ``day`` (named ``<parent>_YYYY_MM`` / ``<parent>_YYYY``), unless it exists.
When the DEFAULT partition already holds rows of that period, it first takes them out together with
every row that references them (found through the foreign keys in the catalog, transitively: order
items, refs, refunds, commission records, fees, deliveries, points rows, ...), creates the
partition and puts them all back, as pg_partman's ``partition_data_proc`` does through a temporary
table. It runs inside the caller's transaction, so a move is all or nothing.

The partition manager (``portal/operations/partitions.py``) calls it; this upgrade calls it too,
so ``flask db upgrade`` alone leaves the current period and the ones ahead in place (like
pg_partman's ``create_parent``). The table list below is this revision's snapshot of the
manager's.

Revision ID: cae532a1000a
Revises: c8c3108f0008
Create Date: 2026-12-02 05:40:00

"""
from alembic import op
from flask import current_app

# revision identifiers, used by Alembic.
revision = 'cae532a1000a'
down_revision = 'c8c3108f0008'
branch_labels = None
depends_on = None

# Same key as portal/operations/partitions.py: serialises the deploy command and the job.
ADVISORY_LOCK_KEY = 7_261_120_001

CREATE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION portal_create_partition(parent regclass, period text, day date)
RETURNS TABLE (partition_name text, moved_rows bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
    start_day date;
    end_day date;
    child text;
    default_part text;
    tables oid[] := ARRAY[parent::oid];  -- the parent, then every table referencing moved rows
    ordered oid[] := ARRAY[]::oid[];     -- the same, each after every table it references
    staging text[] := ARRAY[]::text[];   -- staging[i]: temporary copy of ordered[i]'s rows
    columns text[] := ARRAY[]::text[];
    keys text[] := ARRAY[]::text[];
    table_oid oid;
    predicate text;
    edge record;
    i int;
    moved bigint := 0;
BEGIN
    IF period NOT IN ('month', 'year') THEN
        RAISE EXCEPTION 'period must be month or year, not %', period;
    END IF;
    start_day := date_trunc(period, day)::date;
    end_day := (start_day + ('1 ' || period)::interval)::date;
    child := (SELECT relname FROM pg_class WHERE oid = parent)
        || to_char(start_day, CASE period WHEN 'month' THEN '"_"YYYY"_"MM' ELSE '"_"YYYY' END);
    default_part := (
        SELECT c.relname FROM pg_inherits JOIN pg_class c ON c.oid = inhrelid
        WHERE inhparent = parent AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'
    );

    PERFORM pg_advisory_xact_lock({ADVISORY_LOCK_KEY});
    IF EXISTS (
        SELECT 1 FROM pg_inherits JOIN pg_class c ON c.oid = inhrelid
        WHERE inhparent = parent AND c.relname = child
    ) THEN
        RETURN;
    END IF;

    IF default_part IS NOT NULL THEN
        -- Locked until the commit: intake, which locks an order before it adds a refund to it,
        -- waits instead of writing a row that references an order being moved.
        EXECUTE format(
            'SELECT count(*) FROM (SELECT 1 FROM ONLY %I '
            'WHERE created_at >= $1 AND created_at < $2 FOR UPDATE) AS locked',
            default_part
        ) INTO moved USING start_day, end_day;
    END IF;

    IF moved > 0 THEN
        -- Every table that references a table already listed, transitively.
        i := 1;
        WHILE i <= cardinality(tables) LOOP
            FOR edge IN
                SELECT DISTINCT conrelid FROM pg_constraint
                WHERE contype = 'f' AND conparentid = 0 AND confrelid = tables[i]
                  AND conrelid <> ALL (tables)
            LOOP
                tables := tables || edge.conrelid;
            END LOOP;
            i := i + 1;
        END LOOP;
        -- Topological order: a table comes after every listed table it references.
        WHILE cardinality(ordered) < cardinality(tables) LOOP
            SELECT t INTO table_oid FROM unnest(tables) t
            WHERE t <> ALL (ordered) AND NOT EXISTS (
                SELECT 1 FROM pg_constraint
                WHERE contype = 'f' AND conparentid = 0 AND conrelid = t AND confrelid <> t
                  AND confrelid = ANY (tables) AND confrelid <> ALL (ordered)
            )
            LIMIT 1;
            IF table_oid IS NULL THEN
                RAISE EXCEPTION 'foreign keys between % form a cycle', tables;
            END IF;
            ordered := ordered || table_oid;
        END LOOP;

        FOR i IN 1 .. cardinality(ordered) LOOP
            table_oid := ordered[i];
            staging := staging || format('portal_partition_move_%s', i);
            columns := columns || (
                SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
                WHERE attrelid = table_oid AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
            );
            keys := keys || (
                SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord)
                FROM pg_index x
                CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord)
                JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
                WHERE x.indrelid = table_oid AND x.indisprimary
            );
            IF keys[i] IS NULL THEN
                RAISE EXCEPTION 'cannot move rows of %: it has no primary key', table_oid::regclass;
            END IF;
            IF i = 1 THEN
                EXECUTE format(
                    'CREATE TEMPORARY TABLE %I ON COMMIT DROP AS SELECT %s FROM ONLY %I '
                    'WHERE created_at >= $1 AND created_at < $2',
                    staging[i], columns[i], default_part
                ) USING start_day, end_day;
            ELSE
                -- The rows of this table that reference any staged row, through any foreign key.
                SELECT string_agg(format(
                    'EXISTS (SELECT 1 FROM %I p WHERE (%s) = (%s))',
                    staging[array_position(ordered, c.confrelid)],
                    (SELECT string_agg('r.' || quote_ident(a.attname), ', ' ORDER BY k.ord)
                     FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord)
                     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum),
                    (SELECT string_agg('p.' || quote_ident(a.attname), ', ' ORDER BY k.ord)
                     FROM unnest(c.confkey) WITH ORDINALITY k(attnum, ord)
                     JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum)
                ), ' OR ')
                INTO predicate
                FROM pg_constraint c
                WHERE c.contype = 'f' AND c.conparentid = 0 AND c.conrelid = table_oid
                  AND c.confrelid = ANY (ordered[1:i - 1]);
                EXECUTE format(
                    'CREATE TEMPORARY TABLE %I ON COMMIT DROP AS SELECT %s FROM %s r WHERE %s',
                    staging[i],
                    (SELECT string_agg('r.' || col, ', ')
                     FROM unnest(string_to_array(columns[i], ', ')) col),
                    table_oid::regclass, predicate
                );
            END IF;
            EXECUTE format('ANALYZE %I', staging[i]);
        END LOOP;

        -- Out of the tables, referencing rows first. Through the parent tables, never a
        -- partition, so their statement triggers (vendor_commission_totals) see every row.
        FOR i IN REVERSE cardinality(ordered) .. 1 LOOP
            EXECUTE format(
                'DELETE FROM %s t WHERE (%s) IN (SELECT %s FROM %I)',
                ordered[i]::regclass,
                (SELECT string_agg('t.' || col, ', ')
                 FROM unnest(string_to_array(keys[i], ', ')) col),
                keys[i], staging[i]
            );
        END LOOP;
    END IF;

    EXECUTE format(
        'CREATE TABLE %I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
        child, parent, start_day, end_day
    );

    IF moved > 0 THEN
        -- ... and back in, referenced rows first; the period's rows now land in the new partition.
        FOR i IN 1 .. cardinality(ordered) LOOP
            EXECUTE format(
                'INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %I',
                ordered[i]::regclass, columns[i], columns[i], staging[i]
            );
            EXECUTE format('DROP TABLE %I', staging[i]);
        END LOOP;
    END IF;

    partition_name := child;
    moved_rows := moved;
    RETURN NEXT;
END
$fn$
"""

# (table, period, config setting saying how many periods ahead, its default in portal/config.py)
PARTITIONED_TABLES = (
    ('orders', 'month', 'PARTITION_MONTHS_AHEAD', 3),
    ('commission_records', 'month', 'PARTITION_MONTHS_AHEAD', 3),
    ('points_transactions', 'year', 'PARTITION_YEARS_AHEAD', 1),
)


def upgrade():
    op.execute(CREATE_FUNCTION)
    for table, period, setting, default in PARTITIONED_TABLES:
        ahead = int(current_app.config.get(setting, default))
        op.execute(
            f"SELECT count(*) FROM generate_series(0, {ahead}) AS n, "
            f"LATERAL portal_create_partition('{table}', '{period}', "
            f"(date_trunc('{period}', now() AT TIME ZONE 'UTC') + n * interval '1 {period}')::date)"
        )


def downgrade():
    # The partitions stay: the previous revision's partition manager creates the same ones.
    op.execute('DROP FUNCTION portal_create_partition(regclass, text, date)')
