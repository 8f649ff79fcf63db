"""Officials' admin for pledges: writing, adopting, publishing, withdrawing.

Scope comes from `portal.scope` through `ScopedAdmin` (lists, change views,
actions) and the inlines' parent object; the custom views (preview, adopt,
publish, withdraw, full history) fetch the pledge through the same scoped
`get_object`. State changes go through `pledges.services`.
"""

from pledges.admin.commitment import CommitmentAdmin
from pledges.admin.pledge import PledgeAdmin

__all__ = ["CommitmentAdmin", "PledgeAdmin"]
