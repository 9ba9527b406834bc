"""JSON leaving the product never holds a bare NaN or Infinity: the writer says where it is."""

from __future__ import annotations

import json

import pytest

from reconciler.errors import ReconcilerError
from reconciler.json_text import dumps
from reconciler.model import ResourceId
from reconciler.state.local import LocalStateBackend
from reconciler.state.model import State, StateEntry


def test_a_number_json_cannot_carry_is_an_error_naming_its_path() -> None:
    with pytest.raises(ReconcilerError, match=r"cannot write the plan as JSON: "
                                              r"changes\.0\.after\.n is \.nan"):
        dumps({"changes": [{"after": {"n": float("nan")}}]}, what="the plan")
    assert json.loads(dumps({"n": 1.5}, indent=2)) == {"n": 1.5}


def test_state_with_an_infinity_is_refused_and_the_file_is_left_as_it_was(tmp_path) -> None:
    backend = LocalStateBackend(tmp_path / "state.json")
    rid = ResourceId("studio", "Schedule", "s")
    state = State(entries={rid: StateEntry("r", "workspace", {"inputs": {"n": 1}}, "")})
    backend.write(state.stamped())
    before = (tmp_path / "state.json").read_bytes()
    state.entries[rid] = StateEntry("r", "workspace", {"inputs": {"n": float("-inf")}}, "")
    with pytest.raises(ReconcilerError, match=r"resources\.studio/Schedule/s\.spec\.inputs\.n "
                                              r"is -\.inf"):
        backend.write(state.stamped())
    with pytest.raises(ReconcilerError, match="state journal"):
        backend.record(state, {rid: state.entries[rid]})
    assert (tmp_path / "state.json").read_bytes() == before

