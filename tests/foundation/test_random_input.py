"""Whatever bytes a manifest holds, validation answers with problems, never a crash."""

from __future__ import annotations

import string
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.config import load_project
from reconciler.errors import ConfigError
from reconciler.manifest import validate_project
from reconciler.manifest.yaml_source import YAMLProblem, read_documents

from .helpers import AUTOMATION, PROJECT_FILE

YAML_ALPHABET = string.ascii_letters + string.digits + " \n\t:-[]{},&*!|>'\"#%@`?~.=<\\/$"

# Text built from YAML's own punctuation, and structured values dumped as YAML then mutated.
yaml_like_text = st.text(alphabet=YAML_ALPHABET, max_size=300)
values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=15,
)


@st.composite
def mutated_manifests(draw: st.DrawFn) -> str:
    base = draw(st.sampled_from([AUTOMATION, yaml.safe_dump(draw(values))]))
    cut = draw(st.integers(0, len(base)))
    insert = draw(st.text(alphabet=YAML_ALPHABET, max_size=20))
    return base[:cut] + insert + base[cut + draw(st.integers(0, 10)) :]


@settings(max_examples=120, deadline=None)
@given(st.one_of(yaml_like_text, st.text(max_size=200), mutated_manifests()))
def test_reader_raises_only_yaml_problems(text: str) -> None:
    try:
        for document in read_documents(text):
            document.mark(("a", 0, "b"), key=True)
    except YAMLProblem as problem:
        assert problem.line >= 1 and problem.column >= 1


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.one_of(mutated_manifests(), yaml_like_text, st.binary(max_size=100)))
def test_validation_of_random_manifests_never_crashes(tmp_path: Path, content: str | bytes) -> None:
    (tmp_path / "reconciler.yaml").write_text(PROJECT_FILE)
    manifests = tmp_path / "manifests"
    manifests.mkdir(exist_ok=True)
    data = content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass")
    (manifests / "random.yaml").write_bytes(data)
    report = validate_project(load_project(tmp_path))
    for problem in report.problems:
        assert problem.file == "manifests/random.yaml"
        assert problem.line >= 1 and problem.message


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.one_of(yaml_like_text, st.text(max_size=200)))
def test_random_project_files_fail_only_with_config_errors(tmp_path: Path, content: str) -> None:
    (tmp_path / "reconciler.yaml").write_text(content, encoding="utf-8", errors="surrogatepass")
    try:
        load_project(tmp_path)
    except ConfigError as error:
        assert error.message.startswith("reconciler.yaml")


VALID_DOCUMENTS = [
    {
        "apiVersion": "reconciler/v1",
        "kind": "Automation",
        "metadata": {
            "name": "a",
            "provider": "studio",
            "labels": {"t": "x"},
            "lifecycle": {"prevent_destroy": True, "ignore_changes": ["spec.code"]},
        },
        "spec": {"code": "x", "connections": ["c"], "stage": "draft"},
    },
    {
        "apiVersion": "reconciler/v1",
        "kind": "Schedule",
        "metadata": {"name": "s", "provider": "studio"},
        "spec": {"automation": "nightly", "cron": "0 6 * * *", "end": {"never": True}},
    },
    {
        "apiVersion": "reconciler/v1",
        "kind": "Check",
        "metadata": {"name": "c", "provider": "lab"},
        "spec": {
            "project": "p",
            "automation": "a",
            "webhook": {"url": "https://x.y", "headers": {"k": "v"}},
        },
    },
    {
        "apiVersion": "reconciler/v1",
        "kind": "Automation",
        "metadata": {"name": "o", "provider": "growth"},
        "spec": {"signals": ["s"], "trigger": {}},
    },
]


def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _replace(value: object, path: tuple, new: object) -> object:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)  # type: ignore[call-overload]
    copy[path[0]] = _replace(copy[path[0]], path[1:], new)
    return copy


@st.composite
def damaged_documents(draw: st.DrawFn) -> str:
    documents = []
    for _ in range(draw(st.integers(1, 3))):
        document: object = draw(st.sampled_from(VALID_DOCUMENTS))
        for _ in range(draw(st.integers(1, 3))):
            path = draw(st.sampled_from(_paths(document)))
            document = _replace(document, path, draw(values))
        documents.append(yaml.safe_dump(document))
    return "---\n".join(documents)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=damaged_documents())
def test_documents_with_wrong_shapes_never_crash(tmp_path: Path, content: str) -> None:
    (tmp_path / "reconciler.yaml").write_text(PROJECT_FILE)
    (tmp_path / "manifests").mkdir(exist_ok=True)
    (tmp_path / "manifests" / "nightly.yaml").write_text(AUTOMATION)
    (tmp_path / "manifests" / "random.yaml").write_text(content)
    report = validate_project(load_project(tmp_path))
    for problem in report.problems:
        assert problem.line >= 1 and problem.message
