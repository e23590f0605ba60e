-- File batches: files attached to a store together, counted and cancelled together.

-- insert_file_batch --
INSERT INTO file_batches (tenant_id, id, vector_store_id) VALUES (%(tenant_id)s, %(id)s, %(vector_store_id)s)

-- get_file_batch --
SELECT b.id, b.vector_store_id, b.cancelled AS cancel_requested, b.created_at,
       count(v.file_id) FILTER (WHERE v.status = 'in_progress') AS in_progress,
       count(v.file_id) FILTER (WHERE v.status = 'completed') AS completed,
       count(v.file_id) FILTER (WHERE v.status = 'failed') AS failed,
       count(v.file_id) FILTER (WHERE v.status = 'cancelled') AS cancelled,
       count(v.file_id) AS total
FROM file_batches b
LEFT JOIN vector_store_files v ON v.tenant_id = b.tenant_id AND v.batch_id = b.id
WHERE b.tenant_id = %(tenant_id)s AND b.vector_store_id = %(vector_store_id)s AND b.id = %(id)s
GROUP BY b.id, b.vector_store_id, b.cancelled, b.created_at

-- batch_file_counts --
SELECT count(*) FILTER (WHERE status = 'in_progress') AS in_progress,
       count(*) FILTER (WHERE status = 'completed') AS completed,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
       count(*) AS total
FROM vector_store_files WHERE tenant_id = %(tenant_id)s AND batch_id = %(batch_id)s

-- batch_failures --
SELECT f.filename, vsf.last_error_code, vsf.last_error_message
FROM vector_store_files vsf JOIN files f ON f.tenant_id = vsf.tenant_id AND f.id = vsf.file_id
WHERE vsf.tenant_id = %(tenant_id)s AND vsf.batch_id = %(batch_id)s AND vsf.status = 'failed'
ORDER BY f.filename

-- cancel_file_batch --
-- A batch whose files are all done stays as it is.
WITH batch AS (
    UPDATE file_batches b SET cancelled = true
    WHERE b.tenant_id = %(tenant_id)s AND b.vector_store_id = %(vector_store_id)s AND b.id = %(id)s
      AND EXISTS (SELECT FROM vector_store_files v
                  WHERE v.tenant_id = b.tenant_id AND v.batch_id = b.id AND v.status = 'in_progress')
    RETURNING id
)
UPDATE vector_store_files SET status = 'cancelled', updated_at = now()
WHERE tenant_id = %(tenant_id)s AND batch_id IN (SELECT id FROM batch) AND status = 'in_progress'

-- list_file_batches --
-- One page of a store's batches (by created_at, id), then each one's file counts.
WITH page AS (
    SELECT b.tenant_id, b.id, b.vector_store_id, b.cancelled, b.created_at
    FROM file_batches b
    WHERE b.tenant_id = %(tenant_id)s AND b.vector_store_id = %(vector_store_id)s
      AND (%(cursor_at)s::timestamptz IS NULL OR (b.created_at, b.id) {cmp} (%(cursor_at)s, %(cursor_id)s))
    ORDER BY b.created_at {direction}, b.id {direction}
    LIMIT %(limit)s
)
SELECT p.id, p.vector_store_id, p.cancelled AS cancel_requested, p.created_at,
       count(v.file_id) FILTER (WHERE v.status = 'in_progress') AS in_progress,
       count(v.file_id) FILTER (WHERE v.status = 'completed') AS completed,
       count(v.file_id) FILTER (WHERE v.status = 'failed') AS failed,
       count(v.file_id) FILTER (WHERE v.status = 'cancelled') AS cancelled,
       count(v.file_id) AS total
FROM page p
LEFT JOIN vector_store_files v ON v.tenant_id = p.tenant_id AND v.batch_id = p.id
GROUP BY p.id, p.vector_store_id, p.cancelled, p.created_at
ORDER BY p.created_at {direction}, p.id {direction}

-- file_batch_status_counts --
-- A tenant's batches by status, decided as models.FileBatch.status decides it.
SELECT status, count(*) AS n
FROM (
    SELECT CASE WHEN count(*) FILTER (WHERE v.status = 'in_progress') > 0 THEN 'in_progress'
                WHEN b.cancelled THEN 'cancelled'
                WHEN count(v.file_id) > 0 AND count(*) FILTER (WHERE v.status = 'failed') = count(v.file_id)
                    THEN 'failed'
                ELSE 'completed' END AS status
    FROM file_batches b
    LEFT JOIN vector_store_files v ON v.tenant_id = b.tenant_id AND v.batch_id = b.id
    WHERE b.tenant_id = %(tenant_id)s
    GROUP BY b.id, b.cancelled
) batches
GROUP BY status
