-- Any embedding model per store, from its creation (issue 18): a store may be created in a space of its own
-- (chunk_vectors, any dimension up to 4,000), served by a named endpoint of RAGSTORE_EMBEDDING_PROVIDERS.
--
-- provider_id names that endpoint ('local': the server's own model; NULL: an endpoint given by URL alone, as
-- `ragstore reembed --base-url` records it). A store carries its active space's provider, beside its model and
-- dimension.

ALTER TABLE embedding_spaces ADD COLUMN provider_id text;
UPDATE embedding_spaces SET provider_id = 'local' WHERE base_url IS NULL;

ALTER TABLE vector_stores ADD COLUMN provider_id text DEFAULT 'local';
UPDATE vector_stores vs SET provider_id = s.provider_id
FROM embedding_spaces s
WHERE s.tenant_id = vs.tenant_id AND s.id = vs.active_space_id;
