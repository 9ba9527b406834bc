"""The sandbox's SQLite store on its own."""

from __future__ import annotations

from reconciler.sandbox.store import Store


def test_with_prefix_finds_one_owners_documents_in_insertion_order(tmp_path):
    store = Store(tmp_path / "world.db")
    try:
        with store.transaction():
            for key in ("a/2", "ab/1", "a/1", "b/1", "a/3"):
                store.put("thing", key, {"key": key})
            store.put("other", "a/9", {"key": "a/9"})
        assert [d["key"] for d in store.with_prefix("thing", "a/")] == ["a/2", "a/1", "a/3"]
        assert store.with_prefix("thing", "c/") == []
    finally:
        store.close()
