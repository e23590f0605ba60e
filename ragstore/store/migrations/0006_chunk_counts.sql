-- How many chunks each attached file has, kept on completion: search chooses an exact scan for small stores.
ALTER TABLE vector_store_files ADD COLUMN chunk_count integer NOT NULL DEFAULT 0;
UPDATE vector_store_files v SET chunk_count = (
    SELECT count(*) FROM chunks c
    WHERE c.tenant_id = v.tenant_id AND c.vector_store_id = v.vector_store_id AND c.file_id = v.file_id
);
