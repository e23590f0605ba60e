-- Tenants and their API keys; every tenant transaction starts with enter_tenant.

-- enter_tenant --
-- The start of every tenant transaction: the application role, which row-level security holds to this tenant.
SELECT set_config('role', 'ragstore_app', true), set_config('ragstore.tenant_id', %(tenant_id)s, true)

-- insert_tenant --
INSERT INTO tenants (id, name) VALUES (%(id)s, %(name)s) ON CONFLICT (name) DO NOTHING
RETURNING id, name, created_at

-- find_tenant --
SELECT id, name, created_at FROM tenants WHERE id = %(key)s OR name = %(key)s ORDER BY (id = %(key)s) DESC LIMIT 1

-- list_tenants --
SELECT t.id, t.name, t.created_at,
       (SELECT count(*) FROM vector_stores v WHERE v.tenant_id = t.id) AS vector_stores,
       (SELECT count(*) FROM files f WHERE f.tenant_id = t.id) AS files,
       (SELECT count(*) FROM api_keys k WHERE k.tenant_id = t.id AND k.revoked_at IS NULL) AS active_keys
FROM tenants t ORDER BY t.created_at, t.id

-- insert_api_key --
INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash)
VALUES (%(id)s, %(tenant_id)s, %(name)s, %(prefix)s, %(key_hash)s)
RETURNING id, tenant_id, name, prefix, created_at, last_used_at, revoked_at

-- list_api_keys --
SELECT id, tenant_id, name, prefix, created_at, last_used_at, revoked_at
FROM api_keys WHERE (%(tenant_id)s::text IS NULL OR tenant_id = %(tenant_id)s) ORDER BY created_at, id

-- revoke_api_key --
UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = %(id)s
RETURNING id, tenant_id, name, prefix, created_at, last_used_at, revoked_at

-- key_owner --
-- The live key with this hash; last_used_at is written at most once a minute per key.
WITH used AS (
    UPDATE api_keys SET last_used_at = now()
    WHERE key_hash = %(key_hash)s AND revoked_at IS NULL
      AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
)
SELECT id, tenant_id FROM api_keys WHERE key_hash = %(key_hash)s AND revoked_at IS NULL
