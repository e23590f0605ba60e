-- Responses (OpenAI's Responses API): each stored response as the object returned, the input items it was given,
-- and its turn as chat messages (what a response chained to it by previous_response_id shows the model).
-- The exchange itself is also kept as two messages of a conversation, as /v1/answers keeps it: message_id is the
-- answer, which feedback rates and training examples copy; deleting that conversation leaves the response.

CREATE TABLE responses (
    tenant_id             text NOT NULL REFERENCES tenants (id),
    id                    text NOT NULL,
    previous_response_id  text,
    conversation_id       text,
    message_id            text,
    body                  jsonb NOT NULL,
    input_items           jsonb NOT NULL,
    turn                  jsonb NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, message_id) REFERENCES messages (tenant_id, id) ON DELETE SET NULL (message_id)
);
CREATE INDEX responses_by_message ON responses (tenant_id, message_id);

GRANT SELECT, INSERT, UPDATE, DELETE ON responses TO ragstore_app;

ALTER TABLE responses ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON responses
    USING (tenant_id = current_setting('ragstore.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('ragstore.tenant_id', true));
