-- Stores can be listed by last activity with keyset pagination on (last_active_at, id). Every store gets a value
-- (its creation time if it never had one, now() by default), so that the row comparison never meets a NULL.
UPDATE vector_stores SET last_active_at = created_at WHERE last_active_at IS NULL;
ALTER TABLE vector_stores ALTER COLUMN last_active_at SET DEFAULT now();
ALTER TABLE vector_stores ALTER COLUMN last_active_at SET NOT NULL;
CREATE INDEX vector_stores_by_activity ON vector_stores (tenant_id, last_active_at, id);
