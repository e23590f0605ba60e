-- What the importers brought in: one row per imported attachment, naming where it came from (a file's path, a JSON
-- document's id, a ChromaDB record, a CSV row) and a fingerprint of what was imported. Re-running an import compares
-- fingerprints: an unchanged source is skipped, a changed one replaces its older version. Several rows may share a
-- source key for a moment (a new version being ingested while the old one still serves searches).
CREATE TABLE imported_files (
    tenant_id        text NOT NULL,
    vector_store_id  text NOT NULL,
    file_id          text NOT NULL,
    source_key       text NOT NULL,
    fingerprint      text NOT NULL,
    imported_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, vector_store_id, file_id),
    -- Detaching or deleting the file forgets its import, so that importing again brings it back.
    FOREIGN KEY (tenant_id, vector_store_id, file_id) REFERENCES vector_store_files ON DELETE CASCADE
);
CREATE INDEX imported_files_by_key ON imported_files (tenant_id, vector_store_id, source_key);

GRANT SELECT, INSERT, UPDATE, DELETE ON imported_files TO ragstore_app;
ALTER TABLE imported_files ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON imported_files
    USING (tenant_id = current_setting('ragstore.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('ragstore.tenant_id', true));
