-- Queries of a graceful shutdown (ragstore.worker.WorkerThreads.stop).

-- requeue_job --
-- A job its worker could not finish within the shutdown's grace period goes back to the queue at once, its attempt
-- not counted: stopping the server is no fault of the job's. Only the worker that runs it may do this.
UPDATE jobs
SET status = 'queued', attempts = greatest(attempts - 1, 0), run_after = now(), updated_at = now()
WHERE id = %(id)s AND status = 'running' AND worker = %(worker)s
RETURNING id
