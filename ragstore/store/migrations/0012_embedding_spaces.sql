-- Re-embedding a store with another model (of any dimension), online.
--
-- A store's embeddings live in "spaces": its first one in chunks.embedding (location 'chunks'), any later one in
-- chunk_vectors (location 'vectors', one untyped halfvec per chunk and space, with a partial HNSW index per space
-- on the expression embedding::halfvec(dimension), created when the space is built). Searches use the store's
-- active space; a space being built is written alongside by ingestion, and switching is one UPDATE.

CREATE TABLE embedding_spaces (
    tenant_id        text NOT NULL,
    id               text NOT NULL,
    vector_store_id  text NOT NULL,
    model            text NOT NULL,
    dimension        integer NOT NULL CHECK (dimension BETWEEN 1 AND 4000),
    base_url         text,
    api_key_env      text,
    location         text NOT NULL CHECK (location IN ('chunks', 'vectors')),
    state            text NOT NULL CHECK (state IN ('building', 'ready', 'active', 'previous', 'dropped')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    switched_at      timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, vector_store_id) REFERENCES vector_stores (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX embedding_spaces_one_active ON embedding_spaces (tenant_id, vector_store_id) WHERE state = 'active';

CREATE TABLE chunk_vectors (
    tenant_id        text NOT NULL,
    space_id         text NOT NULL,
    chunk_id         bigint NOT NULL,
    embedding        halfvec NOT NULL,
    PRIMARY KEY (tenant_id, space_id, chunk_id),
    FOREIGN KEY (tenant_id, space_id) REFERENCES embedding_spaces (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, chunk_id) REFERENCES chunks (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX chunk_vectors_by_chunk ON chunk_vectors (tenant_id, chunk_id);

-- NULL: the store searches chunks.embedding, as every store did before.
ALTER TABLE vector_stores ADD COLUMN active_space_id text;
-- A store's first space may be dropped after a switch, which empties chunks.embedding for its chunks.
ALTER TABLE chunks ALTER COLUMN embedding DROP NOT NULL;

GRANT SELECT, INSERT, UPDATE, DELETE ON embedding_spaces, chunk_vectors TO ragstore_app;

DO $$
DECLARE
    owned text;
BEGIN
    FOREACH owned IN ARRAY ARRAY['embedding_spaces', 'chunk_vectors'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', owned);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I '
                       'USING (tenant_id = current_setting(''ragstore.tenant_id'', true)) '
                       'WITH CHECK (tenant_id = current_setting(''ragstore.tenant_id'', true))', owned);
    END LOOP;
END $$;
