-- The core schema: tenants, files and their bytes, vector stores, their files and batches, chunks, jobs.
-- Every tenant-owned table carries tenant_id and leads its primary key with it, so that the schema can be
-- partitioned or distributed by tenant later without changing queries.

CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE tenants (
    id          text PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Used until API keys arrive.
INSERT INTO tenants (id, name) VALUES ('ten_default', 'default');

CREATE TABLE files (
    tenant_id   text NOT NULL REFERENCES tenants (id),
    id          text NOT NULL,
    filename    text NOT NULL,
    purpose     text NOT NULL,
    bytes       bigint NOT NULL CHECK (bytes >= 0),
    sha256      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX files_by_created ON files (tenant_id, created_at, id);

-- File bytes are kept in the database in parts, so that a worker on any machine can read them and an upload is
-- streamed in and out, never held whole in memory.
CREATE TABLE file_parts (
    tenant_id   text NOT NULL,
    file_id     text NOT NULL,
    seq         integer NOT NULL,
    data        bytea NOT NULL,
    PRIMARY KEY (tenant_id, file_id, seq),
    FOREIGN KEY (tenant_id, file_id) REFERENCES files ON DELETE CASCADE
);
-- PDF and DOCX are compressed already; TOAST compression would only burn CPU.
ALTER TABLE file_parts ALTER COLUMN data SET STORAGE EXTERNAL;

CREATE TABLE vector_stores (
    tenant_id        text NOT NULL REFERENCES tenants (id),
    id               text NOT NULL,
    name             text NOT NULL DEFAULT '',
    description      text,
    metadata         jsonb,
    embedding_model  text NOT NULL,
    embedding_dim    integer NOT NULL,
    expires_after    jsonb,
    expires_at       timestamptz,
    last_active_at   timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX vector_stores_by_name ON vector_stores (tenant_id, name);
CREATE INDEX vector_stores_by_created ON vector_stores (tenant_id, created_at, id);

CREATE TABLE file_batches (
    tenant_id        text NOT NULL,
    id               text NOT NULL,
    vector_store_id  text NOT NULL,
    cancelled        boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, vector_store_id) REFERENCES vector_stores ON DELETE CASCADE
);

CREATE TABLE vector_store_files (
    tenant_id             text NOT NULL,
    vector_store_id       text NOT NULL,
    file_id               text NOT NULL,
    batch_id              text,
    status                text NOT NULL DEFAULT 'in_progress'
                          CHECK (status IN ('in_progress', 'completed', 'cancelled', 'failed')),
    chunk_size_tokens     integer NOT NULL,
    chunk_overlap_tokens  integer NOT NULL,
    attributes            jsonb,
    usage_bytes           bigint NOT NULL DEFAULT 0,
    last_error_code       text,
    last_error_message    text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, vector_store_id, file_id),
    FOREIGN KEY (tenant_id, vector_store_id) REFERENCES vector_stores ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, file_id) REFERENCES files ON DELETE CASCADE
);
CREATE INDEX vector_store_files_by_batch ON vector_store_files (tenant_id, batch_id) WHERE batch_id IS NOT NULL;
CREATE INDEX vector_store_files_by_file ON vector_store_files (tenant_id, file_id);

CREATE TABLE chunks (
    tenant_id        text NOT NULL,
    id               bigint GENERATED ALWAYS AS IDENTITY,
    vector_store_id  text NOT NULL,
    file_id          text NOT NULL,
    chunk_index      integer NOT NULL,
    page             integer,
    text             text NOT NULL,
    token_count      integer NOT NULL,
    attributes       jsonb NOT NULL DEFAULT '{}',
    content_hash     text NOT NULL,
    embedding        halfvec(384) NOT NULL,
    fts              tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, vector_store_id, file_id, chunk_index),
    FOREIGN KEY (tenant_id, vector_store_id, file_id) REFERENCES vector_store_files ON DELETE CASCADE
);
CREATE INDEX chunks_embedding ON chunks USING hnsw (embedding halfvec_cosine_ops);
CREATE INDEX chunks_fts ON chunks USING gin (fts);
CREATE INDEX chunks_attributes ON chunks USING gin (attributes jsonb_path_ops);

-- Durable jobs. A worker claims a job with FOR UPDATE SKIP LOCKED and holds a session advisory lock on its id
-- while it runs: a 'running' job whose lock is free belongs to a dead worker and is queued again.
CREATE TABLE jobs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     text NOT NULL REFERENCES tenants (id),
    kind          text NOT NULL,
    args          jsonb NOT NULL,
    status        text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempts      integer NOT NULL DEFAULT 0,
    max_attempts  integer NOT NULL DEFAULT 3,
    run_after     timestamptz NOT NULL DEFAULT now(),
    worker        text,
    last_error    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_queued ON jobs (run_after, id) WHERE status = 'queued';
CREATE INDEX jobs_running ON jobs (id) WHERE status = 'running';
