"""The schemas: valid Draft 2020-12, the spec field names of the manifest contract, annotations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from reconciler import schema
from reconciler.manifest.fast_check import compile_check

# The contract of MANIFESTS.md: these names must exist exactly (more may be added).
CONTRACT = {
    ("workspace", "Automation"): {
        "display_name",
        "description",
        "code",
        "code_file",
        "english_code",
        "marked_outputs",
        "connections",
        "upgrade_connections",
        "stage",
        "activation",
    },
    ("workspace", "Schedule"): {"automation", "cron", "timezone", "inputs", "end", "enabled"},
    ("workspace", "Trigger"): {"automation", "trigger_id", "phase", "type", "active"},
    ("workspace", "Connection"): {"connection_id", "connector"},
    ("outlit", "Automation"): {
        "key",
        "name",
        "description",
        "trigger",
        "audience_filter",
        "signals",
        "destinations",
        "enabled",
    },
    ("workspace", "Check"): {"automation", "inputs", "timeout", "expect"},
    ("datallog", "Check"): {"project", "automation", "seed", "webhook", "timeout"},
}


def test_every_schema_is_valid_draft_2020_12() -> None:
    for relative in [*schema.all_schema_files(), "manifest.schema.json"]:
        Draft202012Validator.check_schema(schema.load_schema(relative))


@pytest.mark.parametrize(("ptype", "kind"), sorted(CONTRACT))
def test_spec_fields_follow_the_manifest_contract(ptype: str, kind: str) -> None:
    assert CONTRACT[(ptype, kind)] <= set(schema.spec_schema(ptype, kind)["properties"])


def test_supported_kinds_by_provider_type() -> None:
    assert schema.supported_kinds("workspace") == {
        "Automation",
        "Schedule",
        "Trigger",
        "Connection",
        "Check",
    }
    assert schema.supported_kinds("outlit") == {"Automation"}
    assert schema.supported_kinds("datallog") == {"Check"}
    assert schema.supported_kinds("automation-runs") == set()


def test_annotations_the_engine_reads() -> None:
    assert schema.unordered_paths("workspace", "Automation") == {
        ("marked_outputs",),
        ("connections",),
    }
    assert schema.unordered_paths("outlit", "Automation") == {("signals",), ("destinations",)}
    assert schema.sensitive_paths("datallog", "Check") == {("webhook", "headers")}
    assert schema.toggle_fields("workspace", "Automation") == {
        "activation": {"active": "enable", "deactivated": "disable"}
    }
    assert schema.toggle_action("workspace", "Schedule", "enabled", False) == "disable"
    assert schema.toggle_action("outlit", "Automation", "enabled", True) == "enable"
    assert schema.toggle_action("workspace", "Automation", "stage", "draft") is None
    # the API cannot change a connection: only a new connection_id replaces (claims another)
    assert schema.replace_fields("workspace", "Connection") == {"connection_id"}
    assert "trigger_id" in schema.replace_fields("workspace", "Trigger")
    assert "key" in schema.replace_fields("outlit", "Automation")
    assert schema.reference_fields("workspace", "Schedule") == {"automation": "Automation"}
    assert schema.reference_fields("datallog", "Check") == {}
    assert schema.desired_only_fields("workspace", "Automation") == {"upgrade_connections"}
    assert schema.dependency_fields("workspace", "Automation") == {
        "connections": ("Connection", "connection_id")
    }
    assert schema.natural_key_field("workspace", "Automation") == "display_name"
    assert schema.natural_key_field("workspace", "Schedule") == "automation"


COMMITTED = Path(__file__).resolve().parents[2] / "schemas"


@pytest.mark.parametrize("name", [*schema.all_schema_files(), "manifest.schema.json"])
def test_committed_schemas_are_the_assembled_ones(name: str) -> None:
    # schemas/ is what `reconciler schema export schemas` writes, for editors and readers;
    # refresh it with that command after changing a provider's schemas
    committed = json.loads((COMMITTED / name).read_text(encoding="utf-8"))
    assert committed == schema.load_schema(name)


def test_committed_schemas_hold_nothing_else() -> None:
    exported = {*schema.all_schema_files(), "manifest.schema.json"}
    found = {p.relative_to(COMMITTED).as_posix() for p in COMMITTED.rglob("*.json")}
    assert found == exported


def test_each_provider_package_owns_its_kinds_schemas() -> None:
    package = Path(schema.__file__).resolve().parent / "providers"
    for (ptype, kind), path in schema._spec_files().items():
        assert path.is_relative_to(package), (ptype, kind, path)
        assert path.parent.name == "schemas"


def test_the_envelope_and_project_file_name_what_is_installed() -> None:
    assert schema.load_schema("envelope.schema.json")["properties"]["kind"]["enum"] == sorted(
        schema.all_kinds()
    )
    project = schema.load_schema("project.schema.json")
    assert project["$defs"]["provider"]["properties"]["type"]["enum"] == [
        "automation-runs", "datallog", "outlit", "workspace"
    ]
    # credentials are a provider type's own settings; the common ones come with every type
    assert set(project["$defs"]["datallog"]["properties"]) >= {"api_key", "token", "timeout"}
    assert "organization_id" not in project["$defs"]["outlit"]["properties"]
    assert schema.sensitive_settings("workspace") == {"token"}


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(-2, 2, allow_nan=False)
    | st.sampled_from(
        [
            "",
            "x",
            "main",
            "slack",
            "0 6 * * *",
            "5m",
            "UTC",
            "https://a.b/c",
            "2026-01-01T00:00:00Z",
            "sandbox",
            "${env:X}",
            "draft",
        ]
    ),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "automation",
                    "cron",
                    "never",
                    "after_occurrences",
                    "on_date",
                    "url",
                    "headers",
                    "code",
                    "code_file",
                    "phase",
                    "type",
                    "stage",
                    "name",
                    "timeout",
                    "end",
                    "webhook",
                    "connections",
                    "signals",
                    "x",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(CONTRACT)), JSON)
def test_quick_check_never_accepts_what_jsonschema_rejects(
    key: tuple[str, str], value: Any
) -> None:
    full = schema.spec_validator(*key)
    quick = compile_check(full.schema, full)
    if quick(value):
        assert full.is_valid(value), json.dumps(value)


CRON_PART = st.one_of(
    st.just("*"),
    st.integers(0, 70).map(str),
    st.tuples(st.integers(0, 70), st.integers(0, 70)).map(lambda t: f"{t[0]}-{t[1]}"),
    st.tuples(st.sampled_from(["*", "1-5", "0-59", "3"]), st.integers(0, 99)).map(
        lambda t: f"{t[0]}/{t[1]}"
    ),
)
CRON = st.lists(
    st.lists(CRON_PART, min_size=1, max_size=3).map(",".join), min_size=5, max_size=5
).map(" ".join)


@settings(max_examples=400, deadline=None)
@given(CRON)
def test_cron_shortcut_accepts_only_what_croniter_accepts(expression: str) -> None:
    from croniter import croniter

    from reconciler.manifest.formats import _plainly_valid

    if _plainly_valid(expression.split()):
        assert croniter.is_valid(expression), expression


@pytest.mark.parametrize(
    ("expression", "fires"),
    [
        ("0 0 29 2 *", True),  # leap years only
        ("0 0 29 2 1#5", True),  # February 29 on a Monday: once in 28 years
        ("0 0 L 2 *", True),
        ("0 0 30 2 *", False),
        ("0 0 31 4 *", False),
        ("0 0 31 2,4,6,9,11 *", False),
        ("0 0 L * 5#3", False),
    ],
)
def test_cron_must_fire_within_the_horizon(expression: str, fires: bool) -> None:
    from reconciler.manifest.formats import format_problem

    problem = format_problem("cron", expression)
    assert (problem is None) is fires, problem
    if not fires:
        assert problem is not None and "never fires" in problem[0]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.text(alphabet="0123456789*/,-#LW?HJFMANDSOT ", min_size=1, max_size=6),
        min_size=5, max_size=5,
    ).map(" ".join)
)
def test_no_cron_expression_makes_validation_raise(expression: str) -> None:
    from reconciler.manifest.formats import format_problem

    format_problem("cron", expression)  # a finding or None, never an exception
def test_each_provider_class_manages_the_kinds_its_schemas_describe() -> None:
    from reconciler.providers.registry import provider_class

    for ptype in schema.provider_types():
        assert provider_class(ptype).kinds == schema.supported_kinds(ptype), ptype


def test_validating_finds_the_providers_schemas_without_loading_adapters() -> None:
    import subprocess
    import sys

    quickstart = Path(__file__).resolve().parents[2] / "examples" / "quickstart"
    probe = (
        "import sys\n"
        "from reconciler.cli import main\n"
        f"sys.argv = ['reconciler', '-C', {str(quickstart)!r}, 'validate']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "heavy = ('httpx', 'aiohttp', 'rich', 'deepdiff', 'openapi_core',\n"
        "         'reconciler.providers.workspace.provider', 'reconciler.providers.http')\n"
        "print(' '.join(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == []
