"""The HTTP layer is one package with a short public surface; its modules are private."""

from __future__ import annotations

import re
from pathlib import Path

import reconciler.providers.http as http

ROOT = Path(__file__).resolve().parents[2]
PRIVATE = re.compile(r"reconciler\.providers\.http\.\w+")


def test_everything_adapters_use_is_exported_from_the_package():
    for name in http.__all__:
        assert getattr(http, name) is not None, name
    assert http.create_once is http.send_once


def test_no_module_outside_the_http_package_reaches_into_it():
    inside = ROOT / "reconciler" / "providers" / "http"
    reaching = [
        str(path.relative_to(ROOT))
        for folder in ("reconciler", "tests")
        for path in (ROOT / folder).rglob("*.py")
        if inside not in path.parents and PRIVATE.search(path.read_text())
    ]
    assert reaching == []


def test_each_module_of_the_http_layer_stays_small():
    folder = Path(http.__file__).parent
    sizes = {p.name: len(p.read_text().splitlines()) for p in folder.glob("*.py")}
    assert len(sizes) >= 6 and max(sizes.values()) <= 400, sizes


def test_the_http_layer_names_no_platform_and_each_shape_lives_with_its_provider():
    for name in ("aip_error", "outlit_error", "datallog_error", "detail_error", "datallog_auth"):
        assert not hasattr(http, name), name
    homes = {
        "workspace": "aip_error",
        "outlit": "outlit_error",
        "datallog": "datallog_error",
        "automation_runs": "detail_error",
    }
    for package, parser in homes.items():
        shapes = ROOT / "reconciler" / "providers" / package / "shapes.py"
        assert f"def {parser}(" in shapes.read_text(), package
