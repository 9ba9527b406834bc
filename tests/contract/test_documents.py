"""The contract as data: one OpenAPI document per provider type, valid, holding exactly the calls
of the provider contract, each marked documented or assumed, and the provider docs drawn from
the same documents."""

from __future__ import annotations

from pathlib import Path

import pytest
from openapi_spec_validator import validate

from reconciler import contract
from reconciler.providers.outlit.provider import PATHS as OUTLIT_PATHS
from reconciler.providers.workspace import calls

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
ENDPOINTS = SHARED / "design" / "endpoints.tsv"
W = "/api/v1/organizations/{organization_id}/workspaces/{workspace_id}"


@pytest.mark.parametrize("provider_type", contract.provider_types())
def test_each_document_is_valid_openapi_and_marks_every_operation(provider_type):
    validate(contract.document(provider_type))
    found = contract.operations(provider_type)
    assert found
    assert {op.source for op in found} <= {"documented", "assumed"}, provider_type
    assert len({op.operation_id for op in found}) == len(found)


@pytest.mark.skipif(not ENDPOINTS.is_file(), reason="the shared contract is not beside the project")
def test_the_documents_hold_exactly_the_calls_of_endpoints_tsv():
    wanted = set()
    for line in ENDPOINTS.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        platform, method, path, source = line.split("\t")
        wanted.add((platform, method, path.replace("W/", W + "/", 1), source.split()[0]))
    held = {(t, op.method, op.path, op.source) for t in contract.provider_types()
            for op in contract.operations(t)}
    assert held - wanted == set(), "in the documents but not in the contract"
    assert wanted - held == set(), "in the contract but not in the documents"


def test_every_path_an_adapter_knows_is_a_call_of_its_document():
    for name, template in calls.PATHS.items():
        assert template in {op.path for op in contract.operations("workspace")}, name
    for name, template in OUTLIT_PATHS.items():
        assert template in {op.path for op in contract.operations("outlit")}, name


@pytest.mark.parametrize("provider_type", contract.provider_types())
def test_the_provider_docs_list_the_documents_calls(provider_type):
    page = ROOT / "docs" / "providers" / f"{provider_type}.md"
    block = contract.docs_block(provider_type)
    assert block in page.read_text(), (
        f"{page.name} does not hold the calls of its contract document; refresh it with "
        "`python -m reconciler.contract docs/providers`")


def test_the_documents_are_shipped_inside_the_package():
    for provider_type, package in contract.PACKAGES.items():
        assert (ROOT / "reconciler" / "providers" / package / "openapi.yaml").is_file()
        assert contract.document(provider_type)["openapi"] == "3.1.0"
