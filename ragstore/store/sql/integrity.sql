-- Named queries of `ragstore check` (ragstore.service.integrity, through ragstore.store.integrity). Each runs as a
-- tenant: row-level security keeps it to that tenant's rows.

-- integrity_totals --
SELECT (SELECT count(*) FROM vector_stores WHERE tenant_id = %(tenant_id)s) AS stores,
       (SELECT count(*) FROM vector_store_files WHERE tenant_id = %(tenant_id)s) AS files,
       (SELECT count(*) FROM chunks WHERE tenant_id = %(tenant_id)s) AS chunks

-- integrity_orphan_chunks --
-- Chunks whose attachment is gone (only possible when the foreign key was bypassed: a partial restore, replication
-- role, manual SQL) or is not completed (its chunks should have gone when it was attached again, failed or
-- cancelled). Search would return them all the same.
SELECT c.vector_store_id, c.file_id, f.filename, coalesce(v.status, 'detached') AS status, count(*) AS chunks
FROM chunks c
LEFT JOIN vector_store_files v
  ON v.tenant_id = c.tenant_id AND v.vector_store_id = c.vector_store_id AND v.file_id = c.file_id
LEFT JOIN files f ON f.tenant_id = c.tenant_id AND f.id = c.file_id
WHERE c.tenant_id = %(tenant_id)s AND (v.file_id IS NULL OR v.status <> 'completed')
GROUP BY c.vector_store_id, c.file_id, f.filename, v.status
ORDER BY c.vector_store_id, c.file_id

-- delete_orphan_chunks --
-- The stores' attachments are touched too: their row versions make the query cache's fingerprint of a store.
WITH gone AS (
    DELETE FROM chunks c
    WHERE c.tenant_id = %(tenant_id)s
      AND NOT EXISTS (SELECT FROM vector_store_files v
                      WHERE v.tenant_id = c.tenant_id AND v.vector_store_id = c.vector_store_id
                        AND v.file_id = c.file_id AND v.status = 'completed')
    RETURNING c.vector_store_id
), touched AS (
    UPDATE vector_store_files v SET updated_at = now()
    WHERE v.tenant_id = %(tenant_id)s AND v.vector_store_id IN (SELECT vector_store_id FROM gone)
)
SELECT count(*) AS deleted FROM gone

-- integrity_empty_files --
-- Completed attachments without a single chunk: a completed file always has one (a file without text fails).
SELECT v.vector_store_id, v.file_id, f.filename, v.chunk_size_tokens, v.chunk_overlap_tokens, v.attributes
FROM vector_store_files v
JOIN files f ON f.tenant_id = v.tenant_id AND f.id = v.file_id
WHERE v.tenant_id = %(tenant_id)s AND v.status = 'completed'
  AND NOT EXISTS (SELECT FROM chunks c
                  WHERE c.tenant_id = v.tenant_id AND c.vector_store_id = v.vector_store_id AND c.file_id = v.file_id)
ORDER BY v.vector_store_id, v.file_id

-- integrity_stuck_files --
-- In-progress attachments that no queued or running ingestion job will ever finish.
SELECT v.vector_store_id, v.file_id, f.filename, v.chunk_size_tokens, v.chunk_overlap_tokens, v.attributes
FROM vector_store_files v
JOIN files f ON f.tenant_id = v.tenant_id AND f.id = v.file_id
WHERE v.tenant_id = %(tenant_id)s AND v.status = 'in_progress'
  AND NOT EXISTS (SELECT FROM jobs j
                  WHERE j.tenant_id = v.tenant_id AND j.kind = 'ingest_file' AND j.status IN ('queued', 'running')
                    AND j.args ->> 'vector_store_id' = v.vector_store_id AND j.args ->> 'file_id' = v.file_id)
ORDER BY v.vector_store_id, v.file_id

-- integrity_file_counts --
-- Completed attachments whose counters (chunk_count, lexical_tokens for BM25, usage_bytes) differ from what their
-- chunks add up to. usage_bytes is the chunks' text plus their float16 embeddings, as ingestion counts it; in a store
-- that was re-embedded it also counts the spaces that were live when the file was ingested, which the chunks alone
-- cannot tell, so it is checked only in stores that never were.
WITH actual AS (
    SELECT vector_store_id, file_id, count(*) AS chunks, sum(lexical_length) AS lexical_tokens,
           sum(octet_length(text)) AS text_bytes
    FROM chunks WHERE tenant_id = %(tenant_id)s
    GROUP BY vector_store_id, file_id
), expected AS (
    SELECT v.vector_store_id, v.file_id, f.filename, v.chunk_count, v.lexical_tokens, v.usage_bytes,
           coalesce(a.chunks, 0) AS actual_chunks, coalesce(a.lexical_tokens, 0) AS actual_lexical_tokens,
           coalesce(a.text_bytes, 0) + coalesce(a.chunks, 0) * s.embedding_dim * 2 AS actual_usage_bytes,
           NOT EXISTS (SELECT FROM embedding_spaces sp
                       WHERE sp.tenant_id = v.tenant_id AND sp.vector_store_id = v.vector_store_id) AS usage_known
    FROM vector_store_files v
    JOIN vector_stores s ON s.tenant_id = v.tenant_id AND s.id = v.vector_store_id
    JOIN files f ON f.tenant_id = v.tenant_id AND f.id = v.file_id
    LEFT JOIN actual a ON a.vector_store_id = v.vector_store_id AND a.file_id = v.file_id
    WHERE v.tenant_id = %(tenant_id)s AND v.status = 'completed'
)
-- A file with no chunks at all is reported as such (integrity_empty_files), not here.
SELECT * FROM expected
WHERE actual_chunks > 0
  AND (chunk_count <> actual_chunks OR lexical_tokens <> actual_lexical_tokens
       OR (usage_known AND usage_bytes <> actual_usage_bytes))
ORDER BY vector_store_id, file_id

-- recount_files --
WITH wanted AS (
    SELECT * FROM unnest(%(store_ids)s::text[], %(file_ids)s::text[]) AS k (vector_store_id, file_id)
), actual AS (
    SELECT w.vector_store_id, w.file_id, count(c.id) AS chunks, coalesce(sum(c.lexical_length), 0) AS lexical_tokens,
           coalesce(sum(octet_length(c.text)), 0) AS text_bytes
    FROM wanted w
    LEFT JOIN chunks c
      ON c.tenant_id = %(tenant_id)s AND c.vector_store_id = w.vector_store_id AND c.file_id = w.file_id
    GROUP BY w.vector_store_id, w.file_id
)
UPDATE vector_store_files v
SET chunk_count = a.chunks, lexical_tokens = a.lexical_tokens, updated_at = now(),
    usage_bytes = CASE WHEN EXISTS (SELECT FROM embedding_spaces sp
                                    WHERE sp.tenant_id = v.tenant_id AND sp.vector_store_id = v.vector_store_id)
                       THEN v.usage_bytes ELSE a.text_bytes + a.chunks * s.embedding_dim * 2 END
FROM actual a, vector_stores s
WHERE v.tenant_id = %(tenant_id)s AND v.vector_store_id = a.vector_store_id AND v.file_id = a.file_id
  AND s.tenant_id = v.tenant_id AND s.id = v.vector_store_id AND v.status = 'completed'
RETURNING v.file_id

-- integrity_stale_chunks --
-- Chunks whose content hash is not their text's sha256 (their text changed after they were embedded), or with an
-- embedding, in any space, that is not a unit vector (every embedder gives unit vectors; float16 keeps the norm
-- within 1e-3).
WITH checked AS (
    SELECT c.id, c.vector_store_id, c.file_id, c.chunk_index,
           c.content_hash <> encode(sha256(convert_to(c.text, 'UTF8')), 'hex') AS changed,
           coalesce(abs(l2_norm(c.embedding) - 1) > 0.01, false)
           OR EXISTS (SELECT FROM chunk_vectors v
                      WHERE v.tenant_id = c.tenant_id AND v.chunk_id = c.id AND abs(l2_norm(v.embedding) - 1) > 0.01)
               AS bad_norm
    FROM chunks c
    WHERE c.tenant_id = %(tenant_id)s
)
SELECT k.*, f.filename
FROM checked k
LEFT JOIN files f ON f.tenant_id = %(tenant_id)s AND f.id = k.file_id
WHERE k.changed OR k.bad_norm
ORDER BY k.vector_store_id, k.file_id, k.chunk_index

-- integrity_missing_embeddings --
-- Chunks without a vector in a space that searches or a rollback rely on: chunks.embedding in a store never
-- re-embedded or whose first space is kept, chunk_vectors in a ready, active or previous space (a space being built
-- is filled by its build).
WITH wanted AS (
    SELECT s.id AS vector_store_id, NULL::text AS space_id, 'chunks' AS location
    FROM vector_stores s
    WHERE s.tenant_id = %(tenant_id)s
      AND NOT EXISTS (SELECT FROM embedding_spaces x WHERE x.tenant_id = s.tenant_id AND x.vector_store_id = s.id)
    UNION ALL
    SELECT vector_store_id, id, location FROM embedding_spaces
    WHERE tenant_id = %(tenant_id)s AND state IN ('ready', 'active', 'previous')
)
SELECT c.id, c.vector_store_id, c.file_id, f.filename, c.chunk_index, w.space_id
FROM wanted w
JOIN chunks c ON c.tenant_id = %(tenant_id)s AND c.vector_store_id = w.vector_store_id
LEFT JOIN files f ON f.tenant_id = c.tenant_id AND f.id = c.file_id
WHERE (w.location = 'chunks' AND c.embedding IS NULL)
   OR (w.location = 'vectors'
       AND NOT EXISTS (SELECT FROM chunk_vectors v
                       WHERE v.tenant_id = c.tenant_id AND v.space_id = w.space_id AND v.chunk_id = c.id))
ORDER BY c.vector_store_id, c.file_id, c.chunk_index

-- chunks_to_reembed --
SELECT c.id, c.vector_store_id, c.file_id, c.text, s.text_search_language
FROM chunks c
JOIN vector_stores s ON s.tenant_id = c.tenant_id AND s.id = c.vector_store_id
WHERE c.tenant_id = %(tenant_id)s AND c.id = ANY (%(ids)s)
ORDER BY c.vector_store_id, c.id

-- reembed_chunk --
-- Only if the text is still the one embedded: a change since is found by the next check. embedding is NULL when the
-- store's first space was dropped.
-- Its attachment is touched too, so that the query cache's fingerprint of the store changes.
WITH done AS (
    UPDATE chunks
    SET embedding = %(embedding)s, content_hash = %(content_hash)s, token_count = %(token_count)s,
        fts = to_tsvector(%(language)s::regconfig, text),
        lexical_length = (SELECT coalesce(sum(coalesce(array_length(positions, 1), 1)), 0)::int
                          FROM unnest(to_tsvector(%(language)s::regconfig, text)))
    WHERE tenant_id = %(tenant_id)s AND id = %(id)s AND text = %(text)s
    RETURNING vector_store_id, file_id
), touched AS (
    UPDATE vector_store_files v SET updated_at = now()
    FROM done d
    WHERE v.tenant_id = %(tenant_id)s AND v.vector_store_id = d.vector_store_id AND v.file_id = d.file_id
)
SELECT vector_store_id, file_id FROM done

-- upsert_chunk_vector --
INSERT INTO chunk_vectors (tenant_id, space_id, chunk_id, embedding)
VALUES (%(tenant_id)s, %(space_id)s, %(chunk_id)s, %(embedding)s)
ON CONFLICT (tenant_id, space_id, chunk_id) DO UPDATE SET embedding = EXCLUDED.embedding

-- integrity_duplicate_files --
-- The same file (name and bytes) attached more than once to one store, completed or on the way: each copy after the
-- first (the oldest attachment), with whether it is chunked and attributed as the first (then detaching it loses
-- nothing). Records of an import that share a text but not a name (two ids, one text) are not copies.
SELECT vector_store_id, file_id, filename, first_file_id, same_settings
FROM (
    SELECT v.vector_store_id, v.file_id, f.filename,
           first_value(v.file_id) OVER copies AS first_file_id,
           row_number() OVER copies AS copy,
           (v.attributes, v.chunk_size_tokens, v.chunk_overlap_tokens) IS NOT DISTINCT FROM
               first_value((v.attributes, v.chunk_size_tokens, v.chunk_overlap_tokens)) OVER copies AS same_settings
    FROM vector_store_files v
    JOIN files f ON f.tenant_id = v.tenant_id AND f.id = v.file_id
    WHERE v.tenant_id = %(tenant_id)s AND v.status IN ('completed', 'in_progress')
    WINDOW copies AS (PARTITION BY v.vector_store_id, f.sha256, f.filename ORDER BY v.created_at, v.file_id)
) attached
WHERE copy > 1
ORDER BY vector_store_id, file_id
