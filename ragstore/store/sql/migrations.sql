-- Schema bookkeeping of ragstore.store.migrate, and the server's versions checked at connect (store.db).

-- create_schema_migrations --
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)

-- applied_migrations --
SELECT version FROM schema_migrations ORDER BY version

-- record_migration --
INSERT INTO schema_migrations (version, name) VALUES (%(version)s, %(name)s)

-- server_versions --
SELECT current_setting('server_version_num')::int AS server_version_num,
       current_setting('server_version') AS server_version,
       (SELECT default_version FROM pg_available_extensions WHERE name = 'vector') AS pgvector_available,
       (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS pgvector_installed
