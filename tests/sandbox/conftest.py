"""The sandbox tests share the target tests' fixtures: extensions installed, clients in prod."""

from tests.adapters.aws.sandbox_fixtures import prod_clients, run_ctx, sandbox_endpoint  # noqa: F401  (fixtures)
