"""What operators see of a running ragstore: Prometheus metrics, structured logs with request ids, health."""
