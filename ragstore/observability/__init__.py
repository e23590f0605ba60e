"""What operators see of a running ragstore, at its edge: what a scrape of /metrics returns (the metrics themselves
are defined in ragstore.telemetry, a leaf every layer may use), structured logs with request ids, readiness."""
