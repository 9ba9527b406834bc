"""What an apply did, for a terminal or a CI log: the summary line, then each failure and skip."""

from __future__ import annotations

from reconciler.apply import ApplyOutcome


def render_outcome(outcome: ApplyOutcome) -> str:
    """The summary line (``Apply complete: 3 done, ...``), then one per failure and skip."""
    lines = [outcome.summary()]
    lines.extend(f"  failed  {op.action} {op.id}: {error}" for op, error in outcome.failed)
    lines.extend(f"  skipped {op.action} {op.id}: {why}" for op, why in outcome.skipped)
    return "\n".join(lines) + "\n"


def render_warnings(outcome: ApplyOutcome) -> str:
    """One ``Warning:`` line per warning an operation returned (for stderr); "" when none."""
    return "".join(f"Warning: {warning}\n" for warning in outcome.warnings)
