-- Named queries, loaded once by ragstore.store.queries. Each block starts with a `-- name --` line.

-- create_schema_migrations --
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)

-- applied_migrations --
SELECT version FROM schema_migrations ORDER BY version

-- record_migration --
INSERT INTO schema_migrations (version, name) VALUES (%(version)s, %(name)s)

-- server_versions --
SELECT current_setting('server_version_num')::int AS server_version_num,
       current_setting('server_version') AS server_version,
       (SELECT default_version FROM pg_available_extensions WHERE name = 'vector') AS pgvector_available,
       (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS pgvector_installed

-- insert_file --
INSERT INTO files (tenant_id, id, filename, purpose, bytes, sha256)
VALUES (%(tenant_id)s, %(id)s, %(filename)s, %(purpose)s, %(bytes)s, %(sha256)s)
RETURNING id, filename, purpose, bytes, sha256, created_at, expires_at

-- insert_file_part --
INSERT INTO file_parts (tenant_id, file_id, seq, data) VALUES (%(tenant_id)s, %(file_id)s, %(seq)s, %(data)s)

-- get_file --
SELECT id, filename, purpose, bytes, sha256, created_at, expires_at
FROM files WHERE tenant_id = %(tenant_id)s AND id = %(id)s

-- file_parts --
SELECT data FROM file_parts WHERE tenant_id = %(tenant_id)s AND file_id = %(file_id)s ORDER BY seq

-- insert_vector_store --
INSERT INTO vector_stores (tenant_id, id, name, description, metadata, embedding_model, embedding_dim, last_active_at)
VALUES (%(tenant_id)s, %(id)s, %(name)s, %(description)s, %(metadata)s, %(embedding_model)s, %(embedding_dim)s, now())
RETURNING id, name, embedding_model, embedding_dim, created_at

-- get_vector_store --
SELECT id, name, embedding_model, embedding_dim, created_at
FROM vector_stores WHERE tenant_id = %(tenant_id)s AND id = %(id)s

-- vector_stores_by_name --
SELECT id, name, embedding_model, embedding_dim, created_at
FROM vector_stores WHERE tenant_id = %(tenant_id)s AND name = %(name)s ORDER BY created_at, id

-- touch_vector_stores --
UPDATE vector_stores SET last_active_at = now() WHERE tenant_id = %(tenant_id)s AND id = ANY (%(ids)s)

-- insert_file_batch --
INSERT INTO file_batches (tenant_id, id, vector_store_id) VALUES (%(tenant_id)s, %(id)s, %(vector_store_id)s)

-- batch_file_counts --
SELECT count(*) FILTER (WHERE status = 'in_progress') AS in_progress,
       count(*) FILTER (WHERE status = 'completed') AS completed,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
       count(*) AS total
FROM vector_store_files WHERE tenant_id = %(tenant_id)s AND batch_id = %(batch_id)s

-- batch_failures --
SELECT f.filename, vsf.last_error_code, vsf.last_error_message
FROM vector_store_files vsf JOIN files f ON f.tenant_id = vsf.tenant_id AND f.id = vsf.file_id
WHERE vsf.tenant_id = %(tenant_id)s AND vsf.batch_id = %(batch_id)s AND vsf.status = 'failed'
ORDER BY f.filename

-- insert_vector_store_file --
INSERT INTO vector_store_files
    (tenant_id, vector_store_id, file_id, batch_id, chunk_size_tokens, chunk_overlap_tokens, attributes)
VALUES (%(tenant_id)s, %(vector_store_id)s, %(file_id)s, %(batch_id)s, %(chunk_size_tokens)s,
        %(chunk_overlap_tokens)s, %(attributes)s)

-- lock_vector_store_file --
-- Taken by the transaction that writes a file's chunks: only an in-progress file gets them, exactly once.
SELECT vsf.status, vsf.chunk_size_tokens, vsf.chunk_overlap_tokens, vsf.attributes, vs.embedding_model
FROM vector_store_files vsf
JOIN vector_stores vs ON vs.tenant_id = vsf.tenant_id AND vs.id = vsf.vector_store_id
WHERE vsf.tenant_id = %(tenant_id)s AND vsf.vector_store_id = %(vector_store_id)s AND vsf.file_id = %(file_id)s
FOR UPDATE OF vsf

-- get_vector_store_file --
SELECT status, chunk_size_tokens, chunk_overlap_tokens, attributes
FROM vector_store_files
WHERE tenant_id = %(tenant_id)s AND vector_store_id = %(vector_store_id)s AND file_id = %(file_id)s

-- complete_vector_store_file --
UPDATE vector_store_files
SET status = 'completed', usage_bytes = %(usage_bytes)s, last_error_code = NULL, last_error_message = NULL
WHERE tenant_id = %(tenant_id)s AND vector_store_id = %(vector_store_id)s AND file_id = %(file_id)s

-- fail_vector_store_file --
UPDATE vector_store_files
SET status = 'failed', last_error_code = %(code)s, last_error_message = %(message)s
WHERE tenant_id = %(tenant_id)s AND vector_store_id = %(vector_store_id)s AND file_id = %(file_id)s
  AND status = 'in_progress'

-- insert_chunk --
INSERT INTO chunks (tenant_id, vector_store_id, file_id, chunk_index, page, text, token_count, attributes,
                    content_hash, embedding)
VALUES (%(tenant_id)s, %(vector_store_id)s, %(file_id)s, %(chunk_index)s, %(page)s, %(text)s, %(token_count)s,
        %(attributes)s, %(content_hash)s, %(embedding)s)

-- search_chunks --
-- Nearest chunks by cosine distance within the given stores. The HNSW scan is iterative (set by the caller), so
-- its order is relaxed: the outer query restores the exact order.
WITH nearest AS MATERIALIZED (
    SELECT c.id, c.vector_store_id, c.file_id, c.chunk_index, c.page, c.text, c.attributes,
           c.embedding <=> %(embedding)s AS distance
    FROM chunks c
    WHERE c.tenant_id = %(tenant_id)s AND c.vector_store_id = ANY (%(store_ids)s)
    ORDER BY c.embedding <=> %(embedding)s
    LIMIT %(limit)s
)
SELECT n.id, n.vector_store_id, n.file_id, f.filename, n.chunk_index, n.page, n.text, n.attributes,
       greatest(0, 1 - n.distance) AS score
FROM nearest n
JOIN files f ON f.tenant_id = %(tenant_id)s AND f.id = n.file_id
WHERE greatest(0, 1 - n.distance) >= %(threshold)s
ORDER BY n.distance, n.id

-- enqueue_job --
INSERT INTO jobs (tenant_id, kind, args, max_attempts)
VALUES (%(tenant_id)s, %(kind)s, %(args)s, %(max_attempts)s)
RETURNING id

-- notify_jobs --
SELECT pg_notify('ragstore_jobs', '')

-- claim_job --
WITH next AS (
    SELECT id FROM jobs
    WHERE status = 'queued' AND run_after <= now()
    ORDER BY run_after, id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
)
UPDATE jobs SET status = 'running', attempts = attempts + 1, worker = %(worker)s, updated_at = now()
FROM next WHERE jobs.id = next.id
RETURNING jobs.id, jobs.tenant_id, jobs.kind, jobs.args, jobs.attempts, jobs.max_attempts

-- lock_job --
SELECT pg_advisory_lock(%(id)s)

-- try_lock_job --
SELECT pg_try_advisory_lock(%(id)s) AS locked

-- unlock_job --
SELECT pg_advisory_unlock(%(id)s)

-- finish_job --
UPDATE jobs SET status = 'done', last_error = NULL, updated_at = now() WHERE id = %(id)s AND status = 'running'

-- retry_or_fail_job --
-- A failed attempt: queued again after a backoff, or failed for good once its attempts are spent.
UPDATE jobs
SET status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
    run_after = now() + make_interval(secs => %(backoff_seconds)s * attempts),
    last_error = %(error)s, updated_at = now()
WHERE id = %(id)s AND status = 'running'
RETURNING id, tenant_id, kind, args, status, attempts, max_attempts

-- running_jobs --
SELECT id FROM jobs WHERE status = 'running' ORDER BY id

-- job_counts --
SELECT status, count(*) AS n FROM jobs GROUP BY status

-- set_file_digest --
UPDATE files SET bytes = %(bytes)s, sha256 = %(sha256)s WHERE tenant_id = %(tenant_id)s AND id = %(id)s
RETURNING id, filename, purpose, bytes, sha256, created_at, expires_at
