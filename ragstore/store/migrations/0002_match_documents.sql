-- The Supabase-style RPC from the seeds, for users who query the database directly:
--   SELECT * FROM match_documents('[0.1, ...]', 0.3, 5);
-- similarity is the cosine similarity; filter is matched by containment against the chunk's attributes.
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
    similarity       double precision
)
LANGUAGE sql STABLE
AS $$
    SELECT c.id, c.vector_store_id, c.file_id, c.text, c.attributes,
           1 - (c.embedding <=> query_embedding) AS similarity
    FROM chunks c
    WHERE (vector_store_ids IS NULL OR c.vector_store_id = ANY (vector_store_ids))
      AND c.attributes @> filter
      AND 1 - (c.embedding <=> query_embedding) > match_threshold
    ORDER BY c.embedding <=> query_embedding
    LIMIT match_count
$$;
