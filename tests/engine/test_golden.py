"""The golden-file helper itself: a missing golden fails instead of being written."""

from __future__ import annotations

import pytest

from tests.engine import golden


def test_a_missing_golden_file_fails_and_is_not_written(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(golden, "GOLDEN", tmp_path)
    monkeypatch.delenv("UPDATE_GOLDEN", raising=False)
    with pytest.raises(AssertionError, match="missing"):
        golden.assert_golden("absent.txt", "text")
    assert not (tmp_path / "absent.txt").exists()


def test_update_golden_writes_the_file(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(golden, "GOLDEN", tmp_path)
    monkeypatch.setenv("UPDATE_GOLDEN", "1")
    golden.assert_golden("new.txt", "text")
    assert (tmp_path / "new.txt").read_text(encoding="utf-8") == "text"
