"""The core (domain, policy, core) imports no SDK, web framework, database library or adapter."""

from __future__ import annotations

import ast
from pathlib import Path

import opsgate

FORBIDDEN = ("slack_bolt", "slack_sdk", "boto3", "botocore", "sqlalchemy", "alembic", "psycopg", "starlette",
             "fastapi", "uvicorn", "httpx", "requests", "moto", "opsgate.adapters", "opsgate.web", "opsgate.wiring",
             "opsgate.cli", "opsgate.config", "opsgate.logs",
             # log lines get their ids from opsgate.log_context; how they are written is logs.py's business
             "structlog",
             # signatures and network calls are the adapters' business
             "cryptography", "OpenSSL", "ssl", "socket", "http", "urllib.request")
CORE_PACKAGES = ("domain", "policy", "core")
ROOT = Path(opsgate.__file__).parent


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def test_core_imports_no_sdk_framework_database_or_adapter():
    offenders = []
    files = [f for pkg in CORE_PACKAGES for f in (ROOT / pkg).rglob("*.py")] + [ROOT / "ports.py", ROOT / "errors.py"]
    assert len(files) > 10  # the walk really found the core
    for path in files:
        for line, module in imported_modules(path):
            if any(module == bad or module.startswith(bad + ".") for bad in FORBIDDEN):
                offenders.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert offenders == []


def test_the_check_catches_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import boto3\nfrom sqlalchemy import text\nfrom opsgate.adapters.store import SqlStore\n")
    modules = [m for _, m in imported_modules(bad)]
    assert modules == ["boto3", "sqlalchemy", "opsgate.adapters.store"]
