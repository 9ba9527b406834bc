"""The markdown plan (PR comment, MR note, job summary): one collapsed section per provider, cut
under the forge's limit with a link to the full plan."""

from __future__ import annotations

from reconciler.diff import FieldRules
from reconciler.model import Resource, ResourceId, SourcePosition
from reconciler.plan import make_plan
from reconciler.render import build_report
from reconciler.render.markdown import render_markdown
from reconciler.state.model import State

GITHUB_LIMIT = 65_536


def rules_for(provider_type: str, kind: str) -> FieldRules:
    return FieldRules()


def automation(provider: str, name: str, **spec: object) -> Resource:
    return Resource(
        id=ResourceId(provider, "Automation", name),
        provider_type="workspace",
        spec={"display_name": name, **spec},
        source=SourcePosition(f"manifests/{provider}.yaml", 3, 1),
    )


def report_of(resources: list[Resource], title: str = "Plan"):
    return build_report(make_plan(resources, [], State(), rules_for), rules_for, title=title)


def test_each_provider_has_its_own_collapsed_section_with_its_counts():
    report = report_of(
        [automation("studio", "a"), automation("growth", "b"), automation("studio", "c")]
    )
    body = render_markdown(report)
    assert body.startswith("### reconciler plan\n\n**Plan: 3 to create,")
    assert body.count("<details>") == body.count("</details>") == 2
    studio = body.index("<details><summary><b>studio</b>: 2 to create</summary>")
    growth = body.index("<details><summary><b>growth</b>: 1 to create</summary>")
    # in the order providers first appear in the plan, each section's operations inside it
    assert (studio < growth) == (report.changes[0].id.provider == "studio")
    assert (studio < body.index("studio/Automation/a") < body.index("studio/Automation/c")) and (
        growth < body.index("growth/Automation/b")
    )
    assert (body.index("studio/Automation/c") < growth) == (studio < growth)


def test_no_changes_says_so():
    assert "**No changes.**" in render_markdown(report_of([]))


def test_a_plan_too_big_for_one_comment_is_cut_with_a_link_to_the_full_plan():
    # two providers of 300 operations each, about 80 kB each: the first is cut, the second left out
    many = [
        automation(p, f"a-{i:05d}", description="é" * 170) for p in ("x", "y") for i in range(300)
    ]
    report = report_of(many)
    first, second = report.changes[0].id.provider, report.changes[-1].id.provider
    link = "https://github.example/acme/infra/actions/runs/42"
    body = render_markdown(report, full_plan=link)
    assert 60_000 < len(body.encode()) < GITHUB_LIMIT
    shown, notice = body.split("> Output truncated: ")
    assert notice.endswith(f"The full plan is in [the saved plan of this run]({link}).\n")
    # the cut section is closed at a line; the section that did not fit is not opened
    assert shown.count("<details>") == shown.count("</details>") == 1
    assert f"<b>{first}</b>" in shown and f"<b>{second}</b>" not in shown
    assert shown.endswith("\n```\n\n</details>\n\n")
    assert 0 < shown.count(f"+ + {first}/Automation/") < 300


def test_the_cut_notice_without_a_link_says_how_to_see_the_plan():
    many = [automation("x", f"a-{i:05d}", description="d" * 400) for i in range(400)]
    body = render_markdown(report_of(many))
    assert "Run `reconciler plan` to see the full plan." in body and len(body) < GITHUB_LIMIT


def test_a_backtick_fence_in_a_value_cannot_close_the_code_block():
    body = render_markdown(report_of([automation("studio", "a", description="```\n</details>")]))
    assert "````diff\n" in body and "\n````\n" in body
