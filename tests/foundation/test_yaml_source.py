"""The strict YAML reader: positions, YAML 1.2 scalars, and what it refuses."""

from __future__ import annotations

import pytest

from reconciler.manifest.yaml_source import MAX_ALIAS_NODES, YAMLProblem, decode, read_documents

STREAM = """\
# leading comment
apiVersion: reconciler/v1
spec:
  enabled: no
  when: 2026-01-01
  flags: [on, off, true, FALSE]
  count: 3
  ratio: 0.5
  nothing: ~
---
---
- second
"""


def test_documents_keep_values_and_positions() -> None:
    first, empty, second = list(read_documents(STREAM))
    assert first.value["spec"] == {
        "enabled": "no",  # YAML 1.1 booleans stay text
        "when": "2026-01-01",  # dates stay text
        "flags": ["on", "off", True, False],
        "count": 3,
        "ratio": 0.5,
        "nothing": None,
    }
    assert (first.line, first.column) == (2, 1)
    assert first.mark(("spec", "flags", 2)) == (6, 20)
    assert first.mark(("spec", "count"), key=True) == (7, 3)
    assert first.mark(("spec", "missing", "deeper")) == (4, 3)  # nearest ancestor that exists
    assert empty.value is None  # manifest reading skips empty documents
    assert second.value == ["second"]
    assert second.mark((0,)) == (12, 3)


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("a: 1\nb: 2\na: 3\n", "duplicate key 'a' (first defined at line 1)", 3),
        ("a: &x [*x]\n", "alias expansion exceeds", 1),
        ("base: &b {k: 1}\nuse: {<<: *b}\n", "merge keys", 2),
        ("? [1, 2]\n: x\n", "mapping keys must be plain strings", 1),
        ("a: !!python/object:os.system x\n", "unsupported tag", 1),
        ("a: !!int nope\n", "invalid value", 1),
        ("a: [1, 2\n", "invalid YAML", 2),
        ("a: 'open\n", "invalid YAML", 2),
    ],
)
def test_refused_input_names_line(text: str, message: str, line: int) -> None:
    with pytest.raises(YAMLProblem) as caught:
        list(read_documents(text))
    assert message in caught.value.message
    assert caught.value.line == line


def test_billion_laughs_is_refused_quickly() -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 10):
        refs = ", ".join(f"*a{level - 1}" for _ in range(10))
        levels.append(f"a{level}: &a{level} [{refs}]")
    with pytest.raises(YAMLProblem, match=str(MAX_ALIAS_NODES)):
        list(read_documents("\n".join(levels) + "\n"))


def test_small_aliases_are_fine() -> None:
    (doc,) = read_documents("common: &c {team: ops}\nlabels: *c\n")
    assert doc.value["labels"] == {"team": "ops"}


def test_utf8_with_bom_is_read_and_other_encodings_refused() -> None:
    assert decode("\ufeffa: é\n".encode()) == "a: é\n"
    with pytest.raises(YAMLProblem) as caught:
        decode(b"a: 1\nb: caf\xe9\n")
    assert (caught.value.line, caught.value.column) == (2, 7)
    with pytest.raises(YAMLProblem):
        decode("a: 1\n".encode("utf-16"))


def test_a_long_anchored_string_used_thousands_of_times_is_refused_fast_naming_its_line():
    import time

    from reconciler.manifest.yaml_source import YAMLProblem, read_documents

    big = "x" * 200_000
    uses = "\n".join(f"  k{i}: *big" for i in range(5_000))
    text = f"kind: Automation\nanchor: &big {big}\nspec:\n{uses}\n"
    started = time.monotonic()
    with pytest.raises(YAMLProblem) as refused:
        list(read_documents(text))
    assert time.monotonic() - started < 2
    assert "once its aliases are expanded" in refused.value.message
    assert refused.value.line == 2  # where the value that grew too large is anchored
