-- Each attach of a file to a store gets its own id, carried by its ingestion job: when a file is attached again
-- while an earlier job still runs, that job finds the row is no longer its own and writes nothing.
ALTER TABLE vector_store_files ADD COLUMN attach_id text NOT NULL DEFAULT md5(random()::text || clock_timestamp()::text);
