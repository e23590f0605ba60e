-- The text-search language (stemming and stop words) becomes a property of each store: chunks' tsvectors are
-- computed at insert with their store's configuration instead of a fixed 'english' expression.
ALTER TABLE chunks ALTER COLUMN fts DROP EXPRESSION;
ALTER TABLE chunks ALTER COLUMN fts SET DEFAULT ''::tsvector;
ALTER TABLE chunks ALTER COLUMN fts SET NOT NULL;
ALTER TABLE vector_stores ADD COLUMN text_search_language text NOT NULL DEFAULT 'english';
