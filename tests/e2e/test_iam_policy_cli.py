"""`opsgate iam-policy` over the example catalog."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "opsgate.yaml"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "opsgate.cli", "iam-policy", "-c", str(EXAMPLE), *args],
                          capture_output=True, text=True, timeout=60, env={**os.environ})


def test_prod_policy_names_exact_resources_and_the_trust_policy_needs_the_person():
    answer = run("--env", "prod", "--principal", "arn:aws:iam::999999999999:role/opsgate")
    assert answer.returncode == 0, answer.stderr
    prod = json.loads(answer.stdout)["prod"]
    granted = {(s["Action"], r) for s in prod["policy"]["Statement"] for r in s["Resource"]}
    assert ("states:StartExecution", "arn:aws:states:eu-west-1:333333333333:stateMachine:rollback") in granted
    assert ("codepipeline:PutApprovalResult",
            "arn:aws:codepipeline:eu-west-1:333333333333:web-release/Approve/ProdApproval") in granted
    assert ("sqs:ReceiveMessage", "arn:aws:sqs:eu-west-1:333333333333:opsgate-approvals") in granted
    assert all(":111111111111:" not in r and ":222222222222:" not in r for _, r in granted)
    trust = prod["trust_policy"]["Statement"][0]
    assert trust["Principal"] == {"AWS": "arn:aws:iam::999999999999:role/opsgate"}
    assert trust["Condition"]["Null"] == {"sts:SourceIdentity": "false"}


def test_every_environment_by_default():
    assert set(json.loads(run().stdout)) == {"dev", "staging", "prod"}


def test_unknown_environment_is_refused():
    answer = run("--env", "qa")
    assert answer.returncode == 2 and "no environment 'qa'" in answer.stderr
