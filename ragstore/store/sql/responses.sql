-- Responses: the stored objects of /v1/responses, their input items and the turns a chain of them holds.

-- insert_response --
INSERT INTO responses (tenant_id, id, previous_response_id, conversation_id, message_id, body, input_items, turn)
VALUES (%(tenant_id)s, %(id)s, %(previous_response_id)s, %(conversation_id)s, %(message_id)s, %(body)s,
        %(input_items)s, %(turn)s)

-- get_response --
SELECT id, previous_response_id, conversation_id, message_id, body, input_items, created_at
FROM responses WHERE tenant_id = %(tenant_id)s AND id = %(id)s

-- delete_response --
DELETE FROM responses WHERE tenant_id = %(tenant_id)s AND id = %(id)s

-- response_chain --
-- The turns of a response and of those before it, oldest first, at most %(depth)s of them.
WITH RECURSIVE chain AS (
    SELECT id, previous_response_id, turn, 1 AS depth
    FROM responses WHERE tenant_id = %(tenant_id)s AND id = %(id)s
    UNION ALL
    SELECT r.id, r.previous_response_id, r.turn, chain.depth + 1
    FROM responses r JOIN chain ON r.id = chain.previous_response_id
    WHERE r.tenant_id = %(tenant_id)s AND chain.depth < %(depth)s
)
SELECT turn FROM chain ORDER BY depth DESC
