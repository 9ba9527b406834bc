"""A provider written outside this package (examples/provider-plugin) validates, plans, applies
and drifts through its ``reconciler.providers`` entry point, with no change to ``reconciler/``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "examples" / "provider-plugin"
CLI = "import sys; sys.argv[0] = 'reconciler'; from reconciler.cli import main; main()"


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(PLUGIN / "project", project)
    return project


def _runner(python: str, pythonpath: str):
    """Run ``reconciler ARGS`` with ``python``, importing reconciler from this checkout."""
    env = {**os.environ, "PYTHONPATH": pythonpath, "NO_COLOR": "1"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [python, "-c", CLI, *args], capture_output=True, text=True, env=env, timeout=120
        )

    return run


def _registered_without_install(tmp_path: Path) -> str:
    """A PYTHONPATH on which the plugin is registered as pip would (a dist-info beside it)."""
    site = tmp_path / "site"
    info = site / "reconciler_widgets-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: reconciler-widgets\n"
                                   "Version: 0.1.0\n")
    (info / "entry_points.txt").write_text(
        "[reconciler.providers]\nwidgets = reconciler_widgets:WidgetsProvider\n"
    )
    return os.pathsep.join([str(ROOT), str(PLUGIN / "src"), str(site)])


def test_the_plugins_kinds_are_validated_with_its_own_schemas(tmp_path: Path) -> None:
    project = _project(tmp_path)
    run = _runner(sys.executable, _registered_without_install(tmp_path))
    done = run("-C", str(project), "validate")
    assert done.returncode == 0, done.stderr
    manifest = project / "manifests" / "widgets.yaml"
    text = manifest.read_text().replace("kind: Widget", "kind: Widgit", 1)
    manifest.write_text(text.replace("size: 3", "size: 30"))
    done = run("-C", str(project), "validate", "--format", "json")
    assert done.returncode == 1, done.stderr
    problems = {(p["line"], p["path"]): p for p in json.loads(done.stdout)["problems"]}
    # the kind is checked against the plugin type's own kinds, with a suggestion from them
    assert problems[(2, "kind")]["suggestion"] == "Widget"
    assert "(type widgets)" in problems[(2, "kind")]["message"]
    # the spec against the plugin's schema: size is 1 to 10 there
    assert [p["identity"] for (_, path), p in problems.items() if path == "spec.size"] == [
        "shop/Widget/back-office"
    ]


def test_the_plugins_settings_are_checked_with_its_settings_schema(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "reconciler.yaml").write_text(
        "version: 1\nproviders:\n  shop:\n    type: widgets\n    fodler: platform\n"
    )
    run = _runner(sys.executable, _registered_without_install(tmp_path))
    done = run("-C", str(project), "validate", "--format", "json")
    assert done.returncode == 1
    problems = json.loads(done.stdout)["problems"]
    found = {(p["path"], p["message"], p["suggestion"]) for p in problems}
    assert ("providers.shop.fodler", "unknown field 'fodler'", "folder") in found
    assert ("providers.shop", "missing required field 'folder'", "") in found


@pytest.mark.slow
def test_an_installed_plugin_validates_plans_applies_and_drifts(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
        check=True, capture_output=True, timeout=120,
    )
    python = str(venv / "bin" / "python")
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INDEX": "1"}
    env.pop("PYTHONPATH", None)
    installed = subprocess.run(
        [python, "-m", "pip", "install", "--no-deps", "--no-build-isolation", str(PLUGIN)],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    # the plugin comes from the venv; reconciler from this checkout
    run = _runner(python, str(ROOT))
    project = _project(tmp_path)
    where = ("-C", str(project))

    done = run(*where, "validate")
    assert done.returncode == 0, done.stderr
    done = run(*where, "plan", "--detailed-exitcode")
    assert done.returncode == 2, done.stderr
    assert "+ shop/Widget/front-door" in done.stdout
    done = run(*where, "apply", "--auto-approve")
    assert done.returncode == 0, done.stderr
    widgets = {json.loads(p.read_text())["slug"]: p for p in (project / "platform").glob("*.json")}
    assert sorted(widgets) == ["back-office", "front-door"]
    done = run(*where, "plan", "--detailed-exitcode")
    assert done.returncode == 0, done.stdout + done.stderr

    # an edit behind reconciler's back is drift, and names the field
    front = json.loads(widgets["front-door"].read_text())
    widgets["front-door"].write_text(json.dumps({**front, "color": "red"}))
    done = run(*where, "drift")
    assert done.returncode == 2, done.stderr
    assert '~ color: "red" -> "green"' in done.stdout
    # the plugin ran from the venv, not from the example's source folder
    origin = subprocess.run(
        [python, "-c", "import reconciler_widgets; print(reconciler_widgets.__file__)"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert str(venv) in origin.stdout
