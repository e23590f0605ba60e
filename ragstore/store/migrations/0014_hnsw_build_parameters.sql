-- HNSW graphs built with m = 24, ef_construction = 128 instead of pgvector's defaults (16, 64): chunks_embedding, and
-- each embedding space's index on chunk_vectors. On 1M clustered 384-d vectors, recall@10 at hnsw.ef_search 100 goes
-- from 0.87 to 0.97 (ragstore's search over every store: 0.86 to 0.97; over a 10% store: 0.90 to 0.975), p99 under
-- 10 ms either way; a build takes about twice as long (548 s against 275 s on 2 cores). The same two numbers are
-- ragstore.store.spaces.HNSW_M and HNSW_EF_CONSTRUCTION, which new spaces' indexes are built with: change them together
-- (tests/integration/test_hnsw_options.py holds them equal).
--
-- Rebuilt, not altered: pgvector stores m in the index's metapage when it builds the graph, and links every later
-- insert with that m. ALTER INDEX ... SET (m = 24) would change only what pg_class.reloptions says (an index so altered
-- grows exactly as the m = 16 one does), and PostgreSQL refuses it on a partitioned index anyway.
--
-- How, on a database with data: each index is built anew beside the old one, in this migration's transaction
-- (migrate.py applies each migration in one), then the old one is dropped and the new one takes its name (and each
-- partition's index its old name). While the new graph is built, chunks is under a SHARE lock: searches from processes
-- still running go on through the old index, writes wait for the commit. The drop's ACCESS EXCLUSIVE lock lasts from
-- the drop to the commit, an instant. At 1M chunks that is the 548 s above, writes waiting throughout.
-- A database that cannot pause its writes that long builds the new index before upgrading, without blocking writes:
-- for each partition, CREATE INDEX CONCURRENTLY chunks_pNN_embedding_m24 ON chunks_pNN USING hnsw (embedding
-- halfvec_cosine_ops) WITH (m = 24, ef_construction = 128); then in one transaction CREATE INDEX chunks_embedding_m24
-- ON ONLY chunks with the same definition, ALTER INDEX chunks_embedding_m24 ATTACH PARTITION each of them, DROP INDEX
-- chunks_embedding, ALTER INDEX chunks_embedding_m24 RENAME TO chunks_embedding. An index whose every part already has
-- these options is left as it is here (tests/integration/test_hnsw_options.py runs this recipe).
--
-- Memory: pgvector builds fast only while the graph fits in maintenance_work_mem (at m = 24, 1.6 kB per 384-d halfvec
-- and 1 MB more, measured; past that, a build is ten times slower or worse). For this transaction it is raised to 2 kB
-- per row of the largest partition (each partition's graph is built alone) and 16MB more, at most 4GB, and never
-- lowered: a server configured with more keeps it. Parallel workers are the server's (max_parallel_maintenance_workers,
-- 2 by default): a parallel build holds that memory in dynamic shared memory, so PostgreSQL in a container needs a
-- /dev/shm larger than it (Docker's --shm-size), or max_parallel_maintenance_workers = 0 for ragstore's role during
-- the upgrade.
--
-- Space indexes are rebuilt the same way, one by one, with the definition spaces.sql's create_space_index gives them.
-- An index of a space that no longer exists (its store deleted) indexes nothing and is left alone.
DO $migration$
DECLARE
    wanted constant text[] := ARRAY['m=24', 'ef_construction=128'];
    opclass text;
    biggest bigint;
    memory bigint;
    part record;
    space record;
BEGIN
    IF EXISTS (SELECT FROM pg_partition_tree('chunks_embedding'::regclass) t JOIN pg_class c ON c.oid = t.relid
               WHERE NOT coalesce(c.reloptions @> wanted, false)) THEN
        SELECT o.opcname INTO opclass
        FROM pg_index i JOIN pg_opclass o ON o.oid = i.indclass[0]
        WHERE i.indexrelid = 'chunks_embedding'::regclass;
        SELECT coalesce(max(n), 0) INTO biggest FROM (SELECT count(embedding) AS n FROM chunks GROUP BY tableoid) p;
        memory := least(biggest * 2048 + pg_size_bytes('16MB'), pg_size_bytes('4GB'));
        IF memory > pg_size_bytes(current_setting('maintenance_work_mem')) THEN
            PERFORM set_config('maintenance_work_mem', memory / 1024 || 'kB', true);
        END IF;
        EXECUTE format('CREATE INDEX chunks_embedding_rebuilt ON chunks USING hnsw (embedding %I) '
                       'WITH (m = 24, ef_construction = 128)', opclass);
        DROP INDEX chunks_embedding;
        ALTER INDEX chunks_embedding_rebuilt RENAME TO chunks_embedding;
        FOR part IN
            SELECT t.relid::regclass AS index, c.relname AS partition
            FROM pg_partition_tree('chunks_embedding'::regclass) t
            JOIN pg_index i ON i.indexrelid = t.relid
            JOIN pg_class c ON c.oid = i.indrelid
            WHERE t.isleaf
        LOOP
            EXECUTE format('ALTER INDEX %s RENAME TO %I', part.index, part.partition || '_embedding_idx');
        END LOOP;
    END IF;

    FOR space IN
        SELECT s.id, s.dimension, c.relname AS name
        FROM embedding_spaces s
        JOIN pg_class c ON c.relname = 'chunk_vectors_hnsw_' || regexp_replace(s.id, '^emb_', '')
        JOIN pg_index i ON i.indexrelid = c.oid AND i.indrelid = 'chunk_vectors'::regclass
        WHERE s.location = 'vectors' AND NOT coalesce(c.reloptions @> wanted, false)
    LOOP
        SELECT count(*) INTO biggest FROM chunk_vectors WHERE space_id = space.id;
        memory := least(biggest * (2 * space.dimension + 1280) + pg_size_bytes('16MB'), pg_size_bytes('4GB'));
        IF memory > pg_size_bytes(current_setting('maintenance_work_mem')) THEN
            PERFORM set_config('maintenance_work_mem', memory / 1024 || 'kB', true);
        END IF;
        EXECUTE format('CREATE INDEX %I ON chunk_vectors USING hnsw ((embedding::halfvec(%s)) halfvec_cosine_ops) '
                       'WITH (m = 24, ef_construction = 128) WHERE space_id = %L',
                       space.name || '_rebuilt', space.dimension, space.id);
        EXECUTE format('DROP INDEX %I', space.name);
        EXECUTE format('ALTER INDEX %I RENAME TO %I', space.name || '_rebuilt', space.name);
    END LOOP;
END
$migration$;
