-- Read at every scrape of /metrics (ragstore.observability.metrics), so kept to one cheap query.

-- metrics_jobs --
-- Jobs by kind and status. For queued jobs also how many are due (run_after passed: the queue a worker would
-- claim from now) and how long the oldest due one has waited.
SELECT kind, status, count(*) AS jobs,
       count(*) FILTER (WHERE status = 'queued' AND run_after <= now()) AS due,
       coalesce(extract(epoch FROM now() - min(run_after) FILTER (WHERE status = 'queued' AND run_after <= now())),
                0)::float8 AS oldest_due_seconds
FROM jobs
GROUP BY kind, status
ORDER BY kind, status
