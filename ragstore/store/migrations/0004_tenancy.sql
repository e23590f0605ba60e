-- Many companies in one database: API keys, chunks partitioned by tenant, and row-level security.
--
-- The application does tenant work as the role ragstore_app (no BYPASSRLS), inside transactions that set
-- ragstore.tenant_id (see store/db.py, Database.tenant): every policy below compares rows with that setting, so a
-- query that forgets its tenant condition sees nothing rather than another company's rows. The owner of the
-- tables (the URL's user) does the system work: migrations, the job queue, API-key lookups, administration.

CREATE TABLE api_keys (
    id            text PRIMARY KEY,
    tenant_id     text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name          text NOT NULL,
    prefix        text NOT NULL,          -- the key's first characters, to recognise it in lists
    key_hash      text NOT NULL UNIQUE,   -- sha256 of the key: the key itself is shown once and never stored
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id);

-- Chunks, hash-partitioned by tenant: a tenant's queries prune to one partition, with its own HNSW and GIN indexes.
CREATE SEQUENCE chunk_ids;
SELECT setval('chunk_ids', coalesce((SELECT max(id) FROM chunks), 0) + 1, false);

CREATE TABLE chunks_by_tenant (
    tenant_id        text NOT NULL,
    id               bigint NOT NULL DEFAULT nextval('chunk_ids'),
    vector_store_id  text NOT NULL,
    file_id          text NOT NULL,
    chunk_index      integer NOT NULL,
    page             integer,
    text             text NOT NULL,
    token_count      integer NOT NULL,
    attributes       jsonb NOT NULL DEFAULT '{}',
    doc_metadata     jsonb NOT NULL DEFAULT '{}',
    content_hash     text NOT NULL,
    embedding        halfvec(384) NOT NULL,
    fts              tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED,
    CONSTRAINT chunks_by_tenant_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT chunks_by_tenant_position UNIQUE (tenant_id, vector_store_id, file_id, chunk_index),
    FOREIGN KEY (tenant_id, vector_store_id, file_id) REFERENCES vector_store_files ON DELETE CASCADE
) PARTITION BY HASH (tenant_id);
ALTER SEQUENCE chunk_ids OWNED BY chunks_by_tenant.id;

DO $$
DECLARE
    partitions integer := coalesce(nullif(current_setting('ragstore.chunk_partitions', true), ''), '16')::integer;
BEGIN
    FOR i IN 0 .. partitions - 1 LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF chunks_by_tenant FOR VALUES WITH (MODULUS %s, REMAINDER %s)',
                       'chunks_p' || lpad(i::text, 2, '0'), partitions, i);
    END LOOP;
END $$;

INSERT INTO chunks_by_tenant (tenant_id, id, vector_store_id, file_id, chunk_index, page, text, token_count, attributes,
                              doc_metadata, content_hash, embedding)
SELECT tenant_id, id, vector_store_id, file_id, chunk_index, page, text, token_count, attributes, doc_metadata,
       content_hash, embedding
FROM chunks;
DROP TABLE chunks;
ALTER TABLE chunks_by_tenant RENAME TO chunks;
ALTER TABLE chunks RENAME CONSTRAINT chunks_by_tenant_pkey TO chunks_pkey;
ALTER TABLE chunks RENAME CONSTRAINT chunks_by_tenant_position TO chunks_position;
-- Built after the copy (faster); created on the parent, so every partition gets its own.
CREATE INDEX chunks_embedding ON chunks USING hnsw (embedding halfvec_cosine_ops);
CREATE INDEX chunks_fts ON chunks USING gin (fts);
CREATE INDEX chunks_attributes ON chunks USING gin (attributes jsonb_path_ops);

-- Sizes and upkeep of each partition (seed 003's partition_stats).
CREATE VIEW partition_stats AS
SELECT child.relname AS partition,
       coalesce(s.n_live_tup, 0) AS live_rows,
       coalesce(s.n_dead_tup, 0) AS dead_rows,
       pg_table_size(child.oid) AS table_bytes,
       pg_indexes_size(child.oid) AS index_bytes,
       greatest(s.last_vacuum, s.last_autovacuum) AS last_vacuum,
       greatest(s.last_analyze, s.last_autoanalyze) AS last_analyze
FROM pg_inherits i
JOIN pg_class parent ON parent.oid = i.inhparent AND parent.relname = 'chunks'
JOIN pg_class child ON child.oid = i.inhrelid
LEFT JOIN pg_stat_user_tables s ON s.relid = child.oid;

-- The application role and its policies.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ragstore_app') THEN
        CREATE ROLE ragstore_app NOLOGIN NOBYPASSRLS;
    END IF;
END $$;
GRANT ragstore_app TO CURRENT_USER;
GRANT USAGE ON SCHEMA public TO ragstore_app;
GRANT SELECT, INSERT, UPDATE, DELETE
    ON files, file_parts, vector_stores, file_batches, vector_store_files, chunks, jobs TO ragstore_app;
GRANT USAGE ON SEQUENCE chunk_ids, jobs_id_seq TO ragstore_app;

DO $$
DECLARE
    owned text;
BEGIN
    FOREACH owned IN ARRAY ARRAY['files', 'file_parts', 'vector_stores', 'file_batches', 'vector_store_files',
                                 'chunks', 'jobs'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', owned);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I '
                       'USING (tenant_id = current_setting(''ragstore.tenant_id'', true)) '
                       'WITH CHECK (tenant_id = current_setting(''ragstore.tenant_id'', true))', owned);
    END LOOP;
END $$;
