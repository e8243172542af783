"""AWS automation targets: per-environment sessions, error mapping, one module per service."""
