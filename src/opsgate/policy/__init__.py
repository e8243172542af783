"""Pure decision rules. Deny by default: a request is allowed only when a rule says so."""

from opsgate.policy.approvals import check_approval
from opsgate.policy.decide import PolicyInput, decide, execution_guard

__all__ = ["PolicyInput", "decide", "execution_guard", "check_approval"]
