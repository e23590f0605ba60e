-- The seeds' match_documents functions (migration 0016), called in a tenant transaction for the RPC routes.

-- match_documents_vector --
SELECT id, content, metadata, similarity, vector_store_id, file_id
FROM match_documents(%(embedding)s::vector, %(company_id)s::text, %(threshold)s::double precision,
                     %(count)s::integer, %(vector_store_ids)s::text[], %(filter)s::jsonb)

-- match_documents_halfvec --
SELECT id, content, metadata, similarity, vector_store_id, file_id
FROM match_documents_half(%(embedding)s::halfvec, %(company_id)s::text, %(threshold)s::double precision,
                          %(count)s::integer, %(vector_store_ids)s::text[], %(filter)s::jsonb)
