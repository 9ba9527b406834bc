"""Reading a whole list page by page: by page token, by cursor or by offset.

A list that does not end (a token or cursor answered twice, an offset page repeating the one
before it, more than ``max_pages`` pages or ``max_list_items`` items) is an error naming the
call, never an endless loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from reconciler.errors import ProviderError
from reconciler.providers.answers import Shape, check_answer
from reconciler.providers.http.errors import json_kind

if TYPE_CHECKING:
    import httpx

MAX_PAGES = 10_000  # pages of one list: a list that does not end is an error past this
MAX_LIST_ITEMS = 1_000_000  # items of one list

T = TypeVar("T")


class Lists:
    """The list calls of ``ApiClient``, over its ``send``."""

    name: str
    platform: str
    max_pages: int
    max_list_items: int
    page_size_cap: int | None
    answers: Mapping[str, Shape]

    if TYPE_CHECKING:  # given by ApiClient

        async def send(self, method: str, template: str, *,
                       params: Mapping[str, Any] | None = None, json: Any = None,
                       idempotent: bool | None = None, **path_values: Any) -> httpx.Response: ...

        def _json(self, response: httpx.Response, call: str, *, empty: str) -> Any: ...

        def _shape_error(self, call: str, response: httpx.Response,
                         what: str) -> ProviderError: ...

    async def list_by_token(self, template: str, *, items_key: str, page_size: int,
                            params: Mapping[str, Any] | None = None,
                            **path_values: Any) -> list[Any]:
        """Every item of an AIP-158 list (``page_size``/``page_token``/``next_page_token``)."""
        pages = _Pages(self, template)
        token: str | None = None
        while True:
            query = {**(params or {}), "page_size": self._capped(page_size), "page_token": token}
            body = await self._page(template, query, path_values)
            pages.add(pages.take(body, lambda b: b.get(items_key) or []))
            token = pages.next(body.get("next_page_token") or None, "next_page_token")
            if not token:
                return pages.items

    async def list_by_cursor(self, template: str, *, items: Callable[[Any], list[Any]],
                             next_cursor: Callable[[Any], str | None], limit: int,
                             params: Mapping[str, Any] | None = None,
                             **path_values: Any) -> list[Any]:
        """Every item of a ``limit``/``cursor`` list; ``next_cursor(body)`` is None at the end."""
        pages = _Pages(self, template)
        cursor: str | None = None
        while True:
            query = {**(params or {}), "limit": self._capped(limit), "cursor": cursor}
            body = await self._page(template, query, path_values)
            pages.add(pages.take(body, items))
            cursor = pages.next(pages.take(body, next_cursor), "cursor")
            if not cursor:
                return pages.items

    async def list_by_offset(self, template: str, *, items_key: str, limit: int,
                             params: Mapping[str, Any] | None = None, total_key: str = "total",
                             max_items: int | None = None, **path_values: Any) -> list[Any]:
        """Every item of a ``limit``/``offset`` list answering ``{items_key: [...], total}``."""
        pages = _Pages(self, template)
        limit = self._capped(limit)
        while True:
            query = {**(params or {}), "limit": limit, "offset": len(pages.items)}
            body = await self._page(template, query, path_values)
            page = pages.take(body, lambda b: b.get(items_key) or [])
            pages.add(page, same_as_last=True)
            found = pages.items
            total = body.get(total_key)
            done = not page or len(page) < limit or (total is not None and len(found) >= total)
            if max_items is not None and len(found) >= max_items:
                return found[:max_items]
            if done:
                return found

    async def _page(self, template: str, query: Mapping[str, Any],
                    path_values: Mapping[str, Any]) -> dict[str, Any]:
        """One page of a list: a JSON object (an empty answer is an error, not "no objects")."""
        call = f"GET {template}"
        response = await self.send("GET", template, params=query, **path_values)
        body = self._json(response, call, empty="error")
        if not isinstance(body, dict):
            raise self._shape_error(call, response, f"a JSON {json_kind(body)} where an object "
                                    "holding a list was expected")
        return body

    def _capped(self, size: int) -> int:
        return min(size, self.page_size_cap) if self.page_size_cap else size


class _Pages:
    """The pages of one list so far, refusing a list that does not end."""

    def __init__(self, client: Lists, template: str) -> None:
        self.client = client
        self.call = f"GET {template}"
        self.items: list[Any] = []
        self.count = 0
        self.markers: set[str] = set()
        self.last: list[Any] | None = None

    def take(self, body: Any, part: Callable[[Any], T]) -> T:
        """``part(body)``; an answer of the wrong shape is a ProviderError naming the call."""
        try:
            return part(body)
        except (AttributeError, KeyError, TypeError, IndexError) as exc:
            raise ProviderError(
                f"{self.client.name}: {self.call} answered a page of an unexpected shape "
                f"({type(exc).__name__}: {exc})", platform=self.client.platform, call=self.call,
            ) from None

    def add(self, page: Any, *, same_as_last: bool = False) -> None:
        if not isinstance(page, list):
            self.fail(f"a page holds a JSON {json_kind(page)} where a list was expected")
        if same_as_last and page and page == self.last:
            self.fail(f"the page at offset {len(self.items)} repeats the one before it "
                      "(the server ignores offset?)")
        shape = self.client.answers.get(self.call)
        if shape is not None:
            for index, item in enumerate(page):
                check_answer(self.client, self.call, item, shape, f"item {len(self.items) + index}")
        self.count += 1
        self.last = page
        self.items.extend(page)
        client = self.client
        if self.count > client.max_pages or len(self.items) > client.max_list_items:
            self.fail(f"more than {client.max_pages} pages or {client.max_list_items} items")

    def next(self, marker: Any, what: str) -> str | None:
        """The next page's token or cursor, refused when it was already answered."""
        if marker is None or marker == "":
            return None
        marker = str(marker)
        if marker in self.markers:
            shown = marker if len(marker) <= 40 else marker[:37] + "..."
            self.fail(f"the same {what} {shown!r} came back a second time")
        self.markers.add(marker)
        return marker

    def fail(self, why: str) -> NoReturn:
        raise ProviderError(
            f"{self.client.name}: {self.call}: the list does not end: {why}; stopped after "
            f"{self.count} page(s) and {len(self.items)} item(s)",
            platform=self.client.platform, call=self.call,
        )
