"""A corpus of broken projects, one rule each: every one exits 1 naming file and line, no traceback.

Each case writes a small project (the base project of conftest plus the files below) and runs
``reconciler validate`` through the CLI in-process.
"""

from __future__ import annotations

import json
import os
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .helpers import PROJECT_FILE, ProjectMaker, run_cli


@dataclass(frozen=True)
class Case:
    """A broken project: extra files, where the problem must be reported, and what it says."""

    id: str
    files: dict[str, str | bytes | None]
    where: str  # "file:line" expected in the output
    says: str  # text the message must contain
    symlinks: dict[str, str] = field(default_factory=dict)  # link path -> target (absolute)


def doc(kind: str, name: str, spec: str, provider: str = "studio", metadata: str = "") -> str:
    """A manifest document with a spec written as YAML lines (indented here)."""
    spec_block = textwrap.indent(textwrap.dedent(spec).strip("\n"), "  ") if spec else "  {}"
    extra = textwrap.indent(textwrap.dedent(metadata).strip("\n"), "  ") + "\n" if metadata else ""
    return (
        f"apiVersion: reconciler/v1\nkind: {kind}\nmetadata:\n  name: {name}\n"
        f"  provider: {provider}\n{extra}spec:\n{spec_block}\n"
    )


M = "manifests/work.yaml"  # sorts after the base project's nightly.yaml
P = "reconciler.yaml"
SCHEDULE = "automation: nightly\ncron: '0 6 * * *'\n"


def project_with(replace: str, by: str) -> dict[str, str | bytes | None]:
    assert replace in PROJECT_FILE
    return {P: PROJECT_FILE.replace(replace, by)}


CASES = [
    # --- the project file ---------------------------------------------------------------------
    Case("project-yaml-syntax", {P: "version: 1\nproviders: [\n"}, f"{P}:3", "invalid YAML"),
    Case(
        "project-unknown-key",
        project_with("manifests:", "manifest:"),
        f"{P}:2",
        "did you mean 'manifests'",
    ),
    Case(
        "project-unknown-type",
        project_with("type: workspace", "type: worksapce"),
        f"{P}:5",
        "did you mean 'workspace'",
    ),
    Case(
        "project-missing-org",
        project_with("    organization_id: org_test\n", ""),
        f"{P}:4",
        "missing required field 'organization_id'",
    ),
    Case(
        "project-literal-token",
        project_with(
            "base_url: sandbox\n    organization_id",
            "base_url: sandbox\n    token: abc123\n    organization_id",
        ),
        f"{P}:7",
        "${env:NAME}",
    ),
    Case(
        "project-unsupported-reference",
        project_with("workspace_id: ws_test", "workspace_id: ${vault:ws}"),
        f"{P}:8",
        "only ${env:NAME} is supported",
    ),
    Case("project-version", project_with("version: 1", "version: 2"), f"{P}:1", "2 is not allowed"),
    Case(
        "project-manifests-missing",
        project_with("[manifests/]", "[manifests/, extra/]"),
        f"{P}:2",
        "'extra/' does not exist",
    ),
    Case(
        "project-manifests-glob-matches-nothing",
        project_with("[manifests/]", "[manifests/, \"m/*.yml\"]"),
        f"{P}:2",
        "manifests[1]: 'm/*.yml' matches no file",
    ),
    Case(
        "project-manifests-escape",
        project_with("[manifests/]", "[../elsewhere/]"),
        f"{P}:2",
        "outside the project folder",
    ),
    Case(
        "project-real-api-needs-token",
        project_with(
            "base_url: sandbox\n    organization_id",
            "base_url: https://api.example.com\n    organization_id",
        ),
        f"{P}:4",
        "missing required field 'token'",
    ),
    Case(
        "project-duplicate-key",
        project_with("version: 1\n", "version: 1\nversion: 1\n"),
        f"{P}:2",
        "duplicate key 'version'",
    ),
    Case(
        "project-provider-name",
        project_with("  studio:", "  Studio!:"),
        f"{P}:4",
        "name 'Studio!' is not valid",
    ),
    Case(
        "project-parallelism-range",
        project_with(
            "    workspace_id: ws_test\n", "    workspace_id: ws_test\n    parallelism: 0\n"
        ),
        f"{P}:9",
        "parallelism",
    ),
    # --- reading manifest files ---------------------------------------------------------------
    Case(
        "yaml-syntax",
        {M: "apiVersion: reconciler/v1\nkind: [Automation\n"},
        f"{M}:3",
        "invalid YAML",
    ),
    Case(
        "yaml-duplicate-key",
        {M: doc("Automation", "a", "code: x\ncode: y")},
        f"{M}:8",
        "duplicate key 'code'",
    ),
    Case(
        "yaml-alias-bomb",
        {
            M: "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
            "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
            "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
        },
        f"{M}:",
        "alias expansion exceeds",
    ),
    Case(
        "yaml-not-utf8",
        {M: b"apiVersion: reconciler/v1\nkind: Automation # caf\xe9\n"},
        f"{M}:2",
        "not valid UTF-8",
    ),
    Case("yaml-list-document", {M: "- apiVersion: reconciler/v1\n"}, f"{M}:1", "must be a mapping"),
    Case("yaml-merge-key", {M: "base: &b {x: 1}\nother:\n  <<: *b\n"}, f"{M}:3", "merge keys"),
    Case(
        "yaml-custom-tag",
        {M: doc("Automation", "a", "code: !include other.py")},
        f"{M}:7",
        "unsupported tag",
    ),
    # --- the envelope -------------------------------------------------------------------------
    Case(
        "api-version",
        {M: doc("Automation", "a", "").replace("reconciler/v1", "reconciler/v2")},
        f"{M}:1",
        "'reconciler/v2' is not allowed",
    ),
    Case("unknown-kind", {M: doc("Automaton", "a", "")}, f"{M}:2", "did you mean 'Automation'"),
    Case(
        "missing-name",
        {M: doc("Automation", "a", "").replace("  name: a\n", "")},
        f"{M}:3",
        "missing required field 'name'",
    ),
    Case(
        "invalid-name",
        {M: doc("Automation", "Nightly_Report!", "")},
        f"{M}:4",
        "does not match the required format",
    ),
    Case(
        "unknown-metadata-field",
        {M: doc("Automation", "a", "", metadata="lables: {team: x}")},
        f"{M}:6",
        "did you mean 'labels'",
    ),
    Case(
        "undefined-provider",
        {M: doc("Automation", "a", "", provider="studoi")},
        f"{M}:5",
        "did you mean 'studio'",
    ),
    Case(
        "kind-not-supported",
        {M: doc("Schedule", "a", SCHEDULE, provider="growth")},
        f"{M}:2",
        "does not manage kind 'Schedule'",
    ),
    Case(
        "kind-for-runs-provider",
        {M: doc("Check", "a", "automation: nightly", provider="history")},
        f"{M}:2",
        "manages none",
    ),
    Case(
        "missing-spec",
        {M: "apiVersion: reconciler/v1\nkind: Automation\nmetadata: {name: a, provider: studio}\n"},
        f"{M}:1",
        "missing required field 'spec'",
    ),
    Case(
        "label-not-text",
        {M: doc("Automation", "a", "", metadata="labels: {tier: 1}")},
        f"{M}:6",
        "is an integer",
    ),
    Case(
        "ignore-changes-unknown-field",
        {M: doc("Automation", "a", "", metadata="lifecycle: {ignore_changes: [spec.descripton]}")},
        f"{M}:6",
        "did you mean 'spec.description'",
    ),
    Case(
        "lifecycle-not-mapping",
        {M: doc("Automation", "a", "", metadata="lifecycle: 5")},
        f"{M}:6",
        "is an integer",
    ),
    Case(
        "ignore-changes-not-list",
        {M: doc("Automation", "a", "", metadata="lifecycle: {ignore_changes: spec.code}")},
        f"{M}:6",
        "expected list",
    ),
    Case(
        "labels-not-mapping",
        {M: doc("Automation", "a", "", metadata="labels: [a, b]")},
        f"{M}:6",
        "expected mapping",
    ),
    Case("kind-not-text", {M: doc("[Automation]", "a", "")}, f"{M}:2", "a list is not allowed"),
    Case(
        "spec-not-mapping",
        {M: doc("Automation", "a", "").replace("spec:\n  {}", "spec: code")},
        f"{M}:6",
        "expected mapping",
    ),
    # --- specs --------------------------------------------------------------------------------
    Case(
        "spec-unknown-field",
        {M: doc("Automation", "a", "display_nme: A")},
        f"{M}:7",
        "did you mean 'display_name'",
    ),
    Case(
        "spec-enum",
        {M: doc("Automation", "a", "stage: publish")},
        f"{M}:7",
        "did you mean 'published'",
    ),
    Case(
        "spec-wrong-type",
        {M: doc("Automation", "a", "marked_outputs: total")},
        f"{M}:7",
        "expected list",
    ),
    Case(
        "spec-code-and-code-file",
        {M: doc("Automation", "a", "code: x\ncode_file: a.py"), "manifests/a.py": "x"},
        f"{M}:",
        "cannot be used together",
    ),
    Case(
        "code-file-dotdot",
        {M: doc("Automation", "a", "code_file: ../secret.py"), "secret.py": "x"},
        f"{M}:7",
        "may not contain '..'",
    ),
    Case(
        "code-file-missing",
        {M: doc("Automation", "a", "code_file: missing.py")},
        f"{M}:7",
        "does not exist",
    ),
    Case(
        "code-file-absolute",
        {M: doc("Automation", "a", "code_file: /etc/passwd")},
        f"{M}:7",
        "must be a path relative",
    ),
    Case(
        "code-file-symlink-out",
        {M: doc("Automation", "a", "code_file: link.py")},
        f"{M}:7",
        "outside the project folder",
        symlinks={"manifests/link.py": "/etc/hostname"},
    ),
    Case(
        "code-file-not-utf8",
        {M: doc("Automation", "a", "code_file: a.py"), "manifests/a.py": b"\xff\xfe"},
        f"{M}:7",
        "not valid UTF-8",
    ),
    Case(
        "code-file-nul-byte",
        {M: doc("Automation", "a", "code_file: a.py"), "manifests/a.py": b"x = 1\ny = '\x00'\n"},
        f"{M}:7",
        "code_file 'a.py' holds a NUL byte (manifests/a.py:2)",
    ),
    Case(
        "spec-nan",
        {M: doc("Schedule", "s", SCHEDULE + "inputs: {n: .nan}")},
        f"{M}:9",
        "spec.inputs.n: .nan is not a number JSON can carry",
    ),
    Case(
        "spec-infinity-deep",
        {M: doc("Schedule", "s", SCHEDULE + "inputs:\n  n: [1, {m: -.inf}]")},
        f"{M}:10",
        "spec.inputs.n[1].m: -.inf is not a number JSON can carry",
    ),
    Case(
        "spec-float-overflow",
        {M: doc("Schedule", "s", SCHEDULE + "inputs: {n: 1.0e+999}")},
        f"{M}:9",
        "spec.inputs.n: .inf is not a number JSON can carry",
    ),
    Case(
        "cron-six-fields",
        {M: doc("Schedule", "s", "automation: nightly\ncron: '0 0 6 * * *'")},
        f"{M}:8",
        "has 6 fields",
    ),
    Case(
        "cron-out-of-range",
        {M: doc("Schedule", "s", "automation: nightly\ncron: '0 25 * * *'")},
        f"{M}:8",
        "out of range",
    ),
    Case(
        "timezone-unknown",
        {M: doc("Schedule", "s", SCHEDULE + "timezone: Europe/Berln")},
        f"{M}:9",
        "did you mean 'Europe/Berlin'",
    ),
    Case(
        "schedule-end-invalid",
        {M: doc("Schedule", "s", SCHEDULE + "end: {after_occurrences: 0}")},
        f"{M}:9",
        "after_occurrences: N",
    ),
    Case(
        "trigger-missing-phase",
        {M: doc("Trigger", "t", "automation: nightly\ntype: api")},
        f"{M}:6",
        "missing required field 'phase'",
    ),
    Case(
        "trigger-type-enum",
        {M: doc("Trigger", "t", "automation: nightly\nphase: main\ntype: hook")},
        f"{M}:9",
        "did you mean 'webhook'",
    ),
    Case(
        "check-timeout-format",
        {M: doc("Check", "c", "automation: nightly\ntimeout: 5 minutes")},
        f"{M}:8",
        "duration",
    ),
    Case(
        "check-expect-enum",
        {M: doc("Check", "c", "automation: nightly\nexpect: succes")},
        f"{M}:8",
        "did you mean 'success'",
    ),
    Case(
        "datallog-check-missing-project",
        {M: doc("Check", "c", "automation: daily-load", provider="lab")},
        f"{M}:6",
        "missing required field 'project'",
    ),
    Case(
        "datallog-webhook-url",
        {
            M: doc(
                "Check",
                "c",
                "project: analytics\nautomation: daily-load\nwebhook: {url: not a url}",
                provider="lab",
            )
        },
        f"{M}:9",
        "not a valid uri",
    ),
    Case(
        "outlit-signals-not-list",
        {M: doc("Automation", "o", "signals: trial-expiring", provider="growth")},
        f"{M}:7",
        "expected list",
    ),
    Case(
        "connections-repeated",
        {M: doc("Automation", "a", "connections: [slack, slack]")},
        f"{M}:7",
        "more than once",
    ),
    Case(
        "connection-missing-connector",
        {M: doc("Connection", "slack", "connection_id: slack")},
        f"{M}:6",
        "missing required field 'connector'",
    ),
    # --- across documents ---------------------------------------------------------------------
    Case(
        "duplicate-identity",
        {M: doc("Automation", "nightly", "")},
        f"{M}:4",
        "duplicate identity studio/Automation/nightly",
    ),
    Case(
        "dangling-reference",
        {M: doc("Schedule", "s", "automation: nightli\ncron: '0 6 * * *'")},
        f"{M}:7",
        "did you mean 'nightly'",
    ),
    Case(
        "duplicate-natural-key",
        {M: doc("Automation", "other", "display_name: nightly")},
        f"{M}:7",
        "already used by studio/Automation/nightly",
    ),
    Case(
        "two-schedules-one-automation",
        {M: doc("Schedule", "s1", SCHEDULE) + "---\n" + doc("Schedule", "s2", SCHEDULE)},
        f"{M}:16",
        "already used by studio/Schedule/s1",
    ),
    Case(
        "project-name-with-spaces",
        {P: "name: my project\n" + PROJECT_FILE},
        f"{P}:1",
        "name",
    ),
    # --- crons that never fire (accepted by the cron grammar, but no date matches) -------------
    Case(
        "cron-february-30",
        {M: doc("Schedule", "s", "automation: nightly\ncron: '0 0 30 2 *'")},
        f"{M}:8:9",
        "never fires",
    ),
    Case(
        "cron-april-31",
        {M: doc("Schedule", "s", "automation: nightly\ncron: '0 0 31 4 *'")},
        f"{M}:8",
        "spec.cron",
    ),
    Case(
        "cron-last-day-and-third-friday",
        {M: doc("Schedule", "s", "automation: nightly\ncron: '0 0 L * 5#3'")},
        f"{M}:8",
        "never fires",
    ),
]


def test_a_number_json_cannot_carry_is_placed_at_line_and_column(
    make_project: ProjectMaker,
) -> None:
    root = make_project({M: doc("Schedule", "s", SCHEDULE + "inputs: {n: .nan, m: .inf}")})
    result = run_cli("-C", str(root), "validate", "--format", "json")
    assert result.exit_code == 1
    problems = {(p["line"], p["column"], p["path"]) for p in json.loads(result.stdout)["problems"]}
    assert problems == {(9, 15, "spec.inputs.n"), (9, 24, "spec.inputs.m")}


def test_corpus_is_large_and_named_uniquely() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_broken_project_fails_naming_file_and_line(case: Case, make_project: ProjectMaker) -> None:
    root = make_project(case.files)
    for link, target in case.symlinks.items():
        os.symlink(target, root / link)
    result = run_cli("-C", str(root), "validate")
    output = result.output
    assert result.exit_code == 1, output
    assert case.where in result.stdout, output
    assert case.says in output, output
    assert "Traceback" not in output
    assert "internal error" not in output


@pytest.mark.parametrize("case", CASES[:14] + CASES[20:24], ids=lambda c: c.id)
def test_broken_project_annotates_github(case: Case, make_project: ProjectMaker) -> None:
    root = make_project(case.files)
    result = run_cli("-C", str(root), "validate", "--format", "github")
    assert result.exit_code == 1
    file, line = case.where.split(":", 1)
    annotations = [a for a in result.stdout.splitlines() if a.startswith("::error ")]
    assert annotations, result.output
    expected_file = Path(os.path.relpath(root / file)).as_posix()
    assert any(
        f"file={expected_file.replace(':', '%3A')},line={line}" in a for a in annotations
    ) or (not line and annotations), annotations


def test_a_linked_manifests_folder_inside_the_project_is_followed(
    make_project: ProjectMaker,
) -> None:
    root = make_project({"shared/more.yaml": doc("Schedule", "s", SCHEDULE)})
    os.symlink(root / "shared", root / "manifests" / "linked")
    os.symlink("..", root / "manifests" / "loop")  # a loop ends; nothing is read twice
    result = run_cli("-C", str(root), "validate", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["documents"] == 2


@pytest.mark.parametrize("kind", ["fifo", "device-link", "outside-folder-link"])
def test_a_manifest_name_that_is_no_regular_file_is_refused_naming_it(
    make_project: ProjectMaker, kind: str
) -> None:
    root = make_project()
    name = root / "manifests" / "extra.yaml"
    if kind == "fifo":
        os.mkfifo(name)  # reading it would wait for a writer forever
    elif kind == "device-link":
        os.symlink("/dev/zero", name)  # reading it would never end
    else:
        os.symlink(root.parent, name.with_suffix(""))
    result = run_cli("-C", str(root), "validate")
    assert result.exit_code == 1
    assert "internal error" not in result.output and "Traceback" not in result.output
    if kind == "fifo":
        assert ("manifests/extra.yaml:1:1: cannot read file: not a regular file but a FIFO"
                in result.stdout)
        fmt = run_cli("-C", str(root), "fmt", "--check")
        assert fmt.exit_code == 1 and "manifests/extra.yaml: cannot read file: not a regular "\
            "file but a FIFO" in fmt.stderr
    else:
        link = "manifests/extra.yaml" if kind == "device-link" else "manifests/extra"
        assert (f"'manifests/' reaches outside the project folder through a link ({link})"
                in result.stdout)
