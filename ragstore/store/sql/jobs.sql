-- The durable job queue (ragstore.store.jobs, ragstore.worker).

-- enqueue_job --
INSERT INTO jobs (tenant_id, kind, args, max_attempts)
VALUES (%(tenant_id)s, %(kind)s, %(args)s, %(max_attempts)s)
RETURNING id

-- notify_jobs --
SELECT pg_notify('ragstore_jobs', '')

-- claim_job --
WITH next AS (
    SELECT id FROM jobs
    WHERE status = 'queued' AND run_after <= now()
    ORDER BY run_after, id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
)
UPDATE jobs SET status = 'running', attempts = attempts + 1, worker = %(worker)s, updated_at = now()
FROM next WHERE jobs.id = next.id
RETURNING jobs.id, jobs.tenant_id, jobs.kind, jobs.args, jobs.attempts, jobs.max_attempts

-- lock_job --
SELECT pg_advisory_lock(%(id)s)

-- try_lock_job --
SELECT pg_try_advisory_lock(%(id)s) AS locked

-- unlock_job --
SELECT pg_advisory_unlock(%(id)s)

-- finish_job --
UPDATE jobs SET status = 'done', last_error = NULL, updated_at = now() WHERE id = %(id)s AND status = 'running'

-- retry_or_fail_job --
-- A failed attempt: queued again after a backoff, or failed for good once its attempts are spent.
UPDATE jobs
SET status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
    run_after = now() + make_interval(secs => %(backoff_seconds)s * attempts),
    last_error = %(error)s, updated_at = now()
WHERE id = %(id)s AND status = 'running'
RETURNING id, tenant_id, kind, args, status, attempts, max_attempts

-- requeue_job --
-- Used by a graceful shutdown (ragstore.worker.WorkerThreads.stop).
-- A job its worker could not finish within the shutdown's grace period goes back to the queue at once, its attempt
-- not counted: stopping the server is no fault of the job's. Only the worker that runs it may do this.
UPDATE jobs
SET status = 'queued', attempts = greatest(attempts - 1, 0), run_after = now(), updated_at = now()
WHERE id = %(id)s AND status = 'running' AND worker = %(worker)s
RETURNING id

-- running_jobs --
SELECT id FROM jobs WHERE status = 'running' ORDER BY id

-- job_counts --
SELECT status, count(*) AS n FROM jobs GROUP BY status

-- metrics_jobs --
-- Read at every scrape of /metrics (ragstore.observability.collector), so kept to one cheap query.
-- Jobs by kind and status. For queued jobs also how many are due (run_after passed: the queue a worker would
-- claim from now) and how long the oldest due one has waited.
SELECT kind, status, count(*) AS jobs,
       count(*) FILTER (WHERE status = 'queued' AND run_after <= now()) AS due,
       coalesce(extract(epoch FROM now() - min(run_after) FILTER (WHERE status = 'queued' AND run_after <= now())),
                0)::float8 AS oldest_due_seconds
FROM jobs
GROUP BY kind, status
ORDER BY kind, status
