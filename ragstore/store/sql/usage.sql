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

-- partition_stats --
SELECT partition, live_rows, dead_rows, table_bytes, index_bytes, last_vacuum, last_analyze
FROM partition_stats ORDER BY partition
