-- Embedding spaces: a store's embeddings by another model, built alongside, switched to atomically.

-- space_columns --
s.id, s.vector_store_id, s.model, s.dimension, s.base_url, s.api_key_env, s.location, s.state, s.created_at,
s.switched_at, s.provider_id

-- spaces_of_store --
SELECT {columns} FROM embedding_spaces s
WHERE s.tenant_id = %(tenant_id)s AND s.vector_store_id = %(store_id)s
ORDER BY s.created_at, s.id

-- get_space --
SELECT {columns} FROM embedding_spaces s WHERE s.tenant_id = %(tenant_id)s AND s.id = %(id)s

-- insert_space --
INSERT INTO embedding_spaces (tenant_id, id, vector_store_id, model, dimension, base_url, api_key_env, location, state,
                              provider_id)
VALUES (%(tenant_id)s, %(id)s, %(store_id)s, %(model)s, %(dimension)s, %(base_url)s, %(api_key_env)s, %(location)s,
        %(state)s, %(provider_id)s)

-- set_space_state --
UPDATE embedding_spaces
SET state = %(state)s, switched_at = CASE WHEN %(state)s = 'active' THEN now() ELSE switched_at END
WHERE tenant_id = %(tenant_id)s AND id = %(id)s

-- delete_space --
DELETE FROM embedding_spaces WHERE tenant_id = %(tenant_id)s AND id = %(id)s

-- set_active_space --
-- The switch itself: the store's model, dimension, provider and active space change in one row.
UPDATE vector_stores
SET active_space_id = %(space_id)s, embedding_model = %(model)s, embedding_dim = %(dimension)s,
    provider_id = %(provider_id)s
WHERE tenant_id = %(tenant_id)s AND id = %(store_id)s

-- lock_store_spaces --
SELECT id FROM vector_stores WHERE tenant_id = %(tenant_id)s AND id = %(store_id)s FOR UPDATE

-- chunks_missing_vectors --
SELECT c.id, c.text
FROM chunks c
WHERE c.tenant_id = %(tenant_id)s AND c.vector_store_id = %(store_id)s
  AND NOT EXISTS (SELECT FROM chunk_vectors v
                  WHERE v.tenant_id = c.tenant_id AND v.space_id = %(space_id)s AND v.chunk_id = c.id)
ORDER BY c.id
LIMIT %(limit)s

-- count_missing_vectors --
SELECT count(*) AS n
FROM chunks c
WHERE c.tenant_id = %(tenant_id)s AND c.vector_store_id = %(store_id)s
  AND NOT EXISTS (SELECT FROM chunk_vectors v
                  WHERE v.tenant_id = c.tenant_id AND v.space_id = %(space_id)s AND v.chunk_id = c.id)

-- insert_vector --
INSERT INTO chunk_vectors (tenant_id, space_id, chunk_id, embedding)
VALUES (%(tenant_id)s, %(space_id)s, %(chunk_id)s, %(embedding)s)
ON CONFLICT DO NOTHING

-- clear_primary_embeddings --
UPDATE chunks SET embedding = NULL WHERE tenant_id = %(tenant_id)s AND vector_store_id = %(store_id)s

-- sample_chunk_texts --
-- Every n-th chunk of the store, in id order: a deterministic sample of queries for quality reports.
SELECT text FROM (
    SELECT c.text, row_number() OVER (ORDER BY c.id) AS r FROM chunks c
    WHERE c.tenant_id = %(tenant_id)s AND c.vector_store_id = %(store_id)s
) numbered
WHERE r %% %(every)s = 0
ORDER BY r
LIMIT %(limit)s

-- create_space_index --
-- m and ef_construction come from spaces.HNSW_M and HNSW_EF_CONSTRUCTION, as chunks_embedding's (migration 0014).
CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON chunk_vectors
USING hnsw ((embedding::halfvec({dimension})) halfvec_cosine_ops) WITH (m = {m}, ef_construction = {ef_construction})
WHERE space_id = {space_id}

-- build_memory --
-- What an index build of the session may use now.
SELECT current_setting('maintenance_work_mem') AS value

-- raise_build_memory_for_space --
-- For this session: maintenance_work_mem raised to what the space's graph needs, as migration 0014 sizes it (2 bytes a
-- dimension and 1,280 more per vector, 16MB more, at most 4GB); never lowered. pgvector builds fast only while the graph
-- fits in it.
SELECT set_config('maintenance_work_mem',
                  greatest(pg_size_bytes(current_setting('maintenance_work_mem')),
                           least(count(*) * (2 * %(dimension)s + 1280) + pg_size_bytes('16MB'), pg_size_bytes('4GB')))
                  / 1024 || 'kB', false)
FROM chunk_vectors
WHERE space_id = %(space_id)s

-- set_build_memory --
SELECT set_config('maintenance_work_mem', %(value)s, false)

-- drop_space_index --
DROP INDEX CONCURRENTLY IF EXISTS {name}

-- active_space_of_store --
-- The space a store is searched in (none: chunks.embedding of a store that has no space rows).
SELECT {columns} FROM vector_stores vs
JOIN embedding_spaces s ON s.tenant_id = vs.tenant_id AND s.id = vs.active_space_id
WHERE vs.tenant_id = %(tenant_id)s AND vs.id = %(store_id)s
