-- The seeds' match_documents, as their own code calls it, rows carrying `metadata` (the chunk's attributes):
--   seed 002:  SELECT * FROM match_documents('[...384 floats...]', 0.8, 4);
--   seed 003:  SELECT * FROM match_documents(array_fill(0.1, ARRAY[384])::vector(384), 'ten_default', 0.3, 5);
--              SELECT * FROM match_documents_half(array_fill(0.1, ARRAY[384])::halfvec(384), 'ten_default', 0.3, 5);
--
-- company_id is a ragstore tenant id (ten_..., the default tenant being ten_default; `ragstore tenant list` shows
-- them); NULL means the transaction's tenant (ragstore.tenant_id). The functions are SECURITY INVOKER, as every
-- function here: as the application role, row-level security shows the session's tenant only, so a company id
-- naming another tenant returns no rows. The table owner (no row-level security) reads the named tenant.
--
-- The query is compared with each store's active embedding space: a 384-d query with the stores whose vectors are
-- in chunks.embedding, one of another dimension with the stores re-embedded into a space of that dimension
-- (chunk_vectors). A dimension no store searched has is an error that says so, rather than no rows.
-- similarity is the cosine similarity; filter is matched by containment against the chunk's attributes.

-- Seed 002's call (three arguments) went to 0002's function, whose rows had `attributes` only: now `metadata` too.
DROP FUNCTION match_documents(halfvec, double precision, integer, text[], jsonb);
CREATE FUNCTION match_documents(
    query_embedding   halfvec(384),
    match_threshold   double precision DEFAULT 0,
    match_count       integer DEFAULT 10,
    vector_store_ids  text[] DEFAULT NULL,
    filter            jsonb DEFAULT '{}'
)
RETURNS TABLE (
    id               bigint,
    vector_store_id  text,
    file_id          text,
    content          text,
    attributes       jsonb,
    metadata         jsonb,
    similarity       double precision
)
LANGUAGE sql STABLE
AS $$
    SELECT c.id, c.vector_store_id, c.file_id, c.text, c.attributes, c.attributes,
           1 - (c.embedding <=> query_embedding) AS similarity
    FROM chunks c
    WHERE (vector_store_ids IS NULL OR c.vector_store_id = ANY (vector_store_ids))
      AND c.attributes @> filter
      AND 1 - (c.embedding <=> query_embedding) > match_threshold
    ORDER BY c.embedding <=> query_embedding
    LIMIT match_count
$$;

CREATE FUNCTION match_documents_half(
    query_embedding   halfvec,
    company_id        text,
    match_threshold   double precision DEFAULT 0,
    match_count       integer DEFAULT 10,
    vector_store_ids  text[] DEFAULT NULL,
    filter            jsonb DEFAULT '{}'
)
RETURNS TABLE (
    id               bigint,
    content          text,
    metadata         jsonb,
    similarity       double precision,
    vector_store_id  text,
    file_id          text
)
LANGUAGE plpgsql STABLE SECURITY INVOKER
AS $$
DECLARE
    tenant  text := coalesce(company_id, current_setting('ragstore.tenant_id', true));
    dims    integer := vector_dims(query_embedding);
    known   integer[];
    stores  text[];
    chunked boolean;  -- every store searched keeps its vectors in chunks.embedding
    q384    halfvec(384);
BEGIN
    SELECT array_agg(DISTINCT coalesce(sp.dimension, s.embedding_dim)), array_agg(s.id),
           bool_and(coalesce(sp.location, 'chunks') = 'chunks')
    INTO known, stores, chunked
    FROM vector_stores s
    LEFT JOIN embedding_spaces sp ON sp.tenant_id = s.tenant_id AND sp.id = s.active_space_id
    WHERE s.tenant_id = tenant AND (vector_store_ids IS NULL OR s.id = ANY (vector_store_ids));
    IF known IS NOT NULL AND NOT dims = ANY (known) THEN
        RAISE EXCEPTION 'query_embedding has % dimensions; the vector stores searched have %', dims,
            array_to_string(known, ', ') USING ERRCODE = 'data_exception';
    END IF;

    IF dims = 384 AND chunked THEN
        -- The common case, as ragstore's own search runs it: the HNSW index of the tenant's partition serves the
        -- ordering (the caller may make its scan iterative, hnsw.iterative_scan); the outer query restores the
        -- exact order and applies the threshold, which keeps the top match_count of those above it.
        q384 := query_embedding;
        RETURN QUERY
        SELECT hit.id, hit.text, hit.attributes, 1 - hit.distance, hit.vector_store_id, hit.file_id
        FROM (
            SELECT c.id, c.text, c.attributes, c.vector_store_id, c.file_id, c.embedding <=> q384 AS distance
            FROM chunks c
            -- no filter: no condition, which the planner would otherwise estimate to keep 1% of the rows
            WHERE c.tenant_id = tenant AND c.vector_store_id = ANY (stores)
              AND (filter = '{}'::jsonb OR c.attributes @> filter)
            ORDER BY c.embedding <=> q384
            LIMIT match_count
        ) hit
        WHERE 1 - hit.distance > match_threshold
        ORDER BY hit.distance, hit.id;
        RETURN;
    END IF;

    -- Stores re-embedded into chunk_vectors (another dimension, or another 384-d model): compared exactly.
    RETURN QUERY
    WITH spaces AS (  -- the stores searched: where each one's active space keeps its vectors, and their dimension
        SELECT s.id AS store_id, sp.id AS space_id, coalesce(sp.location, 'chunks') = 'chunks' AS in_chunks,
               coalesce(sp.dimension, s.embedding_dim) AS dimension
        FROM vector_stores s
        LEFT JOIN embedding_spaces sp ON sp.tenant_id = s.tenant_id AND sp.id = s.active_space_id
        WHERE s.tenant_id = tenant AND (vector_store_ids IS NULL OR s.id = ANY (vector_store_ids))
    )
    SELECT hit.id, hit.text, hit.attributes, 1 - hit.distance, hit.vector_store_id, hit.file_id
    FROM (
        SELECT c.id, c.text, c.attributes, c.vector_store_id, c.file_id,
               -- CASE: a vector of another dimension is never compared (pgvector would raise).
               CASE WHEN dims = 384 THEN c.embedding <=> query_embedding END AS distance
        FROM chunks c JOIN spaces m ON m.store_id = c.vector_store_id AND m.in_chunks
        WHERE c.tenant_id = tenant AND c.attributes @> filter AND c.embedding IS NOT NULL
        UNION ALL
        SELECT c.id, c.text, c.attributes, c.vector_store_id, c.file_id,
               CASE WHEN vector_dims(v.embedding) = dims THEN v.embedding <=> query_embedding END
        FROM spaces m
        JOIN chunk_vectors v ON v.space_id = m.space_id AND NOT m.in_chunks
        JOIN chunks c ON c.tenant_id = v.tenant_id AND c.id = v.chunk_id
        WHERE v.tenant_id = tenant AND c.tenant_id = tenant AND c.attributes @> filter
    ) hit
    WHERE 1 - hit.distance > match_threshold
    ORDER BY hit.distance, hit.id
    LIMIT match_count;
END
$$;

CREATE FUNCTION match_documents(
    query_embedding   vector,
    company_id        text,
    match_threshold   double precision DEFAULT 0,
    match_count       integer DEFAULT 10,
    vector_store_ids  text[] DEFAULT NULL,
    filter            jsonb DEFAULT '{}'
)
RETURNS TABLE (
    id               bigint,
    content          text,
    metadata         jsonb,
    similarity       double precision,
    vector_store_id  text,
    file_id          text
)
LANGUAGE sql STABLE SECURITY INVOKER
AS $$
    SELECT * FROM match_documents_half(query_embedding::halfvec, company_id, match_threshold, match_count,
                                       vector_store_ids, filter)
$$;

-- The file batches of a store, newest first (GET /v1/vector_stores/{id}/file_batches).
CREATE INDEX file_batches_by_store ON file_batches (tenant_id, vector_store_id, created_at, id);
