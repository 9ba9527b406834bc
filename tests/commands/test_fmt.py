"""``reconciler fmt``: one canonical layout, comments and meaning kept, idempotent, --check."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.config import load_project
from reconciler.manifest import load_resources
from reconciler.manifest.layout import LayoutError, canonical

from .helpers import EXAMPLES, copy_example, run

MESSY = """\
# yaml-language-server: $schema=../schemas/manifest.schema.json
# Automations of the ops team.
spec:
    description: Posts the digest.   # shown in the UI (the comment keeps its column)
    code: |
        def run(inputs, tools):
            return {"ok": True}
    marked_outputs: [ok, 'yes']
kind: Automation
apiVersion: reconciler/v1
metadata: {provider: studio, name: digest, labels: {team: ops}}
---
# the digest's schedule
apiVersion: reconciler/v1
kind: Schedule
metadata:
    name: digest
    provider: studio
spec:
    automation: digest
    cron: "0 6 * * *"
    inputs: {}
...
"""

CANONICAL = """\
# yaml-language-server: $schema=../schemas/manifest.schema.json
# Automations of the ops team.
apiVersion: reconciler/v1
kind: Automation
metadata:
  name: digest
  provider: studio
  labels:
    team: ops
spec:
  description: Posts the digest.     # shown in the UI (the comment keeps its column)
  code: |
    def run(inputs, tools):
        return {"ok": True}
  marked_outputs:
    - ok
    - 'yes'
---
# the digest's schedule
apiVersion: reconciler/v1
kind: Schedule
metadata:
  name: digest
  provider: studio
spec:
  automation: digest
  cron: "0 6 * * *"
  inputs: {}
"""


def test_canonical_layout_orders_the_envelope_and_keeps_comments_and_quotes() -> None:
    assert canonical(MESSY) == CANONICAL
    assert canonical(CANONICAL) == CANONICAL


@pytest.mark.parametrize("example", ["quickstart", "full"])
def test_the_examples_are_in_the_canonical_layout(example: str) -> None:
    checked = run(EXAMPLES / example, "fmt", "--check")
    assert checked.exit_code == 0, checked.output
    assert checked.stdout == ""


def _meaning(project: Path) -> list[tuple]:
    return [
        (r.id, r.provider_type, r.spec, dict(r.labels), r.lifecycle)
        for r in load_resources(load_project(project))
    ]


def test_fmt_rewrites_only_what_changes_keeps_meaning_and_is_idempotent(tmp_path: Path) -> None:
    project = copy_example(tmp_path)
    (project / "manifests" / "digest.yaml").write_text(MESSY.replace("digest", "digest2"))
    tidy = (project / "manifests" / "connections.yaml").read_text()
    before = _meaning(project)

    checked = run(project, "fmt", "--check")
    assert checked.exit_code == 1
    assert checked.stdout == "manifests/digest.yaml\n"  # the file list and nothing else
    assert "would change 1 of 7" in checked.stderr
    assert (project / "manifests" / "digest.yaml").read_text() == MESSY.replace("digest", "digest2")

    done = run(project, "fmt")
    assert done.exit_code == 0, done.output
    assert done.stdout == "manifests/digest.yaml\n"
    assert (project / "manifests" / "connections.yaml").read_text() == tidy
    assert _meaning(project) == before
    again = run(project, "fmt", "--check")
    assert again.exit_code == 0 and again.stdout == ""


def test_fmt_leaves_a_file_it_cannot_read_and_formats_the_rest(tmp_path: Path) -> None:
    project = copy_example(tmp_path)
    broken = project / "manifests" / "broken.yaml"
    broken.write_text("apiVersion: reconciler/v1\nkind: [Automation\n")
    duplicated = project / "manifests" / "twice.yaml"
    duplicated.write_text("kind: Automation\nkind: Schedule\n")
    other = project / "manifests" / "flow.yaml"
    other.write_text("kind: Connection\napiVersion: reconciler/v1\n")
    result = run(project, "fmt")
    assert result.exit_code == 1
    assert "manifests/broken.yaml:3:1:" in result.stderr
    assert "manifests/twice.yaml:2:1:" in result.stderr and "duplicate" in result.stderr
    assert result.stdout == "manifests/flow.yaml\n"
    assert other.read_text() == "apiVersion: reconciler/v1\nkind: Connection\n"
    assert broken.read_text() == "apiVersion: reconciler/v1\nkind: [Automation\n"


def test_fmt_takes_files_and_folders(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.yaml").write_text("kind: X\napiVersion: v\n")
    (tmp_path / "two.yml").write_text("list: [1, 2]\n")
    (tmp_path / "notes.txt").write_text("a: [b]\n")
    result = run(tmp_path, "fmt", "a", "two.yml")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "two.yml").read_text() == "list:\n  - 1\n  - 2\n"
    assert run(tmp_path, "fmt", "notes.txt", "missing.yaml").exit_code == 1


def test_a_layout_that_would_change_meaning_or_drop_a_comment_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from reconciler.manifest import layout

    monkeypatch.setattr(layout, "_block_style", lambda node: node.pop("kind", None))
    with pytest.raises(LayoutError, match="change what the file means"):
        canonical("apiVersion: v\nkind: X\n")
    monkeypatch.setattr(layout, "_leading_comments", lambda original, laid_out: laid_out)
    with pytest.raises(LayoutError, match="drop the comment") as raised:
        canonical("# about a\n---\napiVersion: v\n")
    assert raised.value.line == 1


scalars = st.one_of(
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text("abcxyz_", min_size=1, max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=40, deadline=None)
@given(spec=st.dictionaries(st.text("abcxyz_", min_size=1, max_size=5), values, max_size=4))
def test_any_document_keeps_its_values_and_the_layout_is_a_fixed_point(spec: dict) -> None:
    import json

    text = (
        "spec: " + json.dumps(spec, ensure_ascii=False) + "\nkind: Automation\n"
        "metadata: {name: a, provider: p}\napiVersion: reconciler/v1\n"
    )
    laid_out = canonical(text)
    assert canonical(laid_out) == laid_out
    assert laid_out.startswith("apiVersion: reconciler/v1\nkind: Automation\nmetadata:\n")
