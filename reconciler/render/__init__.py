"""Turn a plan into text, markdown, json or GitHub annotations. Renderers decide nothing.

``build_report`` prepares the one view every renderer reads: operations with masked before and
after specs and their source positions. Each ``render_<format>`` returns text; writing it anywhere
is the caller's job.
"""

from __future__ import annotations

from reconciler.render.report import PlanReport, ResourceChange, build_report

FORMATS = ("text", "json", "markdown", "github")

__all__ = ["FORMATS", "PlanReport", "ResourceChange", "build_report"]
