-- BM25's top chunks without reading every chunk that holds a query word (issue 24).
--
-- Before, search_chunks_lexical unnested the tsvector of every chunk holding any query term: on passages of ~200
-- words and claims of 10-20 words most chunks hold a common word, and that unnest cost 80 us a chunk (150 ms for
-- 5,000 chunks). Two functions, security definers restricted to the entered tenant as lexical_candidates (0013):
--
-- lexical_frequencies: each term's document frequency in the stores, counted through the GIN index, term by term,
-- up to `cap` (the GIN index answers a single lexeme without reading the tsvector itself).
--
-- lexical_top: the `lim` best chunks by BM25, exactly, by a MaxScore walk. Terms are ranked by idf; a term's part of
-- a chunk's BM25 is below idf * (k1 + 1) whatever its frequency and the chunk's length, so a chunk holding only the
-- commonest terms scores below the sum of their bounds. The walk scores every chunk holding one of the rarest terms
-- (essential), with all its terms; once the lim-th best score reaches what the remaining (common) terms can add at
-- most, no chunk outside can enter the top, and the walk stops. Else the next rarest term becomes essential. A
-- chunk's term frequencies are read from its tsvector restricted to the query's terms (setweight + ts_filter),
-- without unnesting it.
DO $migration$
BEGIN
    EXECUTE format($function$
        CREATE FUNCTION lexical_frequencies(store_ids text[], terms text[], cap bigint)
        RETURNS TABLE (lexeme text, df bigint)
        LANGUAGE plpgsql STABLE STRICT SECURITY DEFINER
        SET search_path = %I, pg_catalog, pg_temp
        AS $body$
        DECLARE
            term text;
        BEGIN
            FOREACH term IN ARRAY terms LOOP
                lexeme := term;
                SELECT count(*) INTO df FROM (
                    SELECT 1 FROM chunks c
                    WHERE c.tenant_id = current_setting('ragstore.tenant_id', true)
                      AND c.vector_store_id = ANY (store_ids)
                      AND c.fts @@ quote_literal(term)::tsquery
                    LIMIT cap
                ) held;
                RETURN NEXT;
            END LOOP;
        END
        $body$
    $function$, current_schema());

    EXECUTE format($function$
        CREATE FUNCTION lexical_top(store_ids text[], terms text[], idfs float8[], lim integer, k1 float8, b float8,
                                    avgdl float8)
        RETURNS TABLE (chunk_id bigint, bm25 float8)
        LANGUAGE plpgsql STABLE STRICT SECURITY DEFINER
        SET search_path = %I, pg_catalog, pg_temp
        AS $body$
        DECLARE
            ranked text[];      -- the terms, least idf first
            bounds float8[];    -- bounds[j]: the most that ranked[1..j] add to a chunk's BM25
            m integer := cardinality(terms);
            first integer;      -- ranked[first..m] are essential
            last integer;       -- ranked[last..m] were essential before
            ids bigint[];
            scores float8[];
            theta float8;
        BEGIN
            IF m = 0 THEN
                RETURN;
            END IF;
            SELECT array_agg(t ORDER BY w, t), array_agg(s ORDER BY w, t) INTO ranked, bounds
            FROM (SELECT t, w, sum(w * (k1 + 1)) OVER (ORDER BY w, t) AS s FROM unnest(terms, idfs) AS x(t, w)) x;
            first := m;
            last := m + 1;
            LOOP
                -- The chunks holding a newly essential term and no earlier one, scored, merged with the best so far:
                -- a chunk scored before and left out of the best stays out (its score is whole, theta only grows).
                SELECT array_agg(s.id ORDER BY s.score DESC, s.id), array_agg(s.score ORDER BY s.score DESC, s.id)
                INTO ids, scores
                FROM (
                    SELECT kept.id, kept.score FROM unnest(ids, scores) AS kept(id, score)
                    UNION ALL
                    SELECT c.id,
                           (SELECT sum(w.idf * f.tf * (k1 + 1) / (f.tf + k1 * (1 - b + b * c.lexical_length / avgdl)))
                            FROM (SELECT u.lexeme, coalesce(array_length(u.positions, 1), 1) AS tf
                                  FROM unnest(ts_filter(setweight(c.fts, 'A', terms), '{a}')) u) f
                            JOIN unnest(terms, idfs) AS w(lexeme, idf) ON w.lexeme = f.lexeme)
                    FROM chunks c
                    WHERE c.tenant_id = current_setting('ragstore.tenant_id', true)
                      AND c.vector_store_id = ANY (store_ids)
                      AND c.fts @@ (SELECT string_agg(quote_literal(t), ' | ')::tsquery
                                    FROM unnest(ranked[first:last - 1]) t)
                      AND (last > m OR NOT c.fts @@ (SELECT string_agg(quote_literal(t), ' | ')::tsquery
                                                     FROM unnest(ranked[last:m]) t))
                    ORDER BY 2 DESC, 1
                    LIMIT lim
                ) s;
                theta := CASE WHEN cardinality(ids) >= lim THEN scores[lim] END;
                EXIT WHEN first = 1 OR theta >= bounds[first - 1];
                -- The fewest more essential terms that the current lim-th score allows (it only grows with them).
                last := first;
                first := first - 1;
                WHILE theta IS NOT NULL AND first > 1 AND bounds[first - 1] > theta LOOP
                    first := first - 1;
                END LOOP;
            END LOOP;
            RETURN QUERY SELECT * FROM unnest(ids, scores);
        END
        $body$
    $function$, current_schema());
END
$migration$;

REVOKE ALL ON FUNCTION lexical_frequencies(text[], text[], bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lexical_frequencies(text[], text[], bigint) TO ragstore_app;
REVOKE ALL ON FUNCTION lexical_top(text[], text[], float8[], integer, float8, float8, float8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lexical_top(text[], text[], float8[], integer, float8, float8, float8) TO ragstore_app;
