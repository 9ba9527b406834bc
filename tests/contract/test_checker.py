"""The contract checker builds what it needs once per document and process (validators,
casters, routes) and still judges every request and answer on its own: a call that passed does
not make a later wrong call of the same operation pass, and the other way round."""

from __future__ import annotations

import json

import pytest

from reconciler import contract

W = "/api/v1/organizations/o/workspaces/w"
AUTOMATION = f"{W}/automations/abcdefghijklmnopqrstu"
JSON = "application/json"


@pytest.fixture(scope="module")
def checker() -> contract.Checker:
    return contract.Checker("workspace")


def _request(checker: contract.Checker, method: str, path: str, query: dict[str, list[str]],
             body: bytes = b"") -> contract.Finding | None:
    return checker.check_request(method, path, query, {"content-type": JSON}, body, JSON)


def _answer(checker: contract.Checker, path: str, status: int,
            body: object) -> contract.Finding | None:
    return checker.check_response("GET", path, {}, {}, b"", JSON, status,
                                  {"content-type": JSON}, json.dumps(body).encode())


def test_a_wrong_parameter_is_found_after_right_ones_of_the_same_call(checker):
    for size in ("10", "20", "30"):
        assert _request(checker, "GET", f"{W}/automations", {"page_size": [size]}) is None
    found = _request(checker, "GET", f"{W}/automations", {"page_size": ["ten"]})
    assert found is not None and found.kind == contract.INVALID_REQUEST
    assert found.where == ("query", "page_size")
    assert _request(checker, "GET", f"{W}/automations", {"page_size": ["40"]}) is None


def test_a_wrong_body_is_found_after_right_ones_of_the_same_call(checker):
    query = {"update_mask": ["description"]}
    assert _request(checker, "PATCH", AUTOMATION, query, b'{"description": "a"}') is None
    found = _request(checker, "PATCH", AUTOMATION, query, b'{"description": 7}')
    assert found is not None and found.kind == contract.INVALID_REQUEST
    assert _request(checker, "PATCH", AUTOMATION, query, b'{"description": "b"}') is None


def test_a_wrong_id_is_found_on_a_route_already_found_with_a_right_one(checker):
    assert _request(checker, "GET", f"{W}/automations/abcdefghijklmnopqrstu:query",
                    {"stage": ["AUTOMATION_STAGE_DRAFT"]}) is None
    found = _request(checker, "GET", f"{W}/automations/a%20b:query",
                     {"stage": ["AUTOMATION_STAGE_DRAFT"]})
    assert found is not None


def test_a_wrong_answer_is_found_after_right_ones_of_the_same_call(checker):
    assert _answer(checker, f"{W}/automations", 200, {"automations": []}) is None
    found = _answer(checker, f"{W}/automations", 200, {"automations": [{"display_name": 5}]})
    assert found is not None and found.kind == contract.INVALID_RESPONSE
    assert _answer(checker, f"{W}/automations", 200, {"automations": []}) is None


def _nodes(node: object) -> int:
    if isinstance(node, dict):
        return 1 + sum(_nodes(v) for v in node.values())
    if isinstance(node, list):
        return 1 + sum(_nodes(v) for v in node)
    return 1


@pytest.mark.parametrize("provider_type", contract.provider_types())
def test_every_node_of_a_document_fits_the_found_nodes_kept(provider_type):
    # the checker keeps every node it found; none may be dropped (see RESOLVED_NODES_KEPT)
    document = contract.document(provider_type)
    assert _nodes(contract._inlined(document, document)) < contract.RESOLVED_NODES_KEPT
