"""Markdown for a pull request comment or a job summary: a summary line, then one collapsed
section per provider with its operations as a coloured diff.

GitHub refuses comments over 65,536 characters, so the body is cut below ``limit`` with a notice
saying how much was left out and where the full plan is. Sizes are counted in UTF-8 bytes, which
is never less than the characters a forge counts, so a body that fits here fits there.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from reconciler.render.report import NOT_REFRESHED, SUMMARY_ORDER, PlanReport, ResourceChange
from reconciler.render.text import planned, render_operations

LIMIT = 65_000
NOTICE_ROOM = 400  # kept free for the truncation notice
UNMANAGED_SHOWN = 50


def render_markdown(report: PlanReport, limit: int = LIMIT, full_plan: str = "") -> str:
    """A comment body that always fits under ``limit``; ``full_plan`` is a link for the notice
    when it had to be cut (the CI run holding the saved plan), else the notice says how to see it.
    """
    head = f"### reconciler {report.title.lower()}\n"
    if not report.plan.refreshed:
        head += f"\n> {NOT_REFRESHED}\n"
    tail = [part for part in (unmanaged_section(report), failed_runs_section(report)) if part]
    if not report.changes:
        lead, rest = report.no_changes.split(". ", 1)  # "No changes", what was compared
        return joined([head, f"**{lead}.** {rest}\n", *tail])
    summary = f"**{report.summary()}**\n"
    budget = limit - size(joined([head, summary, *tail])) - NOTICE_ROOM
    sections, left_out = sections_within(by_provider(report.changes), budget)
    notice = [truncation_notice(left_out, full_plan)] if left_out else []
    return joined([head, summary, *sections, *notice, *tail])


def joined(parts: list[str]) -> str:
    """Markdown blocks (each ending in one newline) with a blank line between them."""
    return "\n".join(parts)


def size(text: str) -> int:
    """What a piece of the body costs against the limit."""
    return len(text.encode("utf-8"))


@dataclass(frozen=True)
class _Section:
    provider: str
    changes: tuple[ResourceChange, ...]

    def summary(self) -> str:
        counts = Counter(change.action for change in self.changes)
        return ", ".join(
            f"{counts[action]} to {action.value}" for action in SUMMARY_ORDER if counts[action]
        )

    def framed(self, text: str) -> str:
        """``text`` in a collapsed block under the provider's name, as a ```diff code block."""
        fence = "`" * max(3, _longest_backtick_run(text) + 1)  # a fence the text cannot close
        return (
            f"<details><summary><b>{self.provider}</b>: {self.summary()}</summary>\n\n"
            f"{fence}diff\n{text}{fence}\n\n</details>\n"
        )


def by_provider(changes: tuple[ResourceChange, ...]) -> list[_Section]:
    """Sections in the order providers first appear in the plan; plan order inside each."""
    grouped: dict[str, list[ResourceChange]] = {}
    for change in changes:
        grouped.setdefault(change.id.provider, []).append(change)
    return [_Section(provider, tuple(items)) for provider, items in grouped.items()]


def sections_within(
    sections: list[_Section],
    budget: int,
    describe: Callable[[ResourceChange], str] = planned,
) -> tuple[list[str], int]:
    """The sections that fit in ``budget`` (the last one cut at a line), and the bytes left out."""
    shown: list[str] = []
    left_out = 0
    for section in sections:
        text = _diff_coloured(render_operations(section.changes, describe=describe))
        if left_out:
            left_out += size(text)
            continue
        whole = section.framed(text)
        if size(whole) + 1 <= budget:  # and the blank line after it
            shown.append(whole)
            budget -= size(whole) + 1
            continue
        frame = size(whole) + 1 - size(text)
        kept = _lines_within(text, budget - frame)
        if kept:
            shown.append(section.framed(kept))
        left_out = size(text) - size(kept)
    return shown, left_out


def _longest_backtick_run(text: str) -> int:
    runs = re.findall(r"`+", text)
    return max((len(run) for run in runs), default=0)


def _lines_within(text: str, room: int) -> str:
    """The longest run of whole lines from the start of ``text`` that fits in ``room`` bytes."""
    kept: list[str] = []
    used = 0
    for line in text.splitlines(keepends=True):
        used += size(line)
        if used > room:
            break
        kept.append(line)
    return "".join(kept)


def truncation_notice(left_out: int, full_plan: str, what: str = "plan") -> str:
    """Says how much was cut and where the whole ``what`` (plan or report) can be seen."""
    where = (
        f"The full {what} is in [the saved plan of this run]({full_plan})."
        if full_plan
        else f"Run `reconciler {'plan' if what == 'plan' else 'drift'}` to see the full {what}."
    )
    return f"> Output truncated: {left_out} more characters not shown. {where}\n"


def unmanaged_section(report: PlanReport) -> str:
    """Objects found live that no manifest or state entry claims, collapsed."""
    if not report.unmanaged:
        return ""
    count = len(report.unmanaged)
    shown = [f"- `{rid}` (remote id `{remote_id}`)" for rid, remote_id in report.unmanaged]
    if count > UNMANAGED_SHOWN:
        shown = [*shown[:UNMANAGED_SHOWN], f"- … and {count - UNMANAGED_SHOWN} more"]
    return (
        f"<details><summary>{count} unmanaged object(s) found live (never touched)</summary>"
        "\n\n" + "\n".join(shown) + "\n\n</details>\n"
    )


def failed_runs_section(report: PlanReport) -> str:
    """A short list of failed runs (drift reports), at most twenty lines."""
    if not report.failed_runs:
        return ""
    shown = [f"- `{failure.describe()}`" for failure in report.failed_runs[:20]]
    more = len(report.failed_runs) - len(shown)
    if more:
        shown.append(f"- … and {more} more (`reconciler runs list --status failed`)")
    return f"**{report.failed_runs_heading()}**\n\n" + "\n".join(shown) + "\n"


# GitHub colours a ```diff block by each line's first character: + green, - red, ! orange.
_MARKS = (
    ("-/+ ", "!"),
    ("+ ", "+"),
    ("- ", "-"),
    ("~ ", "!"),
    ("> ", "!"),
    ("< ", "!"),
    ("^ ", "!"),
)


def _diff_coloured(text: str) -> str:
    """Move each line's change symbol to column 0 so a ```diff block colours it."""
    lines = []
    for line in text.splitlines():
        body = line.lstrip(" ")
        indent = line[: len(line) - len(body)]
        mark = next((m for prefix, m in _MARKS if body.startswith(prefix)), None)
        lines.append(f"{mark}{indent[1:]}{body}" if mark and indent else line)
    return "\n".join(lines) + "\n"
