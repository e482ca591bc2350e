"""How much the platform as a whole may send to each exchange: the shared egress IPs' budget.

The figures live with each exchange, in its module's ``budget`` (``engine.spec.RequestBudget``,
with the documented IP limit it stays under and its source); callers ask here, so the policy has one
entry point. ``ConnectionService`` spends it in the same DynamoDB transaction as the user's quota.
"""

from __future__ import annotations

from backfuture.engine.spec import RequestBudget
from backfuture.exchanges import exchange


def platform_budget(exchange_id: str) -> RequestBudget:
    """The platform-wide budget of one exchange (all users, all egress IPs together)."""
    return exchange(exchange_id).budget
