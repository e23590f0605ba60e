-- Usage and statistics: a tenant's totals (GET /v1/vector_stores/stats), tenants' sizes
-- and the chunk partitions (GET /v1/admin/stats).

-- usage_totals --
SELECT (SELECT count(*) FROM vector_stores WHERE tenant_id = %(tenant_id)s) AS vector_stores,
       (SELECT count(*) FROM vector_stores WHERE tenant_id = %(tenant_id)s AND expires_at <= now()) AS expired_stores,
       (SELECT count(*) FROM files WHERE tenant_id = %(tenant_id)s) AS files,
       (SELECT coalesce(sum(bytes), 0)::bigint FROM files WHERE tenant_id = %(tenant_id)s) AS file_bytes,
       (SELECT coalesce(sum(usage_bytes), 0)::bigint FROM vector_store_files WHERE tenant_id = %(tenant_id)s)
           AS usage_bytes,
       (SELECT count(*) FROM file_batches WHERE tenant_id = %(tenant_id)s) AS file_batches

-- vector_store_file_status_counts --
SELECT status, count(*) AS n FROM vector_store_files WHERE tenant_id = %(tenant_id)s GROUP BY status

-- tenant_stats --
-- The partition of a tenant is the one whose bounds its id satisfies (partitions are named chunks_pNN, NN being
-- their remainder). The CASE keeps the planner from calling satisfies_hash_partition on other relations of
-- pg_class (pg_toast_16385 would be "remainder 16385"), which it may do when it filters pg_class first.
SELECT t.id AS tenant_id, t.name,
       (SELECT count(*) FROM chunks c WHERE c.tenant_id = t.id) AS chunks,
       (SELECT count(*) FROM files f WHERE f.tenant_id = t.id) AS files,
       (SELECT coalesce(sum(bytes), 0)::bigint FROM files f WHERE f.tenant_id = t.id) AS file_bytes,
       (SELECT count(*) FROM vector_stores v WHERE v.tenant_id = t.id) AS vector_stores,
       (SELECT p.relname FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhrelid
        WHERE i.inhparent = 'chunks'::regclass
          AND CASE WHEN p.relname ~ '^chunks_p[0-9]+$'
                   THEN satisfies_hash_partition('chunks'::regclass, parts.n, substring(p.relname FROM '[0-9]+$')::int,
                                                 t.id)
                   ELSE false END
       ) AS partition
FROM tenants t,
     LATERAL (SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'chunks'::regclass) parts
ORDER BY t.name

-- store_space_stats --
-- Each store's embedding space: its provider (an endpoint's name, 'local', or the URL of one named by URL alone),
-- model and dimension, and its chunks (the attachments' counters).
SELECT t.name AS tenant, v.id, v.name, coalesce(v.provider_id, s.base_url, 'local') AS provider,
       v.embedding_model AS model, v.embedding_dim AS dimension,
       (SELECT coalesce(sum(f.chunk_count), 0)::bigint FROM vector_store_files f
        WHERE f.tenant_id = v.tenant_id AND f.vector_store_id = v.id) AS chunks
FROM vector_stores v
JOIN tenants t ON t.id = v.tenant_id
LEFT JOIN embedding_spaces s ON s.tenant_id = v.tenant_id AND s.id = v.active_space_id
ORDER BY t.name, v.created_at, v.id

-- partition_stats --
SELECT partition, live_rows, dead_rows, table_bytes, index_bytes, last_vacuum, last_analyze
FROM partition_stats ORDER BY partition

-- usage_by_day --
-- A tenant's files and storage per UTC day over the last `days` days: what was added that day, and the running
-- totals at its end. Read from the created_at of the files and store attachments that exist now: a deleted file
-- leaves no trace, so the past is the history of what is still stored.
WITH today AS (SELECT (now() AT TIME ZONE 'UTC')::date AS day),
uploads AS (
    SELECT (created_at AT TIME ZONE 'UTC')::date AS day, count(*) AS files, sum(bytes) AS bytes
    FROM files WHERE tenant_id = %(tenant_id)s GROUP BY 1
),
attached AS (
    SELECT (created_at AT TIME ZONE 'UTC')::date AS day, sum(usage_bytes) AS usage_bytes
    FROM vector_store_files WHERE tenant_id = %(tenant_id)s GROUP BY 1
),
days AS (
    SELECT d::date AS day
    FROM today, generate_series(today.day - (%(days)s - 1), today.day, interval '1 day') AS d
)
SELECT to_char(days.day, 'YYYY-MM-DD') AS day,
       coalesce((SELECT u.files FROM uploads u WHERE u.day = days.day), 0)::bigint AS files_added,
       coalesce((SELECT u.bytes FROM uploads u WHERE u.day = days.day), 0)::bigint AS bytes_added,
       coalesce((SELECT sum(u.files) FROM uploads u WHERE u.day <= days.day), 0)::bigint AS files,
       coalesce((SELECT sum(u.bytes) FROM uploads u WHERE u.day <= days.day), 0)::bigint AS file_bytes,
       coalesce((SELECT sum(a.usage_bytes) FROM attached a WHERE a.day <= days.day), 0)::bigint AS usage_bytes
FROM days
ORDER BY days.day
