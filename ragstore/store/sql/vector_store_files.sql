-- A store's files: attachment, the writing of their chunks, attributes. A store's files page by
-- (created_at, file_id); the comparison and direction are set by store.pages.

-- vector_store_file_columns --
file_id, vector_store_id, batch_id, status, chunk_size_tokens, chunk_overlap_tokens, attributes, usage_bytes,
last_error_code, last_error_message, created_at, attach_id

-- get_vector_store_file_object --
SELECT {columns} FROM vector_store_files
WHERE tenant_id = %(tenant_id)s AND vector_store_id = %(vector_store_id)s AND file_id = %(file_id)s

-- list_vector_store_file_objects --
SELECT {columns} FROM vector_store_files
WHERE tenant_id = %(tenant_id)s AND vector_store_id = %(vector_store_id)s
  AND (%(batch_id)s::text IS NULL OR batch_id = %(batch_id)s)
  AND (%(status)s::text IS NULL OR status = %(status)s)
  AND (%(cursor_at)s::timestamptz IS NULL OR (created_at, file_id) {cmp} (%(cursor_at)s, %(cursor_id)s))
ORDER BY created_at {direction}, file_id {direction}
LIMIT %(limit)s

-- attach_vector_store_file --
-- A file attached again starts over, under a new attach_id (its old chunks are deleted by the caller).
INSERT INTO vector_store_files
    (tenant_id, vector_store_id, file_id, batch_id, chunk_size_tokens, chunk_overlap_tokens, attributes, attach_id)
VALUES (%(tenant_id)s, %(vector_store_id)s, %(file_id)s, %(batch_id)s, %(chunk_size_tokens)s,
        %(chunk_overlap_tokens)s, %(attributes)s, %(attach_id)s)
ON CONFLICT (tenant_id, vector_store_id, file_id) DO UPDATE
SET batch_id = EXCLUDED.batch_id, status = 'in_progress', chunk_size_tokens = EXCLUDED.chunk_size_tokens,
    chunk_overlap_tokens = EXCLUDED.chunk_overlap_tokens, attributes = EXCLUDED.attributes, usage_bytes = 0,
    last_error_code = NULL, last_error_message = NULL, attach_id = EXCLUDED.attach_id, created_at = now(),
    updated_at = now()

-- lock_vector_store_file --
-- Taken by the transaction that writes a file's chunks: only an in-progress file gets them, exactly once.
SELECT vsf.status, vsf.attach_id, vsf.chunk_size_tokens, vsf.chunk_overlap_tokens, vsf.attributes,
       vs.embedding_model, vs.text_search_language
FROM vector_store_files vsf
JOIN vector_stores vs ON vs.tenant_id = vsf.tenant_id AND vs.id = vsf.vector_store_id
WHERE vsf.tenant_id = %(tenant_id)s AND vsf.vector_store_id = %(vector_store_id)s AND vsf.file_id = %(file_id)s
FOR UPDATE OF vsf

-- complete_vector_store_file --
UPDATE vector_store_files
SET status = 'completed', usage_bytes = %(usage_bytes)s, chunk_count = %(chunk_count)s, last_error_code = NULL,
    last_error_message = NULL,
    lexical_tokens = (SELECT coalesce(sum(c.lexical_length), 0) FROM chunks c
                      WHERE c.tenant_id = %(tenant_id)s AND c.vector_store_id = %(vector_store_id)s
                        AND c.file_id = %(file_id)s)
WHERE tenant_id = %(tenant_id)s AND vector_store_id = %(vector_store_id)s AND file_id = %(file_id)s

-- fail_vector_store_file --
UPDATE vector_store_files
SET status = 'failed', last_error_code = %(code)s, last_error_message = %(message)s
WHERE tenant_id = %(tenant_id)s AND vector_store_id = %(vector_store_id)s AND file_id = %(file_id)s
  AND status = 'in_progress'
  AND (%(attach_id)s::text IS NULL OR attach_id = %(attach_id)s)

-- set_vector_store_file_attributes --
WITH updated AS (
    UPDATE vector_store_files SET attributes = %(attributes)s, updated_at = now()
    WHERE tenant_id = %(tenant_id)s AND vector_store_id = %(vector_store_id)s AND file_id = %(file_id)s
    RETURNING file_id
)
UPDATE chunks SET attributes = doc_metadata || coalesce(%(attributes)s, '{}'::jsonb)
WHERE tenant_id = %(tenant_id)s AND vector_store_id = %(vector_store_id)s AND file_id IN (SELECT file_id FROM updated)

-- delete_vector_store_file --
DELETE FROM vector_store_files
WHERE tenant_id = %(tenant_id)s AND vector_store_id = %(vector_store_id)s AND file_id = %(file_id)s
RETURNING file_id
