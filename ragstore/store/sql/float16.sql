-- Online float16: a vector column converted to halfvec (and back) while searches go on. Table, column, index
-- and function names are composed with psycopg.sql.Identifier into the {placeholders}; values are parameters.

-- float16_find_table --
-- A plain or partitioned table by name: in the given schema, or the first one the search path sees.
SELECT c.oid::bigint AS oid, n.nspname AS schema, c.relname AS name, c.relkind = 'p' AS partitioned
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname = %(table)s AND c.relkind IN ('r', 'p')
  AND CASE WHEN %(schema)s::text IS NULL THEN pg_table_is_visible(c.oid) ELSE n.nspname = %(schema)s END

-- float16_find_column --
SELECT a.attnum, t.typname AS type, tn.nspname AS type_schema, format_type(a.atttypid, a.atttypmod) AS type_text,
       a.atttypmod AS dimensions, a.attnotnull AS not_null
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_namespace tn ON tn.oid = t.typnamespace
WHERE a.attrelid = %(table)s::oid AND a.attname = %(column)s AND a.attnum > 0 AND NOT a.attisdropped

-- float16_primary_key --
SELECT a.attname AS name
FROM pg_index i
CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position)
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = %(table)s::oid AND i.indisprimary
ORDER BY k.position

-- float16_column_dependents --
-- Views, rules, policies and SQL-standard function bodies that use the column: they follow a column through a
-- rename, so a swap would leave them reading the other one.
SELECT DISTINCT pg_describe_object(d.classid, d.objid, d.objsubid) AS name
FROM pg_depend d
WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = %(table)s::oid AND d.refobjsubid = %(attnum)s
  AND d.classid IN ('pg_rewrite'::regclass, 'pg_proc'::regclass, 'pg_policy'::regclass)
ORDER BY 1

-- float16_vector_indexes --
-- The table's own single-column hnsw and ivfflat indexes on the column (a partitioned table's parent indexes).
SELECT ic.oid::bigint AS oid, ic.relname AS name, am.amname AS method, oc.opcname AS opclass,
       ocn.nspname AS opclass_schema, coalesce(ic.reloptions, '{}') AS options, i.indisvalid AS valid,
       i.indpred IS NOT NULL AS partial
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_am am ON am.oid = ic.relam
JOIN pg_opclass oc ON oc.oid = i.indclass[0]
JOIN pg_namespace ocn ON ocn.oid = oc.opcnamespace
WHERE i.indrelid = %(table)s::oid AND i.indnatts = 1 AND i.indkey[0] = %(attnum)s
  AND am.amname IN ('hnsw', 'ivfflat')
ORDER BY ic.relname

-- float16_index_tree --
-- An index and, for a partitioned one, every index below it, parents first, each with the table it is on.
-- (pg_partition_tree gives nothing for an index that is not partitioned: then the index alone.)
WITH tree AS (
    SELECT relid, parentrelid, isleaf, level FROM pg_partition_tree(%(index)s::oid::regclass)
    UNION ALL
    SELECT %(index)s::oid::regclass, NULL, true, 0
    WHERE NOT EXISTS (SELECT FROM pg_partition_tree(%(index)s::oid::regclass))
)
SELECT t.level, t.isleaf AS leaf, ic.relname AS name, p.relname AS parent, tn.nspname AS table_schema,
       tc.relname AS table_name
FROM tree t
JOIN pg_class ic ON ic.oid = t.relid
LEFT JOIN pg_class p ON p.oid = t.parentrelid
JOIN pg_index x ON x.indexrelid = t.relid
JOIN pg_class tc ON tc.oid = x.indrelid
JOIN pg_namespace tn ON tn.oid = tc.relnamespace
ORDER BY t.level, ic.relname

-- float16_index_state --
-- Whether an index of that name exists in the schema, is valid, and which index it is attached to.
SELECT i.indisvalid AS valid, p.relname AS parent
FROM pg_class ic
JOIN pg_namespace n ON n.oid = ic.relnamespace
JOIN pg_index i ON i.indexrelid = ic.oid
LEFT JOIN pg_inherits h ON h.inhrelid = ic.oid
LEFT JOIN pg_class p ON p.oid = h.inhparent
WHERE n.nspname = %(schema)s AND ic.relname = %(name)s

-- float16_create_index --
CREATE INDEX CONCURRENTLY {index} ON {table} USING {method} ({column} {opclass}) {options}

-- float16_create_parent_index --
-- On a partitioned table CREATE INDEX CONCURRENTLY is refused: the parent gets an index of its own only (invalid
-- until every partition's index, each built concurrently, is attached to it).
CREATE INDEX IF NOT EXISTS {index} ON ONLY {table} USING {method} ({column} {opclass}) {options}

-- float16_attach_index --
ALTER INDEX {parent} ATTACH PARTITION {index}

-- float16_drop_index_concurrently --
DROP INDEX CONCURRENTLY IF EXISTS {index}

-- float16_drop_index --
DROP INDEX IF EXISTS {index}

-- float16_rename_index --
ALTER INDEX {index} RENAME TO {name}

-- float16_maintenance_work_mem --
-- For this session: the memory an index build may use (pgvector builds HNSW far faster while the graph fits).
SELECT set_config('maintenance_work_mem', %(value)s, false)

-- float16_lock_timeout --
SELECT set_config('lock_timeout', %(timeout)s, true)

-- float16_lock_table --
LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE

-- float16_try_lock --
-- One float16 operation at a time per table and column (held by the operation's own connection).
SELECT pg_try_advisory_lock(hashtext('ragstore.float16'), hashtext(%(key)s)) AS locked

-- float16_unlock --
SELECT pg_advisory_unlock(hashtext('ragstore.float16'), hashtext(%(key)s))

-- float16_add_column --
ALTER TABLE {table} ADD COLUMN {column} {type}

-- float16_drop_column --
ALTER TABLE {table} DROP COLUMN IF EXISTS {column}

-- float16_rename_column --
ALTER TABLE {table} RENAME COLUMN {column} TO {name}

-- float16_set_not_null --
ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL

-- float16_drop_not_null --
ALTER TABLE {table} ALTER COLUMN {column} DROP NOT NULL

-- float16_add_not_null_check --
-- Added NOT VALID (instant) and validated later without blocking writes; SET NOT NULL then trusts it, no scan.
ALTER TABLE {table} ADD CONSTRAINT {constraint} CHECK ({column} IS NOT NULL) NOT VALID

-- float16_validate_check --
ALTER TABLE {table} VALIDATE CONSTRAINT {constraint}

-- float16_drop_check --
ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {constraint}

-- float16_check_exists --
SELECT EXISTS (SELECT FROM pg_constraint WHERE conrelid = %(table)s::oid AND conname = %(name)s) AS found

-- float16_sync_body --
-- The copy column follows the other one on every write: a new row, a changed value, or a row not copied yet. An
-- update that leaves the value alone leaves the copy alone (after the swap, the copy is the exact float32 backup).
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.{target} := NEW.{source};
    ELSIF NEW.{target} IS NULL OR NEW.{source} IS DISTINCT FROM OLD.{source} THEN
        NEW.{target} := NEW.{source};
    END IF;
    RETURN NEW;
END

-- float16_create_sync_function --
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS {body}

-- float16_create_sync_trigger --
CREATE TRIGGER {trigger} BEFORE INSERT OR UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION {function}()

-- float16_drop_sync_trigger --
DROP TRIGGER IF EXISTS {trigger} ON {table}

-- float16_drop_sync_function --
DROP FUNCTION IF EXISTS {function}()

-- float16_comment_column --
COMMENT ON COLUMN {table}.{column} IS {comment}

-- float16_fill_batch --
-- One batch of the copy from source to target, in key order after the last batch (its own short transaction).
-- Rows copied already (by an earlier run, or by the trigger) are read but not written again.
WITH batch AS (
    SELECT {key} FROM {table} WHERE {after} ORDER BY {key} LIMIT %(batch_size)s
), filled AS (
    UPDATE {table} AS t SET {target} = t.{source}
    FROM batch b
    WHERE ({table_key}) = ({batch_key}) AND t.{target} IS NULL AND t.{source} IS NOT NULL
    RETURNING 1
)
SELECT (SELECT count(*) FROM filled) AS filled, (SELECT count(*) FROM batch) AS scanned, {last_key}
FROM batch
ORDER BY {key_descending}
LIMIT 1

-- float16_fill_counts --
SELECT count({source}) AS total, count({target}) FILTER (WHERE {source} IS NOT NULL) AS done FROM {table}

-- float16_sizes --
-- Bytes of the table (heap and TOAST of every partition) and of the given indexes (every partition's).
SELECT (SELECT coalesce(sum(pg_table_size(r)), 0)
        FROM (SELECT relid FROM pg_partition_tree(%(table)s::oid::regclass) UNION SELECT %(table)s::oid::regclass)
             AS tree(r))::bigint AS table_bytes,
       (SELECT coalesce(sum(pg_relation_size(r)), 0)
        FROM unnest(%(indexes)s::bigint[]) AS i(oid),
             LATERAL (SELECT relid FROM pg_partition_tree(i.oid::oid::regclass) UNION SELECT i.oid::oid::regclass)
             AS tree(r))::bigint AS index_bytes

-- float16_sample --
-- Stored vectors to search with: a fixed pseudo-random choice, the same before and after.
SELECT {column} AS embedding FROM {table} WHERE {column} IS NOT NULL ORDER BY md5(ROW({key})::text) LIMIT %(n)s

-- float16_tune_ivfflat --
SELECT set_config('ivfflat.probes', %(probes)s, true)

-- float16_exact --
-- For this transaction: no index scans, so the ordering below is an exact scan.
SELECT set_config('enable_indexscan', 'off', true), set_config('enable_bitmapscan', 'off', true),
       set_config('enable_indexonlyscan', 'off', true)

-- float16_nearest --
-- The k rows nearest to the query by {column} (through its index unless float16_exact was set), each with its
-- distance by {truth}, the float32 values.
SELECT {truth} {operator} %(query)s AS distance
FROM {table}
WHERE {column} IS NOT NULL
ORDER BY {column} {operator} %(query)s::{type}
LIMIT %(k)s

-- float16_vacuum --
VACUUM (ANALYZE) {table}
