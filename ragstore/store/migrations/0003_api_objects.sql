-- What the OpenAI-compatible API needs beyond the core slice.

-- A chunk's own document metadata (e.g. a JSON document's fields), kept apart from its file's attributes so that
-- updating the attributes can rebuild `attributes` as doc_metadata || new attributes.
ALTER TABLE chunks ADD COLUMN doc_metadata jsonb NOT NULL DEFAULT '{}';

ALTER TABLE vector_store_files ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX vector_store_files_by_created ON vector_store_files (tenant_id, vector_store_id, created_at, file_id);
CREATE INDEX vector_stores_expiring ON vector_stores (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX files_expiring ON files (expires_at) WHERE expires_at IS NOT NULL;
