-- Uploaded files and their bytes. Files page by id (ids sort by creation time); the comparison and direction
-- are set by store.pages.

-- insert_file --
INSERT INTO files (tenant_id, id, filename, purpose, bytes, sha256, expires_at)
VALUES (%(tenant_id)s, %(id)s, %(filename)s, %(purpose)s, %(bytes)s, %(sha256)s,
        now() + make_interval(secs => %(expires_after_seconds)s))
RETURNING id, filename, purpose, bytes, sha256, created_at, expires_at

-- insert_file_part --
INSERT INTO file_parts (tenant_id, file_id, seq, data) VALUES (%(tenant_id)s, %(file_id)s, %(seq)s, %(data)s)

-- get_file --
SELECT id, filename, purpose, bytes, sha256, created_at, expires_at
FROM files WHERE tenant_id = %(tenant_id)s AND id = %(id)s

-- file_parts --
SELECT data FROM file_parts WHERE tenant_id = %(tenant_id)s AND file_id = %(file_id)s ORDER BY seq

-- set_file_digest --
UPDATE files SET bytes = %(bytes)s, sha256 = %(sha256)s WHERE tenant_id = %(tenant_id)s AND id = %(id)s
RETURNING id, filename, purpose, bytes, sha256, created_at, expires_at

-- list_files --
SELECT id, filename, purpose, bytes, sha256, created_at, expires_at
FROM files
WHERE tenant_id = %(tenant_id)s AND (%(purpose)s::text IS NULL OR purpose = %(purpose)s)
  AND (%(cursor_id)s::text IS NULL OR id {cmp} %(cursor_id)s)
ORDER BY id {direction}
LIMIT %(limit)s

-- delete_file --
DELETE FROM files WHERE tenant_id = %(tenant_id)s AND id = %(id)s RETURNING id

-- delete_expired_files --
DELETE FROM files WHERE expires_at <= now() RETURNING tenant_id, id
