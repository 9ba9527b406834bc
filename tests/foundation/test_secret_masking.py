"""No secret value reaches output: not from a manifest, the project file, or a platform's answer.

Each case was seen printed; each runs through the command line in every format it has.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from reconciler.cli import cli
from reconciler.masking import MASK, Masker
from reconciler.sandbox.server import LoopbackServer

ROOT = Path(__file__).resolve().parents[2]
FORMATS = ("text", "json", "github")
HEADER_SECRET = "9876543210123"
LITERAL_TOKEN = "ghp_SECRETVALUE123"


def run(project: Path, *args: str):
    return CliRunner().invoke(cli, ["-C", str(project), *args], catch_exceptions=False)


def full_example(tmp_path: Path) -> Path:
    project = tmp_path / "full"
    shutil.copytree(ROOT / "examples" / "full", project,
                    ignore=shutil.ignore_patterns(".reconciler"))
    return project


def with_datallog_webhook(project: Path, webhook: str) -> None:
    checks = project / "manifests" / "checks.yaml"
    text = checks.read_text().replace("  timeout: 30s", f"  webhook: {webhook}\n  timeout: 30s")
    checks.write_text(text)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_sensitive_header_of_the_wrong_type_is_never_quoted(tmp_path, fmt):
    project = full_example(tmp_path)
    with_datallog_webhook(
        project, f"{{url: 'https://hooks.example/x', headers: {{X-Secret: {HEADER_SECRET}}}}}")
    result = run(project, "validate", "--format", fmt)
    assert result.exit_code == 1
    assert "X-Secret" in result.output  # the problem is still named, at its field
    assert HEADER_SECRET not in result.output


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_webhook_written_as_a_json_string_is_never_quoted(tmp_path, fmt):
    project = full_example(tmp_path)
    header = f'"headers": {{"X-Key": "sk-{HEADER_SECRET}"}}'
    webhook = f"'{{{header}, \"url\": \"https://hooks.example/x\"}}'"
    with_datallog_webhook(project, webhook)
    result = run(project, "validate", "--format", fmt)
    assert result.exit_code == 1
    assert "webhook" in result.output
    assert HEADER_SECRET not in result.output


def with_literal_token(project: Path) -> None:
    config = project / "reconciler.yaml"
    config.write_text(config.read_text().replace(
        "    workspace_id: ws_full\n", f"    workspace_id: ws_full\n    token: {LITERAL_TOKEN}\n"))


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_literal_token_in_the_project_file_is_never_printed_back(tmp_path, fmt):
    project = full_example(tmp_path)
    with_literal_token(project)
    for command in (["validate", "--format", fmt], ["plan", "--format", fmt]):
        result = run(project, *command)
        assert result.exit_code == 1, result.output
        assert "providers.studio.token" in result.output
        assert LITERAL_TOKEN not in result.output


def echoing_platform() -> Starlette:
    """A platform that answers every call 401, quoting the credential it was sent."""

    async def refuse(request: Request) -> JSONResponse:
        sent = request.headers.get("authorization", "")
        error = {"code": 16, "message": f"invalid credential {sent}", "status": "UNAUTHENTICATED"}
        return JSONResponse({"error": error}, status_code=401)

    return Starlette(routes=[Route("/{path:path}", refuse, methods=["GET", "POST", "PATCH"])])


def test_a_platform_error_that_echoes_the_credential_is_printed_masked(tmp_path, monkeypatch):
    token = "wk-live-0123456789abcdef"
    monkeypatch.setenv("STUDIO_TOKEN", token)
    project = full_example(tmp_path)
    with LoopbackServer(echoing_platform(), name="echo") as server:
        config = project / "reconciler.yaml"
        config.write_text(config.read_text().replace(
            "    base_url: sandbox\n    organization_id: org_demo",
            f"    base_url: {server.url}\n    token: ${{env:STUDIO_TOKEN}}\n"
            "    max_retries: 0\n    organization_id: org_demo", 1))
        result = run(project, "plan", "--debug")
    assert result.exit_code == 1
    assert "invalid credential" in result.stderr and MASK in result.stderr
    assert token not in result.output


def test_the_masker_masks_every_known_value_longest_first():
    masker = Masker()
    masker.remember("abcdefgh")
    masker.remember("abcdefgh-longer")
    masker.remember({"X": 12345678901, "Y": ["q\"uoted-secret"]})
    masker.remember("short")  # too short to mask in free text
    text = 'abcdefgh-longer abcdefgh 12345678901 "q\\"uoted-secret" short'
    assert masker.mask(text) == '*** *** *** "***" short'
