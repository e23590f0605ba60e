-- Chunks written and read outside search (search statements are in search.sql).

-- insert_chunk --
INSERT INTO chunks (tenant_id, vector_store_id, file_id, chunk_index, page, text, token_count, attributes,
                    doc_metadata, content_hash, embedding, fts, lexical_length)
VALUES (%(tenant_id)s, %(vector_store_id)s, %(file_id)s, %(chunk_index)s, %(page)s, %(text)s, %(token_count)s,
        %(attributes)s, %(doc_metadata)s, %(content_hash)s, %(embedding)s,
        to_tsvector(%(language)s::regconfig, %(text)s),
        (SELECT coalesce(sum(coalesce(array_length(positions, 1), 1)), 0)::int
         FROM unnest(to_tsvector(%(language)s::regconfig, %(text)s))))
RETURNING id

-- delete_file_chunks --
DELETE FROM chunks
WHERE tenant_id = %(tenant_id)s AND vector_store_id = %(vector_store_id)s AND file_id = %(file_id)s

-- file_chunk_texts --
SELECT text FROM chunks
WHERE tenant_id = %(tenant_id)s AND vector_store_id = %(vector_store_id)s AND file_id = %(file_id)s
ORDER BY chunk_index

-- file_chunks --
SELECT chunk_index, page, text, token_count FROM chunks
WHERE tenant_id = %(tenant_id)s AND vector_store_id = %(vector_store_id)s AND file_id = %(file_id)s
ORDER BY chunk_index

-- store_chunk_count --
SELECT coalesce(sum(chunk_count), 0)::bigint AS n FROM vector_store_files
WHERE tenant_id = %(tenant_id)s AND vector_store_id = ANY (%(store_ids)s) AND status = 'completed'
