-- Named queries of backup, restore and verify (ragstore.archive, through ragstore.store.archive). They run as a
-- tenant: row-level security keeps them to that tenant's rows. %(store_ids)s NULL means the whole tenant; a list
-- means those vector stores, their attachments, batches, chunks and the files attached to them.
-- Rows come out in a fixed order, and chunks by (file_id COLLATE "C", chunk_index): the same order as Python's
-- string comparison, so that verify can walk an archive's chunks and the live ones side by side.

-- archive_snapshot --
-- The first statement of a backup's transaction: every query after it sees the same moment of the database.
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY

-- archive_counts --
WITH stores AS (
    SELECT id FROM vector_stores
    WHERE tenant_id = %(tenant_id)s AND (%(store_ids)s::text[] IS NULL OR id = ANY (%(store_ids)s))
), whole AS (
    SELECT %(store_ids)s::text[] IS NULL AS tenant
)
SELECT (SELECT count(*) FROM files f
        WHERE f.tenant_id = %(tenant_id)s
          AND ((SELECT tenant FROM whole)
               OR EXISTS (SELECT FROM vector_store_files v
                          WHERE v.tenant_id = f.tenant_id AND v.file_id = f.id
                            AND v.vector_store_id IN (SELECT id FROM stores)))) AS files,
       (SELECT count(*) FROM stores) AS vector_stores,
       (SELECT count(*) FROM file_batches
        WHERE tenant_id = %(tenant_id)s AND vector_store_id IN (SELECT id FROM stores)) AS file_batches,
       (SELECT count(*) FROM vector_store_files
        WHERE tenant_id = %(tenant_id)s AND vector_store_id IN (SELECT id FROM stores)) AS vector_store_files,
       (SELECT count(*) FROM imported_files
        WHERE tenant_id = %(tenant_id)s AND vector_store_id IN (SELECT id FROM stores)) AS imported_files,
       (SELECT count(*) FROM chunks
        WHERE tenant_id = %(tenant_id)s AND vector_store_id IN (SELECT id FROM stores)) AS chunks,
       (SELECT count(*) FROM conversations
        WHERE tenant_id = %(tenant_id)s AND (SELECT tenant FROM whole)) AS conversations,
       (SELECT count(*) FROM messages WHERE tenant_id = %(tenant_id)s AND (SELECT tenant FROM whole)) AS messages,
       (SELECT count(*) FROM feedback WHERE tenant_id = %(tenant_id)s AND (SELECT tenant FROM whole)) AS feedback,
       (SELECT count(*) FROM training_examples
        WHERE tenant_id = %(tenant_id)s AND (SELECT tenant FROM whole)) AS training_examples,
       (SELECT count(*) FROM datasets WHERE tenant_id = %(tenant_id)s AND (SELECT tenant FROM whole)) AS datasets,
       (SELECT count(*) FROM dataset_examples
        WHERE tenant_id = %(tenant_id)s AND (SELECT tenant FROM whole)) AS dataset_examples

-- archive_select_files --
SELECT f.id, f.filename, f.purpose, f.bytes, f.sha256, f.created_at, f.expires_at
FROM files f
WHERE f.tenant_id = %(tenant_id)s
  AND (%(store_ids)s::text[] IS NULL
       OR EXISTS (SELECT FROM vector_store_files v
                  WHERE v.tenant_id = f.tenant_id AND v.file_id = f.id AND v.vector_store_id = ANY (%(store_ids)s)))
ORDER BY f.id COLLATE "C"

-- archive_select_vector_stores --
SELECT id, name, description, metadata, embedding_model, embedding_dim, text_search_language, expires_after,
       expires_at, last_active_at, created_at
FROM vector_stores
WHERE tenant_id = %(tenant_id)s AND (%(store_ids)s::text[] IS NULL OR id = ANY (%(store_ids)s))
ORDER BY id COLLATE "C"

-- archive_select_file_batches --
SELECT id, vector_store_id, cancelled, created_at
FROM file_batches
WHERE tenant_id = %(tenant_id)s AND (%(store_ids)s::text[] IS NULL OR vector_store_id = ANY (%(store_ids)s))
ORDER BY id COLLATE "C"

-- archive_select_vector_store_files --
SELECT vector_store_id, file_id, batch_id, status, chunk_size_tokens, chunk_overlap_tokens, attributes, usage_bytes,
       last_error_code, last_error_message, attach_id, chunk_count, lexical_tokens, created_at, updated_at
FROM vector_store_files
WHERE tenant_id = %(tenant_id)s AND (%(store_ids)s::text[] IS NULL OR vector_store_id = ANY (%(store_ids)s))
ORDER BY vector_store_id COLLATE "C", file_id COLLATE "C"

-- archive_select_imported_files --
-- Where the importers' files came from, so that importing the same sources into a restored store changes nothing.
SELECT vector_store_id, file_id, source_key, fingerprint, imported_at
FROM imported_files
WHERE tenant_id = %(tenant_id)s AND (%(store_ids)s::text[] IS NULL OR vector_store_id = ANY (%(store_ids)s))
ORDER BY vector_store_id COLLATE "C", file_id COLLATE "C"

-- archive_select_conversations --
SELECT id, user_id, title, metadata, created_at, updated_at
FROM conversations WHERE tenant_id = %(tenant_id)s ORDER BY id COLLATE "C"

-- archive_select_messages --
SELECT id, conversation_id, position, role, content, model, vector_store_ids, context_used, unused_context, prompt,
       created_at
FROM messages WHERE tenant_id = %(tenant_id)s ORDER BY conversation_id COLLATE "C", position

-- archive_select_feedback --
SELECT id, message_id, conversation_id, rating, comment, created_at, updated_at
FROM feedback WHERE tenant_id = %(tenant_id)s ORDER BY id COLLATE "C"

-- archive_select_training_examples --
SELECT id, message_id, conversation_id, source, status, rating, query, answer, messages, context_used,
       unused_context, vector_store_ids, model, created_at, updated_at
FROM training_examples WHERE tenant_id = %(tenant_id)s ORDER BY id COLLATE "C"

-- archive_select_datasets --
SELECT id, name, description, created_at, updated_at
FROM datasets WHERE tenant_id = %(tenant_id)s ORDER BY id COLLATE "C"

-- archive_select_dataset_examples --
SELECT dataset_id, example_id, added_at
FROM dataset_examples WHERE tenant_id = %(tenant_id)s ORDER BY dataset_id COLLATE "C", example_id COLLATE "C"

-- archive_store_chunk_count --
SELECT count(*) AS n FROM chunks WHERE tenant_id = %(tenant_id)s AND vector_store_id = %(store_id)s

-- archive_select_chunks --
-- Everything of a store's chunks but their embeddings (archive_select_embeddings, in the same order) and their
-- tsvector, which restore computes again from the text in the store's language.
SELECT id, file_id, chunk_index, page, text, token_count, attributes, doc_metadata, content_hash, lexical_length
FROM chunks
WHERE tenant_id = %(tenant_id)s AND vector_store_id = %(store_id)s
ORDER BY file_id COLLATE "C", chunk_index

-- archive_select_embeddings --
-- A store's embeddings in its active space, in the order of archive_select_chunks: chunks.embedding, or the
-- active space's chunk_vectors once the store was re-embedded and switched (NULL where a vector is missing).
SELECT CASE WHEN sp.id IS NULL THEN c.embedding ELSE v.embedding END AS embedding
FROM chunks c
JOIN vector_stores s ON s.tenant_id = c.tenant_id AND s.id = c.vector_store_id
LEFT JOIN embedding_spaces sp ON sp.tenant_id = s.tenant_id AND sp.id = s.active_space_id AND sp.location = 'vectors'
LEFT JOIN chunk_vectors v ON v.tenant_id = c.tenant_id AND v.space_id = sp.id AND v.chunk_id = c.id
WHERE c.tenant_id = %(tenant_id)s AND c.vector_store_id = %(store_id)s
ORDER BY c.file_id COLLATE "C", c.chunk_index

-- archive_live_chunks --
-- What verify compares with an archive's chunks: the content hash recomputed from the text in the database too,
-- and the embedding of the store's active space (as archive_select_embeddings).
SELECT c.file_id, c.chunk_index, c.page, c.token_count, c.attributes, c.doc_metadata, c.content_hash,
       c.lexical_length, encode(sha256(convert_to(c.text, 'UTF8')), 'hex') AS text_sha256,
       CASE WHEN sp.id IS NULL THEN c.embedding ELSE v.embedding END AS embedding
FROM chunks c
JOIN vector_stores s ON s.tenant_id = c.tenant_id AND s.id = c.vector_store_id
LEFT JOIN embedding_spaces sp ON sp.tenant_id = s.tenant_id AND sp.id = s.active_space_id AND sp.location = 'vectors'
LEFT JOIN chunk_vectors v ON v.tenant_id = c.tenant_id AND v.space_id = sp.id AND v.chunk_id = c.id
WHERE c.tenant_id = %(tenant_id)s AND c.vector_store_id = %(store_id)s
ORDER BY c.file_id COLLATE "C", c.chunk_index

-- archive_existing_ids --
-- Objects of an archive that the target tenant has already (a dataset also by its name, which is unique).
SELECT 'vector store' AS kind, id FROM vector_stores WHERE tenant_id = %(tenant_id)s AND id = ANY (%(vector_stores)s)
UNION ALL
SELECT 'file batch', id FROM file_batches WHERE tenant_id = %(tenant_id)s AND id = ANY (%(file_batches)s)
UNION ALL
SELECT 'conversation', id FROM conversations WHERE tenant_id = %(tenant_id)s AND id = ANY (%(conversations)s)
UNION ALL
SELECT 'message', id FROM messages WHERE tenant_id = %(tenant_id)s AND id = ANY (%(messages)s)
UNION ALL
SELECT 'feedback', id FROM feedback WHERE tenant_id = %(tenant_id)s AND id = ANY (%(feedback)s)
UNION ALL
SELECT 'training example', id FROM training_examples
WHERE tenant_id = %(tenant_id)s AND id = ANY (%(training_examples)s)
UNION ALL
SELECT 'dataset', id || ' (' || name || ')' FROM datasets
WHERE tenant_id = %(tenant_id)s AND (id = ANY (%(datasets)s) OR name = ANY (%(dataset_names)s))
LIMIT 100

-- archive_existing_files --
SELECT id, sha256, bytes FROM files WHERE tenant_id = %(tenant_id)s AND id = ANY (%(ids)s)

-- archive_insert_files --
INSERT INTO files (tenant_id, id, filename, purpose, bytes, sha256, created_at, expires_at)
SELECT %(tenant_id)s, r.id, r.filename, r.purpose, r.bytes, r.sha256, r.created_at, r.expires_at
FROM jsonb_populate_recordset(NULL::files, %(rows)s) r

-- archive_insert_vector_stores --
INSERT INTO vector_stores (tenant_id, id, name, description, metadata, embedding_model, embedding_dim,
                           text_search_language, expires_after, expires_at, last_active_at, created_at)
SELECT %(tenant_id)s, r.id, r.name, r.description, r.metadata, r.embedding_model, r.embedding_dim,
       r.text_search_language, r.expires_after, r.expires_at, r.last_active_at, r.created_at
FROM jsonb_populate_recordset(NULL::vector_stores, %(rows)s) r

-- archive_insert_file_batches --
INSERT INTO file_batches (tenant_id, id, vector_store_id, cancelled, created_at)
SELECT %(tenant_id)s, r.id, r.vector_store_id, r.cancelled, r.created_at
FROM jsonb_populate_recordset(NULL::file_batches, %(rows)s) r

-- archive_insert_vector_store_files --
INSERT INTO vector_store_files (tenant_id, vector_store_id, file_id, batch_id, status, chunk_size_tokens,
                                chunk_overlap_tokens, attributes, usage_bytes, last_error_code, last_error_message,
                                attach_id, chunk_count, lexical_tokens, created_at, updated_at)
SELECT %(tenant_id)s, r.vector_store_id, r.file_id, r.batch_id, r.status, r.chunk_size_tokens,
       r.chunk_overlap_tokens, r.attributes, r.usage_bytes, r.last_error_code, r.last_error_message, r.attach_id,
       r.chunk_count, r.lexical_tokens, r.created_at, r.updated_at
FROM jsonb_populate_recordset(NULL::vector_store_files, %(rows)s) r

-- archive_insert_imported_files --
INSERT INTO imported_files (tenant_id, vector_store_id, file_id, source_key, fingerprint, imported_at)
SELECT %(tenant_id)s, r.vector_store_id, r.file_id, r.source_key, r.fingerprint, r.imported_at
FROM jsonb_populate_recordset(NULL::imported_files, %(rows)s) r

-- archive_insert_conversations --
INSERT INTO conversations (tenant_id, id, user_id, title, metadata, created_at, updated_at)
SELECT %(tenant_id)s, r.id, r.user_id, r.title, r.metadata, r.created_at, r.updated_at
FROM jsonb_populate_recordset(NULL::conversations, %(rows)s) r

-- archive_insert_messages --
INSERT INTO messages (tenant_id, id, conversation_id, position, role, content, model, vector_store_ids,
                      context_used, unused_context, prompt, created_at)
SELECT %(tenant_id)s, r.id, r.conversation_id, r.position, r.role, r.content, r.model, r.vector_store_ids,
       r.context_used, r.unused_context, r.prompt, r.created_at
FROM jsonb_populate_recordset(NULL::messages, %(rows)s) r

-- archive_insert_feedback --
INSERT INTO feedback (tenant_id, id, message_id, conversation_id, rating, comment, created_at, updated_at)
SELECT %(tenant_id)s, r.id, r.message_id, r.conversation_id, r.rating, r.comment, r.created_at, r.updated_at
FROM jsonb_populate_recordset(NULL::feedback, %(rows)s) r

-- archive_insert_training_examples --
INSERT INTO training_examples (tenant_id, id, message_id, conversation_id, source, status, rating, query, answer,
                               messages, context_used, unused_context, vector_store_ids, model, created_at,
                               updated_at)
SELECT %(tenant_id)s, r.id, r.message_id, r.conversation_id, r.source, r.status, r.rating, r.query, r.answer,
       r.messages, r.context_used, r.unused_context, r.vector_store_ids, r.model, r.created_at, r.updated_at
FROM jsonb_populate_recordset(NULL::training_examples, %(rows)s) r

-- archive_insert_datasets --
INSERT INTO datasets (tenant_id, id, name, description, created_at, updated_at)
SELECT %(tenant_id)s, r.id, r.name, r.description, r.created_at, r.updated_at
FROM jsonb_populate_recordset(NULL::datasets, %(rows)s) r

-- archive_insert_dataset_examples --
INSERT INTO dataset_examples (tenant_id, dataset_id, example_id, added_at)
SELECT %(tenant_id)s, r.dataset_id, r.example_id, r.added_at
FROM jsonb_populate_recordset(NULL::dataset_examples, %(rows)s) r

-- archive_recount_lexical_tokens --
-- BM25's per-file totals, from the chunks' lengths as computed here.
UPDATE vector_store_files v
SET lexical_tokens = (SELECT coalesce(sum(c.lexical_length), 0) FROM chunks c
                      WHERE c.tenant_id = v.tenant_id AND c.vector_store_id = v.vector_store_id
                        AND c.file_id = v.file_id)
WHERE v.tenant_id = %(tenant_id)s AND v.vector_store_id = %(store_id)s
