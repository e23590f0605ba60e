-- Every statement of a search, in the order a search runs them: the stores it reads first, the HNSW settings,
-- the approximate, exact and lexical scans, and the cosines a hybrid fusion needs for its lexical-only hits.

-- search_stores --
-- What a search needs to know before its query, in one statement: each store (as get_vector_store_object), its
-- active embedding space (space_*, all NULL for chunks.embedding), the chunks of its completed files, whether its
-- last_active_at is older than %(touch_after)s seconds, and the rows of the chunks partition holding the tenant
-- (pg_class's estimate; 0 before the partition was ever analysed), whose HNSW index a walk would cross.
SELECT {columns}, coalesce(n.searchable_chunks, 0) AS searchable_chunks,
       vs.last_active_at < now() - make_interval(secs => %(touch_after)s) AS stale,
       (SELECT greatest(p.reltuples, 0)::bigint FROM pg_class p
        WHERE p.oid = (SELECT c.tableoid FROM chunks c WHERE c.tenant_id = %(tenant_id)s LIMIT 1)) AS partition_chunks,
       s.id AS space_id, s.vector_store_id AS space_vector_store_id, s.model AS space_model,
       s.dimension AS space_dimension, s.base_url AS space_base_url, s.api_key_env AS space_api_key_env,
       s.location AS space_location, s.state AS space_state, s.created_at AS space_created_at,
       s.switched_at AS space_switched_at, s.provider_id AS space_provider_id
{source}
LEFT JOIN embedding_spaces s ON s.tenant_id = vs.tenant_id AND s.id = vs.active_space_id
WHERE vs.tenant_id = %(tenant_id)s AND vs.id = ANY (%(ids)s)

-- tune_hnsw --
-- For this transaction: how wide the HNSW search is, and how far its iterative scan may go to fill k results
-- inside the requested stores (pgvector 0.8).
SELECT set_config('hnsw.ef_search', %(ef_search)s, true), set_config('hnsw.iterative_scan', 'relaxed_order', true),
       set_config('hnsw.max_scan_tuples', %(max_scan)s, true)

-- search_chunks --
-- Nearest chunks by cosine distance within the given stores that pass the compiled attribute filter. The HNSW
-- scan is iterative (set by the caller), so its order is relaxed: the outer query restores the exact order.
-- {source} and {vector}: chunks c and c.embedding, or the join to an embedding space's chunk_vectors v.
WITH nearest AS MATERIALIZED (
    SELECT c.id, c.vector_store_id, c.file_id, c.chunk_index, c.page, c.text, c.attributes,
           {vector} <=> %(embedding)s AS distance
    FROM {source}
    WHERE c.tenant_id = %(tenant_id)s AND c.vector_store_id = ANY (%(store_ids)s) AND {filter}
    ORDER BY {vector} <=> %(embedding)s
    LIMIT %(limit)s
)
SELECT n.id, n.vector_store_id, n.file_id, f.filename, n.chunk_index, n.page, n.text, n.attributes,
       greatest(0, 1 - n.distance) AS score
FROM nearest n
JOIN files f ON f.tenant_id = %(tenant_id)s AND f.id = n.file_id
WHERE greatest(0, 1 - n.distance) >= %(threshold)s
ORDER BY n.distance, n.id

-- search_chunks_exact --
-- Every chunk of the stores that passes the filter, scored: exact, for small stores and as the fallback when the
-- approximate scan comes back short. MATERIALIZED keeps the planner from ordering through the HNSW index. Only ids
-- and distances are scored and sorted; the k best rows are read again by primary key (carrying every chunk's text
-- and attributes through the sort cost a fifth of the query: p50 4.1 against 3.3 ms over 3,000 msmarco chunks).
WITH scored AS MATERIALIZED (
    SELECT c.id, {vector} <=> %(embedding)s AS distance
    FROM {source}
    WHERE c.tenant_id = %(tenant_id)s AND c.vector_store_id = ANY (%(store_ids)s) AND {filter}
),
nearest AS (
    SELECT * FROM scored ORDER BY distance, id LIMIT %(limit)s
)
SELECT c.id, c.vector_store_id, c.file_id, f.filename, c.chunk_index, c.page, c.text, c.attributes,
       greatest(0, 1 - n.distance) AS score
FROM nearest n
JOIN chunks c ON c.tenant_id = %(tenant_id)s AND c.id = n.id
JOIN files f ON f.tenant_id = %(tenant_id)s AND f.id = c.file_id
WHERE greatest(0, 1 - n.distance) >= %(threshold)s
ORDER BY n.distance, n.id

-- search_chunks_lexical --
-- BM25 (Lucene's idf; k1, b as given) over the stores' chunks that pass a filter, the query analysed in the stores'
-- language. The candidates are the chunks holding any query term, found through the GIN index by
-- lexical_candidates() (migration 0013: under row-level security `@@` alone cannot use the index); a term's document
-- frequency is counted among them (those passing the filter), which is exact, since every chunk holding the term is
-- a candidate. A candidate's term frequencies come from its tsvector restricted to the query's terms (setweight +
-- ts_filter: unnesting the whole tsvector cost 80 us a chunk of 200 words). Every row also carries the document
-- frequency of each query term (dfs, 0 for a term no chunk holds) and the stores' chunk count (documents):
-- fusion.py bounds BM25 by the query's idf mass. Without a filter, search_chunks_lexical_top gives the same.
WITH terms AS (
    SELECT DISTINCT lexeme
    FROM unnest(tsvector_to_array(to_tsvector(%(language)s::regconfig, %(query)s))) AS lexeme
),
question AS (
    SELECT string_agg(quote_literal(lexeme), ' | ')::tsquery AS tsq FROM terms
),
corpus AS (
    SELECT sum(chunk_count)::float8 AS n, greatest(sum(lexical_tokens)::float8 / nullif(sum(chunk_count), 0), 1) AS avgdl
    FROM vector_store_files
    WHERE tenant_id = %(tenant_id)s AND vector_store_id = ANY (%(store_ids)s) AND status = 'completed'
),
candidates AS MATERIALIZED (
    SELECT found.* FROM question q, lexical_candidates(%(store_ids)s, q.tsq) found
),
matched AS (
    SELECT c.id, c.lexical_length AS dl, u.lexeme, coalesce(array_length(u.positions, 1), 1) AS tf
    FROM candidates c, unnest(ts_filter(setweight(c.fts, 'A', ARRAY(SELECT lexeme FROM terms)), '{{a}}')) u
    WHERE {filter}
),
frequency AS (
    SELECT lexeme, count(*) AS df FROM matched GROUP BY lexeme
),
scored AS (
    SELECT m.id,
           sum(ln(1 + (k.n - f.df + 0.5) / (f.df + 0.5))
               * m.tf * (%(k1)s + 1) / (m.tf + %(k1)s * (1 - %(b)s + %(b)s * m.dl / k.avgdl))) AS bm25
    FROM matched m JOIN frequency f USING (lexeme) CROSS JOIN corpus k
    GROUP BY m.id
    ORDER BY bm25 DESC, m.id
    LIMIT %(limit)s
),
weights AS (
    SELECT array_agg(coalesce(f.df, 0) ORDER BY t.lexeme) AS dfs, min(k.n) AS documents
    FROM terms t LEFT JOIN frequency f USING (lexeme) CROSS JOIN corpus k
)
SELECT c.id, c.vector_store_id, c.file_id, f.filename, c.chunk_index, c.page, c.text, c.attributes, s.bm25 AS score,
       w.dfs, w.documents
FROM scored s CROSS JOIN weights w
JOIN chunks c ON c.tenant_id = %(tenant_id)s AND c.id = s.id
JOIN files f ON f.tenant_id = %(tenant_id)s AND f.id = c.file_id
ORDER BY s.bm25 DESC, c.id

-- lexical_rarity --
-- How many chunks of the stores hold each query term, counted only up to cap (in no particular order), and the
-- stores' chunk count (documents): whether the query holds a term rare enough to weigh. Terms that cap of the given
-- chunks (the dense candidates, already read) hold are counted there; the others through the GIN index, whose
-- bitmap reads a term's whole posting list: a common term would cost its every posting.
WITH terms AS (
    SELECT DISTINCT lexeme
    FROM unnest(tsvector_to_array(to_tsvector(%(language)s::regconfig, %(query)s))) AS lexeme
),
held AS (
    SELECT u.lexeme, count(*) AS n
    FROM chunks c, unnest(ts_filter(setweight(c.fts, 'A', ARRAY(SELECT lexeme FROM terms)), '{a}')) u
    WHERE c.tenant_id = %(tenant_id)s AND c.vector_store_id = ANY (%(store_ids)s) AND c.id = ANY (%(ids)s)
    GROUP BY u.lexeme
)
SELECT ARRAY(SELECT least(h.n, %(cap)s) FROM held h WHERE h.n >= %(cap)s)
       || ARRAY(SELECT f.df FROM lexical_frequencies(
                    %(store_ids)s,
                    ARRAY(SELECT t.lexeme FROM terms t LEFT JOIN held h USING (lexeme) WHERE coalesce(h.n, 0) < %(cap)s),
                    %(cap)s::bigint) f) AS dfs,
       (SELECT coalesce(sum(chunk_count), 0)::bigint FROM vector_store_files
        WHERE tenant_id = %(tenant_id)s AND vector_store_id = ANY (%(store_ids)s) AND status = 'completed') AS documents

-- search_chunks_lexical_top --
-- search_chunks_lexical without a filter, by lexical_top() (migration 0021): each term's document frequency
-- counted through the GIN index, then a MaxScore walk that reads the tsvectors of the chunks holding the rarest
-- terms only, as far as the exact top `limit` needs. The same scores, dfs and documents.
WITH terms AS (
    SELECT DISTINCT lexeme
    FROM unnest(tsvector_to_array(to_tsvector(%(language)s::regconfig, %(query)s))) AS lexeme
),
corpus AS (
    SELECT sum(chunk_count)::float8 AS n, greatest(sum(lexical_tokens)::float8 / nullif(sum(chunk_count), 0), 1) AS avgdl
    FROM vector_store_files
    WHERE tenant_id = %(tenant_id)s AND vector_store_id = ANY (%(store_ids)s) AND status = 'completed'
),
frequency AS MATERIALIZED (
    SELECT f.lexeme, f.df FROM lexical_frequencies(%(store_ids)s, ARRAY(SELECT lexeme FROM terms), %(no_cap)s) f
),
weights AS (
    SELECT array_agg(f.df ORDER BY f.lexeme) AS dfs, min(k.n) AS documents, min(k.avgdl) AS avgdl,
           array_agg(f.lexeme) FILTER (WHERE f.df > 0) AS lexemes,
           array_agg(ln(1 + (k.n - f.df + 0.5) / (f.df + 0.5))) FILTER (WHERE f.df > 0) AS idfs
    FROM frequency f CROSS JOIN corpus k
),
scored AS (
    SELECT t.chunk_id AS id, t.bm25
    FROM weights w, lexical_top(%(store_ids)s, w.lexemes, w.idfs, %(limit)s, %(k1)s, %(b)s, w.avgdl) t
)
SELECT c.id, c.vector_store_id, c.file_id, f.filename, c.chunk_index, c.page, c.text, c.attributes, s.bm25 AS score,
       w.dfs, w.documents
FROM scored s CROSS JOIN weights w
JOIN chunks c ON c.tenant_id = %(tenant_id)s AND c.id = s.id
JOIN files f ON f.tenant_id = %(tenant_id)s AND f.id = c.file_id
ORDER BY s.bm25 DESC, c.id

-- chunk_similarities --
SELECT c.id, 1 - ({vector} <=> %(embedding)s) AS similarity
FROM {source} WHERE c.tenant_id = %(tenant_id)s AND c.id = ANY (%(ids)s)
