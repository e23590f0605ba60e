-- Chat memory and learning: conversations and their messages, feedback on answers, training examples curated from
-- rated exchanges, and datasets grouping them. All tenant-owned, under the same row-level security as the rest.

CREATE TABLE conversations (
    tenant_id   text NOT NULL REFERENCES tenants (id),
    id          text NOT NULL,
    user_id     text,
    title       text,
    metadata    jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX conversations_by_user ON conversations (tenant_id, user_id, id);

-- position orders a conversation's messages (ids made in the same millisecond would not); an assistant message
-- keeps the stores it searched, the passages it was given (context_used), those the same search found beyond
-- them (unused_context: the hard negatives of a retrieval triplet) and the chat sent to the model (prompt; NULL
-- for messages added as items), which training examples copy.
CREATE TABLE messages (
    tenant_id         text NOT NULL,
    id                text NOT NULL,
    conversation_id   text NOT NULL,
    position          integer NOT NULL,
    role              text NOT NULL CHECK (role IN ('system', 'developer', 'user', 'assistant')),
    content           text NOT NULL,
    model             text,
    vector_store_ids  text[] NOT NULL DEFAULT '{}',
    context_used      jsonb NOT NULL DEFAULT '[]',
    unused_context    jsonb NOT NULL DEFAULT '[]',
    prompt            jsonb,
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, conversation_id, position),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id) ON DELETE CASCADE
);

-- One rating per assistant message; rating again replaces it.
CREATE TABLE feedback (
    tenant_id        text NOT NULL,
    id               text NOT NULL,
    message_id       text NOT NULL,
    conversation_id  text NOT NULL,
    rating           smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment          text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, message_id),
    FOREIGN KEY (tenant_id, message_id) REFERENCES messages (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX feedback_by_created ON feedback (tenant_id, created_at);

-- A training example is a snapshot of one exchange, so that curated data survives its conversation's deletion:
-- the chat as the model saw it (messages, ending with the answer), the model that answered and the retrieval it used.
CREATE TABLE training_examples (
    tenant_id         text NOT NULL REFERENCES tenants (id),
    id                text NOT NULL,
    message_id        text,
    conversation_id   text,
    source            text NOT NULL CHECK (source IN ('rating', 'manual')),
    status            text NOT NULL DEFAULT 'candidate' CHECK (status IN ('candidate', 'approved', 'rejected')),
    rating            smallint,
    query             text NOT NULL,
    answer            text NOT NULL,
    messages          jsonb NOT NULL,
    context_used      jsonb NOT NULL,
    unused_context    jsonb NOT NULL,
    vector_store_ids  text[] NOT NULL DEFAULT '{}',
    model             text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, message_id)
);
CREATE INDEX training_examples_by_status ON training_examples (tenant_id, status, id);

CREATE TABLE datasets (
    tenant_id    text NOT NULL REFERENCES tenants (id),
    id           text NOT NULL,
    name         text NOT NULL,
    description  text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name)
);

CREATE TABLE dataset_examples (
    tenant_id   text NOT NULL,
    dataset_id  text NOT NULL,
    example_id  text NOT NULL,
    added_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, dataset_id, example_id),
    FOREIGN KEY (tenant_id, dataset_id) REFERENCES datasets (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, example_id) REFERENCES training_examples (tenant_id, id) ON DELETE CASCADE
);

GRANT SELECT, INSERT, UPDATE, DELETE
    ON conversations, messages, feedback, training_examples, datasets, dataset_examples TO ragstore_app;

DO $$
DECLARE
    owned text;
BEGIN
    FOREACH owned IN ARRAY ARRAY['conversations', 'messages', 'feedback', 'training_examples', 'datasets',
                                 'dataset_examples'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', owned);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I '
                       'USING (tenant_id = current_setting(''ragstore.tenant_id'', true)) '
                       'WITH CHECK (tenant_id = current_setting(''ragstore.tenant_id'', true))', owned);
    END LOOP;
END $$;
