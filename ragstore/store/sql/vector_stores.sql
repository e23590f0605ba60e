-- Vector stores. Stores page by id (ids sort by creation time) or by last activity; the comparison and
-- direction are set by store.pages.

-- vector_store_columns --
vs.id, vs.name, vs.description, vs.metadata, vs.embedding_model, vs.embedding_dim, vs.text_search_language,
vs.expires_after, vs.expires_at, vs.active_space_id, vs.provider_id,
vs.last_active_at, vs.created_at, coalesce(n.usage_bytes, 0) AS usage_bytes,
coalesce(n.in_progress, 0) AS in_progress, coalesce(n.completed, 0) AS completed, coalesce(n.failed, 0) AS failed,
coalesce(n.cancelled, 0) AS cancelled, coalesce(n.total, 0) AS total,
coalesce(n.content_fingerprint, 0) AS content_fingerprint

-- vector_store_source --
-- content_fingerprint changes whenever one of the store's attachments is added, removed or written (each write
-- gives its row a new xmin), and so with every write of chunks: the query cache keys search results on it.
FROM vector_stores vs
LEFT JOIN LATERAL (
    SELECT sum(usage_bytes)::bigint AS usage_bytes,
           count(*) FILTER (WHERE status = 'in_progress') AS in_progress,
           count(*) FILTER (WHERE status = 'completed') AS completed,
           count(*) FILTER (WHERE status = 'failed') AS failed,
           count(*) FILTER (WHERE status = 'cancelled') AS cancelled, count(*) AS total,
           bit_xor(hashtextextended(file_id || ':' || vector_store_files.xmin::text, 0)) AS content_fingerprint,
           sum(chunk_count) FILTER (WHERE status = 'completed') AS searchable_chunks
    FROM vector_store_files WHERE tenant_id = vs.tenant_id AND vector_store_id = vs.id
) n ON true

-- get_vector_store_object --
SELECT {columns}
{source}
WHERE vs.tenant_id = %(tenant_id)s AND vs.id = %(id)s

-- list_vector_store_objects --
SELECT {columns}
{source}
WHERE vs.tenant_id = %(tenant_id)s
  AND (%(cursor_id)s::text IS NULL OR vs.id {cmp} %(cursor_id)s)
ORDER BY vs.id {direction}
LIMIT %(limit)s

-- list_vector_store_objects_by_activity --
-- ragstore's own order: by last activity, then id; the cursor is the (last_active_at, id) of the page's cursor store.
SELECT {columns}
{source}
WHERE vs.tenant_id = %(tenant_id)s
  AND (%(cursor_at)s::timestamptz IS NULL OR (vs.last_active_at, vs.id) {cmp} (%(cursor_at)s, %(cursor_id)s))
ORDER BY vs.last_active_at {direction}, vs.id {direction}
LIMIT %(limit)s

-- vector_stores_by_name --
SELECT id, name, embedding_model, embedding_dim, created_at, text_search_language, provider_id
FROM vector_stores WHERE tenant_id = %(tenant_id)s AND name = %(name)s ORDER BY created_at, id

-- insert_vector_store_object --
INSERT INTO vector_stores (tenant_id, id, name, description, metadata, embedding_model, embedding_dim,
                           expires_after, expires_at, last_active_at, text_search_language)
VALUES (%(tenant_id)s, %(id)s, %(name)s, %(description)s, %(metadata)s, %(embedding_model)s, %(embedding_dim)s,
        %(expires_after)s, now() + make_interval(days => %(expires_days)s), now(), %(language)s)

-- update_vector_store --
UPDATE vector_stores
SET name = CASE WHEN %(set_name)s THEN coalesce(%(name)s, '') ELSE name END,
    metadata = CASE WHEN %(set_metadata)s THEN %(metadata)s ELSE metadata END,
    expires_after = CASE WHEN %(set_expires_after)s THEN %(expires_after)s ELSE expires_after END,
    expires_at = CASE WHEN %(set_expires_after)s THEN now() + make_interval(days => %(expires_days)s)
                      WHEN expires_after IS NULL OR expires_at <= now() THEN expires_at
                      ELSE now() + make_interval(days => (expires_after ->> 'days')::int) END,
    last_active_at = now()
WHERE tenant_id = %(tenant_id)s AND id = %(id)s
RETURNING id

-- delete_vector_store --
DELETE FROM vector_stores WHERE tenant_id = %(tenant_id)s AND id = %(id)s RETURNING id

-- commit_without_waiting --
-- For a transaction that only records activity (a search's touch): its commit need not wait for the WAL to reach
-- the disk (a crash may lose the last few of these timestamps, nothing else). Saves a disk flush per search.
SET LOCAL synchronous_commit = off

-- touch_vector_stores --
-- Use keeps a store alive: expires_after is anchored at last_active_at. An expired store stays expired.
UPDATE vector_stores
SET last_active_at = now(),
    expires_at = CASE WHEN expires_after IS NULL OR expires_at <= now() THEN expires_at
                      ELSE now() + make_interval(days => (expires_after ->> 'days')::int) END
WHERE tenant_id = %(tenant_id)s AND id = ANY (%(ids)s)

-- text_search_language_exists --
SELECT EXISTS (SELECT FROM pg_ts_config WHERE cfgname = %(language)s) AS found
