-- BM25 needs each chunk's length in counted terms (stop words excluded) and each store's total, for the average.
ALTER TABLE chunks ADD COLUMN lexical_length integer NOT NULL DEFAULT 0;
UPDATE chunks SET lexical_length = coalesce((SELECT sum(coalesce(array_length(positions, 1), 1))::int
                                             FROM unnest(fts)), 0);
ALTER TABLE vector_store_files ADD COLUMN lexical_tokens bigint NOT NULL DEFAULT 0;
UPDATE vector_store_files v SET lexical_tokens = (
    SELECT coalesce(sum(lexical_length), 0) FROM chunks c
    WHERE c.tenant_id = v.tenant_id AND c.vector_store_id = v.vector_store_id AND c.file_id = v.file_id
);
