"""What ``reconciler drift`` finds, sorted by where each difference comes from.

Drift is about the platforms: a live object that moved away from what the last apply left
(edited or deleted out of band). A manifest edited in git and not applied yet is a difference
too, but nobody touched the platform; the report lists it apart and, unless asked, it does not
make ``drift`` exit 2. This module decides; ``reconciler.render.drift`` only shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.model import DRIFT_REASONS, MUTATING_ACTIONS, Operation, Plan


@dataclass(frozen=True)
class DriftFindings:
    """The operations apply would make, split by where the difference comes from."""

    platform: tuple[Operation, ...]  # live differs from the last applied state
    unapplied: tuple[Operation, ...]  # the manifests differ from it; live still equals it

    def drifted(self, include_unapplied: bool = False) -> bool:
        """True when ``drift`` exits 2: the platforms moved (or, if asked, git did)."""
        return bool(self.platform or (include_unapplied and self.unapplied))


def find_drift(plan: Plan) -> DriftFindings:
    """Sort a fresh plan's changes: checks and adoptions change no platform and are left out."""
    moved = [op for op in plan.operations if op.action in MUTATING_ACTIONS]
    return DriftFindings(
        platform=tuple(op for op in moved if op.reason in DRIFT_REASONS),
        unapplied=tuple(op for op in moved if op.reason not in DRIFT_REASONS),
    )
