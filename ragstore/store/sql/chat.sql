-- Chat memory and learning: conversations, messages, feedback, training examples and datasets.
-- Blocks with {columns}, {cmp} or {direction} are composed in Python (psycopg.sql); see store/pages.py.

-- conversation_columns --
c.id, c.user_id, c.title, c.metadata, c.created_at, c.updated_at

-- insert_conversation --
INSERT INTO conversations AS c (tenant_id, id, user_id, title, metadata)
VALUES (%(tenant_id)s, %(id)s, %(user_id)s, %(title)s, %(metadata)s)
RETURNING {columns}

-- get_conversation --
SELECT {columns} FROM conversations c WHERE c.tenant_id = %(tenant_id)s AND c.id = %(id)s

-- update_conversation --
UPDATE conversations AS c
SET title = CASE WHEN %(set_title)s THEN %(title)s ELSE title END,
    metadata = CASE WHEN %(set_metadata)s THEN %(metadata)s ELSE metadata END,
    updated_at = now()
WHERE c.tenant_id = %(tenant_id)s AND c.id = %(id)s
RETURNING {columns}

-- delete_conversation --
DELETE FROM conversations WHERE tenant_id = %(tenant_id)s AND id = %(id)s

-- list_conversations --
SELECT {columns}
FROM conversations c
WHERE c.tenant_id = %(tenant_id)s
  AND (%(user_id)s::text IS NULL OR c.user_id = %(user_id)s)
  AND (%(cursor_id)s::text IS NULL OR c.id {cmp} %(cursor_id)s)
ORDER BY c.id {direction}
LIMIT %(limit)s

-- conversations_of_user --
SELECT {columns} FROM conversations c
WHERE c.tenant_id = %(tenant_id)s AND (%(user_id)s::text IS NULL OR c.user_id = %(user_id)s)
ORDER BY c.id

-- touch_conversation --
-- Locks the conversation while messages are appended, so that their positions follow one another.
UPDATE conversations SET updated_at = now() WHERE tenant_id = %(tenant_id)s AND id = %(id)s RETURNING id

-- next_position --
SELECT coalesce(max(position), 0) + 1 AS position
FROM messages WHERE tenant_id = %(tenant_id)s AND conversation_id = %(conversation_id)s

-- message_columns --
m.id, m.conversation_id, m.position, m.role, m.content, m.created_at, m.model, m.vector_store_ids,
m.context_used, m.unused_context,
f.id AS feedback_id, f.rating AS feedback_rating, f.comment AS feedback_comment,
f.created_at AS feedback_created_at, f.updated_at AS feedback_updated_at

-- message_source --
messages m LEFT JOIN feedback f ON f.tenant_id = m.tenant_id AND f.message_id = m.id

-- insert_message --
INSERT INTO messages (tenant_id, id, conversation_id, position, role, content, model, vector_store_ids,
                      context_used, unused_context)
VALUES (%(tenant_id)s, %(id)s, %(conversation_id)s, %(position)s, %(role)s, %(content)s, %(model)s,
        %(vector_store_ids)s, %(context_used)s, %(unused_context)s)

-- save_message_prompt --
UPDATE messages SET prompt = %(prompt)s WHERE tenant_id = %(tenant_id)s AND id = %(id)s

-- message_prompt --
SELECT prompt FROM messages WHERE tenant_id = %(tenant_id)s AND id = %(id)s

-- get_message --
SELECT {columns} FROM {source} WHERE m.tenant_id = %(tenant_id)s AND m.id = %(id)s

-- delete_message --
DELETE FROM messages
WHERE tenant_id = %(tenant_id)s AND conversation_id = %(conversation_id)s AND id = %(id)s

-- list_messages --
SELECT {columns}
FROM {source}
WHERE m.tenant_id = %(tenant_id)s AND m.conversation_id = %(conversation_id)s
  AND (%(cursor_id)s::text IS NULL OR m.position {cmp} (
        SELECT position FROM messages
        WHERE tenant_id = %(tenant_id)s AND conversation_id = %(conversation_id)s AND id = %(cursor_id)s))
ORDER BY m.position {direction}
LIMIT %(limit)s

-- conversation_messages --
SELECT {columns} FROM {source}
WHERE m.tenant_id = %(tenant_id)s AND m.conversation_id = %(conversation_id)s
  AND (%(before_position)s::int IS NULL OR m.position < %(before_position)s)
ORDER BY m.position

-- feedback_columns --
f.id, f.message_id, f.conversation_id, f.rating, f.comment, f.created_at, f.updated_at

-- upsert_feedback --
INSERT INTO feedback AS f (tenant_id, id, message_id, conversation_id, rating, comment)
VALUES (%(tenant_id)s, %(id)s, %(message_id)s, %(conversation_id)s, %(rating)s, %(comment)s)
ON CONFLICT (tenant_id, message_id) DO UPDATE
SET rating = EXCLUDED.rating, comment = EXCLUDED.comment, updated_at = now()
RETURNING {columns}

-- list_feedback --
SELECT {columns}
FROM feedback f JOIN messages m ON m.tenant_id = f.tenant_id AND m.id = f.message_id
WHERE f.tenant_id = %(tenant_id)s
  AND (%(conversation_id)s::text IS NULL OR f.conversation_id = %(conversation_id)s)
  AND (%(vector_store_id)s::text IS NULL OR %(vector_store_id)s = ANY (m.vector_store_ids))
  AND (%(rating)s::int IS NULL OR f.rating = %(rating)s)
  AND (%(cursor_id)s::text IS NULL OR f.id {cmp} %(cursor_id)s)
ORDER BY f.id {direction}
LIMIT %(limit)s

-- get_feedback --
SELECT {columns} FROM feedback f WHERE f.tenant_id = %(tenant_id)s AND f.id = %(id)s

-- feedback_by_store --
-- An answer counts for every store it searched.
SELECT store AS key, count(*) AS count, avg(f.rating)::float AS mean_rating,
       array[count(*) FILTER (WHERE f.rating = 1), count(*) FILTER (WHERE f.rating = 2),
             count(*) FILTER (WHERE f.rating = 3), count(*) FILTER (WHERE f.rating = 4),
             count(*) FILTER (WHERE f.rating = 5)] AS ratings
FROM feedback f
JOIN messages m ON m.tenant_id = f.tenant_id AND m.id = f.message_id
CROSS JOIN LATERAL unnest(m.vector_store_ids) AS store
WHERE f.tenant_id = %(tenant_id)s AND f.updated_at >= %(since)s
GROUP BY store
ORDER BY store

-- feedback_by_day --
-- The day (UTC) a rating was last given.
SELECT to_char(f.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS key, count(*) AS count,
       avg(f.rating)::float AS mean_rating,
       array[count(*) FILTER (WHERE f.rating = 1), count(*) FILTER (WHERE f.rating = 2),
             count(*) FILTER (WHERE f.rating = 3), count(*) FILTER (WHERE f.rating = 4),
             count(*) FILTER (WHERE f.rating = 5)] AS ratings
FROM feedback f
WHERE f.tenant_id = %(tenant_id)s AND f.updated_at >= %(since)s
GROUP BY 1
ORDER BY 1

-- training_example_columns --
t.id, t.message_id, t.conversation_id, t.source, t.status, t.rating, t.query, t.answer, t.messages,
t.context_used, t.unused_context, t.vector_store_ids, t.model, t.created_at, t.updated_at

-- insert_training_example --
INSERT INTO training_examples AS t (tenant_id, id, message_id, conversation_id, source, rating, query, answer,
                                    messages, context_used, unused_context, vector_store_ids, model)
VALUES (%(tenant_id)s, %(id)s, %(message_id)s, %(conversation_id)s, %(source)s, %(rating)s, %(query)s, %(answer)s,
        %(messages)s, %(context_used)s, %(unused_context)s, %(vector_store_ids)s, %(model)s)
ON CONFLICT (tenant_id, message_id) DO NOTHING
RETURNING {columns}

-- get_training_example --
SELECT {columns} FROM training_examples t WHERE t.tenant_id = %(tenant_id)s AND t.id = %(id)s

-- get_training_examples --
SELECT {columns} FROM training_examples t WHERE t.tenant_id = %(tenant_id)s AND t.id = ANY(%(ids)s)

-- training_example_of_message --
SELECT {columns} FROM training_examples t WHERE t.tenant_id = %(tenant_id)s AND t.message_id = %(message_id)s

-- list_training_examples --
SELECT {columns}
FROM training_examples t
WHERE t.tenant_id = %(tenant_id)s
  AND (%(status)s::text IS NULL OR t.status = %(status)s)
  AND (%(cursor_id)s::text IS NULL OR t.id {cmp} %(cursor_id)s)
ORDER BY t.id {direction}
LIMIT %(limit)s

-- set_training_example_status --
UPDATE training_examples AS t SET status = %(status)s, updated_at = now()
WHERE t.tenant_id = %(tenant_id)s AND t.id = %(id)s
RETURNING {columns}

-- rerate_training_example --
UPDATE training_examples AS t SET rating = %(rating)s, status = %(status)s, updated_at = now()
WHERE t.tenant_id = %(tenant_id)s AND t.id = %(id)s
RETURNING {columns}

-- delete_training_example --
DELETE FROM training_examples WHERE tenant_id = %(tenant_id)s AND id = %(id)s

-- rated_without_example --
SELECT f.message_id
FROM feedback f
JOIN messages m ON m.tenant_id = f.tenant_id AND m.id = f.message_id
WHERE f.tenant_id = %(tenant_id)s AND f.rating >= %(min_rating)s
  AND (%(vector_store_id)s::text IS NULL OR %(vector_store_id)s = ANY (m.vector_store_ids))
  AND NOT EXISTS (SELECT FROM training_examples t WHERE t.tenant_id = f.tenant_id AND t.message_id = f.message_id)
ORDER BY f.id

-- dataset_columns --
d.id, d.name, d.description, d.created_at, d.updated_at,
(SELECT count(*) FROM dataset_examples e WHERE e.tenant_id = d.tenant_id AND e.dataset_id = d.id) AS example_count

-- insert_dataset --
INSERT INTO datasets (tenant_id, id, name, description) VALUES (%(tenant_id)s, %(id)s, %(name)s, %(description)s)

-- get_dataset --
SELECT {columns} FROM datasets d WHERE d.tenant_id = %(tenant_id)s AND d.id = %(id)s

-- dataset_by_name --
SELECT {columns} FROM datasets d WHERE d.tenant_id = %(tenant_id)s AND d.name = %(name)s

-- list_datasets --
SELECT {columns}
FROM datasets d
WHERE d.tenant_id = %(tenant_id)s AND (%(cursor_id)s::text IS NULL OR d.id {cmp} %(cursor_id)s)
ORDER BY d.id {direction}
LIMIT %(limit)s

-- delete_dataset --
DELETE FROM datasets WHERE tenant_id = %(tenant_id)s AND id = %(id)s

-- add_dataset_example --
INSERT INTO dataset_examples (tenant_id, dataset_id, example_id)
VALUES (%(tenant_id)s, %(dataset_id)s, %(example_id)s)
ON CONFLICT DO NOTHING

-- remove_dataset_example --
DELETE FROM dataset_examples
WHERE tenant_id = %(tenant_id)s AND dataset_id = %(dataset_id)s AND example_id = %(example_id)s

-- touch_dataset --
UPDATE datasets SET updated_at = now() WHERE tenant_id = %(tenant_id)s AND id = %(id)s

-- dataset_examples --
SELECT {columns}
FROM dataset_examples e
JOIN training_examples t ON t.tenant_id = e.tenant_id AND t.id = e.example_id
WHERE e.tenant_id = %(tenant_id)s AND e.dataset_id = %(dataset_id)s
  AND (%(status)s::text IS NULL OR t.status = %(status)s)
  AND (%(cursor_id)s::text IS NULL OR t.id {cmp} %(cursor_id)s)
ORDER BY t.id {direction}
LIMIT %(limit)s
