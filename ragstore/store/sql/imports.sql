-- Named queries of the importers (ragstore.importers, through ragstore.store.imports).

-- imported_versions --
-- Every imported version of the sources under a key prefix, newest first within a key, with its attachment's status.
SELECT i.source_key, i.file_id, i.fingerprint, i.imported_at, v.status
FROM imported_files i
JOIN vector_store_files v
  ON v.tenant_id = i.tenant_id AND v.vector_store_id = i.vector_store_id AND v.file_id = i.file_id
WHERE i.tenant_id = %(tenant_id)s AND i.vector_store_id = %(vector_store_id)s
  AND starts_with(i.source_key, %(prefix)s)
ORDER BY i.source_key, i.imported_at DESC, i.file_id DESC

-- insert_imported_file --
INSERT INTO imported_files (tenant_id, vector_store_id, file_id, source_key, fingerprint)
VALUES (%(tenant_id)s, %(vector_store_id)s, %(file_id)s, %(source_key)s, %(fingerprint)s)

-- attachment_states --
SELECT file_id, status, chunk_count, last_error_code, last_error_message
FROM vector_store_files
WHERE tenant_id = %(tenant_id)s AND vector_store_id = %(vector_store_id)s AND file_id = ANY (%(file_ids)s)

-- detach_imported_files --
-- Their chunks and import records go with them (ON DELETE CASCADE).
DELETE FROM vector_store_files
WHERE tenant_id = %(tenant_id)s AND vector_store_id = %(vector_store_id)s AND file_id = ANY (%(file_ids)s)
RETURNING file_id

-- delete_unattached_files --
-- The importers' own files, once no store holds them any more.
DELETE FROM files f
WHERE f.tenant_id = %(tenant_id)s AND f.id = ANY (%(file_ids)s)
  AND NOT EXISTS (SELECT FROM vector_store_files v WHERE v.tenant_id = f.tenant_id AND v.file_id = f.id)
