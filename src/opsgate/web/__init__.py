"""The ASGI edge: the Slack endpoint, health checks; later intake endpoints, pages and /metrics."""
