"""The engine, planner, renderers and CLI know providers only through what they declare.

No provider type name and no kind name may appear in their code, strings, docstrings or
comments: what the engine needs to know about a platform comes from the provider's schemas
(annotations such as ``x-order``, ``x-check``, ``x-upgrades``) and its declared capabilities
(``providers/base.py``). Only the providers' own packages and the embedded sandbox, which stands
in for the built-in platforms, may name them.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

from reconciler import schema

PACKAGE = Path(schema.__file__).resolve().parent
# the providers themselves, and the embedded sandbox with its own command line
MAY_NAME_PROVIDERS = ("providers/", "sandbox/", "commands/sandbox.py")


def _names() -> re.Pattern[str]:
    types = set(schema.provider_types())
    words = types | {t.replace("-", "_") for t in types} | schema.all_kinds()
    alternatives = "|".join(sorted(map(re.escape, words), key=len, reverse=True))
    return re.compile(rf"(?<![\w-])({alternatives})(?![\w-])")


def _engine_modules() -> list[Path]:
    return [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if not path.relative_to(PACKAGE).as_posix().startswith(MAY_NAME_PROVIDERS)
    ]


def _mentions(path: Path, names: re.Pattern[str], base: Path = PACKAGE) -> list[str]:
    found = []
    text = path.read_text(encoding="utf-8")
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type in (tokenize.STRING, tokenize.COMMENT, tokenize.NAME):
            for match in names.finditer(token.string):
                where = path.relative_to(base).as_posix()
                found.append(f"{where}:{token.start[0]}: {match.group(0)}")
    return found


def test_the_guard_sees_every_installed_type_and_kind() -> None:
    names = _names()
    assert names.search('KIND = "Schedule"') and names.search("x == 'automation-runs'")
    assert names.search("# the workspace adapter") and not names.search("CheckRunner")


def test_engine_planner_renderers_and_cli_name_no_provider_type_or_kind() -> None:
    names = _names()
    modules = _engine_modules()
    assert any(p.name == "plan.py" for p in modules) and any(p.name == "cli.py" for p in modules)
    found = [line for path in modules for line in _mentions(path, names)]
    assert found == [], "declare it in the provider instead:\n" + "\n".join(found)


def test_a_planted_name_is_caught(tmp_path: Path) -> None:
    planted = tmp_path / "plan.py"
    planted.write_text('RANK = {"Connection": 0}  # before the outlit ones\n', encoding="utf-8")
    assert _mentions(planted, _names(), tmp_path) == ["plan.py:1: Connection", "plan.py:1: outlit"]


# the automation runs API's own field names: only its provider reads them, the rest of
# reconciler sees the typed run records (``run_records.py``) that provider returns
WIRE_FIELDS = re.compile(
    r"(?<![\w-])(automationId|triggerType|createdAt|startedAt|completedAt|durationSeconds"
    r"|stepKey|dependsOn|completedCount|failedCount|runningCount|pendingCount)(?![\w-])"
)


def test_no_module_outside_the_providers_reads_a_runs_api_field() -> None:
    found = [line for path in _engine_modules() for line in _mentions(path, WIRE_FIELDS)]
    assert found == [], "read it into the run records in the provider instead:\n" + "\n".join(
        found
    )


def test_a_planted_wire_field_is_caught(tmp_path: Path) -> None:
    planted = tmp_path / "health.py"
    planted.write_text('when = run.get("createdAt")  # or stepKey\n', encoding="utf-8")
    assert _mentions(planted, WIRE_FIELDS, tmp_path) == [
        "health.py:1: createdAt", "health.py:1: stepKey"]


def _imports(path: Path) -> set[str]:
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {name for name in found if name.split(".")[0] == "reconciler"}


# what a provider's package may use of reconciler: the nouns (the run records among them),
# errors, its settings, masking, and the providers' shared layers (protocol, HTTP); the HTTP
# layer alone opens the embedded sandbox
PROVIDERS_MAY_IMPORT = ("reconciler.model", "reconciler.run_records", "reconciler.errors",
                        "reconciler.config", "reconciler.masking", "reconciler.providers",
                        "reconciler.__version__")
# what the engine may use of the providers: the protocol, the registry, the shared HTTP layer
# and the shared answer-shape checks
ENGINE_MAY_IMPORT = ("reconciler.providers.base", "reconciler.providers.registry",
                     "reconciler.providers.http", "reconciler.providers.answers")


def test_providers_import_only_the_nouns_and_their_shared_layers() -> None:
    wrong = []
    for path in sorted((PACKAGE / "providers").rglob("*.py")):
        for name in _imports(path):
            opens_sandbox = path.parent.name == "http" and path.name == "client.py"
            allowed = name.startswith(PROVIDERS_MAY_IMPORT) or (
                opens_sandbox and name.startswith("reconciler.sandbox")
            )
            if not allowed and name != "reconciler":
                wrong.append(f"{path.relative_to(PACKAGE)}: {name}")
    assert wrong == []


def test_the_engine_imports_no_adapter() -> None:
    wrong = [
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in _engine_modules()
        for name in _imports(path)
        if name.startswith("reconciler.providers.") and not name.startswith(ENGINE_MAY_IMPORT)
    ]
    assert wrong == []
