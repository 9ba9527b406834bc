"""The platforms' contracts as data: one OpenAPI 3.1 document per provider type, kept beside its
adapter (``reconciler/providers/<type>/openapi.yaml``), and the one place requests and
responses are checked against them (openapi-core, loaded only when a check is asked for).

``operations(type)`` lists what a document allows (method, path, documented or assumed);
``Checker(type)`` tells whether one request or response keeps to it. The sandbox answers only
what the documents hold; the docs and the tests compare against the same documents.
"""

from __future__ import annotations

import copy
import hashlib
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

METHODS = ("get", "put", "post", "patch", "delete")
DOCUMENT_NAME = "openapi.yaml"


def _packages() -> dict[str, str]:
    """Provider type -> its package under ``reconciler/providers``, for the built-in types that
    ship a contract document (the platforms the embedded sandbox stands in for)."""
    from pathlib import Path

    from reconciler.providers.registry import provider_schema_folders

    here = Path(__file__).resolve().parent / "providers"
    found = {}
    for ptype, folder in sorted(provider_schema_folders().items()):
        package = folder.parent.resolve()
        if package.parent == here and (package / DOCUMENT_NAME).is_file():
            found[ptype] = package.name
    return found


# provider type -> the adapter package holding its document
PACKAGES = _packages()

VERDICTS_KEPT = 4096  # requests and answers whose verdict is remembered, per platform
# nodes of a document kept found: more than any document has (the largest ~6000), so none is
# ever dropped (dropping one while another thread reads it is not safe in jsonschema-path)
RESOLVED_NODES_KEPT = 16384
UNKNOWN_ROUTE = "unknown route"
INVALID_REQUEST = "invalid request"
INVALID_RESPONSE = "invalid response"


@dataclass(frozen=True)
class ContractOperation:
    """One call a document allows."""

    method: str  # upper case
    path: str  # the path template, e.g. /api/automations/{id}
    source: str  # "documented" or "assumed"
    operation_id: str
    summary: str = ""


@dataclass(frozen=True)
class Finding:
    """Why a request or response does not keep to the contract."""

    kind: str  # UNKNOWN_ROUTE, INVALID_REQUEST or INVALID_RESPONSE
    message: str
    where: tuple[str | int, ...] = ()  # e.g. ("query", "limit") or ("body", "mode")


def provider_types() -> tuple[str, ...]:
    """The provider types that have a contract document."""
    return tuple(PACKAGES)


def import_checks() -> None:
    """Import the libraries the checks use, now. A server that checks requests in a thread of
    its own calls this in the thread that starts it: two threads importing one library at the
    same moment can each see it half initialised (a test's command run in the same process
    imports jsonschema too)."""
    import jsonschema  # noqa: F401
    import jsonschema_path  # noqa: F401
    import openapi_core  # noqa: F401
    import openapi_core.templating.paths.exceptions  # noqa: F401
    import werkzeug.datastructures  # noqa: F401

@cache
def document(provider_type: str) -> dict[str, Any]:
    """The OpenAPI document of a provider type, as data (shared; do not mutate)."""
    package = f"reconciler.providers.{PACKAGES[provider_type]}"
    text = resources.files(package).joinpath(DOCUMENT_NAME).read_text(encoding="utf-8")
    # the C loader when PyYAML has it: the pure-Python one took ~50 ms a document, paid by
    # every process that starts a sandbox
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loaded: dict[str, Any] = yaml.load(text, Loader=loader)  # a safe loader
    return loaded


def operations(provider_type: str) -> list[ContractOperation]:
    """Every operation of a provider type's document, in document order."""
    found = []
    for path, item in document(provider_type).get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation is not None:
                found.append(ContractOperation(
                    method.upper(), path, str(operation.get("x-source", "")),
                    str(operation.get("operationId", "")), str(operation.get("summary", ""))))
    return found


DOCS_BEGIN = "<!-- calls of the contract document: generated, do not edit -->"
DOCS_END = "<!-- end of the generated calls -->"


def docs_block(provider_type: str) -> str:
    """The table of a type's calls that docs/providers/<type>.md holds (generated from here)."""
    package = PACKAGES[provider_type]
    lines = [DOCS_BEGIN, "",
             f"The contract document is `reconciler/providers/{package}/{DOCUMENT_NAME}` "
             "(OpenAPI 3.1, shipped in the package): these calls and no other.", "",
             "| call | method and path | source |", "|---|---|---|"]
    for op in operations(provider_type):
        path = op.path.replace(
            "/api/v1/organizations/{organization_id}/workspaces/{workspace_id}", "W")
        what = op.summary or op.operation_id
        lines.append(f"| {op.operation_id} | `{op.method} {path}` | {op.source} |"
                     if not op.summary else
                     f"| {op.operation_id}: {what} | `{op.method} {path}` | {op.source} |")
    lines += ["", DOCS_END]
    return "\n".join(lines)


def write_docs(folder: str) -> list[str]:
    """Refresh the generated block of each ``<folder>/<type>.md`` (appended when missing)."""
    from pathlib import Path

    changed = []
    for provider_type in PACKAGES:
        page = Path(folder) / f"{provider_type}.md"
        text = page.read_text(encoding="utf-8")
        block = docs_block(provider_type)
        if DOCS_BEGIN in text and DOCS_END in text:
            head, rest = text.split(DOCS_BEGIN, 1)
            new = head + block + rest.split(DOCS_END, 1)[1]
        else:
            new = text.rstrip("\n") + "\n\n## Calls\n\n" + block + "\n"
        if new != text:
            page.write_text(new, encoding="utf-8")
            changed.append(str(page))
    return changed


class Checker:
    """Checks requests and responses of one platform against its document (openapi-core)."""

    def __init__(self, provider_type: str) -> None:
        from jsonschema_path import SchemaPath
        from openapi_core import Config, OpenAPI

        self.provider_type = provider_type
        # checked as if sent to the document's first server: the sandbox stands in for it
        self._host = str(document(provider_type)["servers"][0]["url"]).rstrip("/")
        # credentials are the platform's to judge (it answers them in its own words), so the
        # document is checked without its security requirements
        checked = {k: v for k, v in document(provider_type).items() if k != "security"}
        # every $ref resolved once here: jsonschema would otherwise look each one up again for
        # every field of every item of every answer (most of the time checking took)
        # the documents are validated by the test suite; validating each again here would
        # cost seconds every time a sandbox starts
        # and each node of the document is found once: checking reads the same few hundred
        # nodes (parameters, schemas, responses) again for every call
        spec = SchemaPath.from_dict(_inlined(checked, checked),
                                    resolved_cache_maxsize=RESOLVED_NODES_KEPT)
        self._api = OpenAPI(spec, config=Config(spec_validator_cls=None))  # type: ignore[arg-type]
        self._spec = self._api.spec
        self._requests, self._responses = _validators(self._spec)
        self._verdicts: OrderedDict[tuple[Any, ...], Finding | None] = OrderedDict()

    def check_request(self, method: str, path: str, query: Mapping[str, list[str]],
                      headers: Mapping[str, str], body: bytes,
                      content_type: str) -> Finding | None:
        """None when the request is one the document allows, with parameters and body that
        validate (credentials are left to the platform)."""
        # the same request is often sent again (each read lists and gets the same objects):
        # its verdict is too, and checking costs milliseconds
        key = (method, path, tuple(sorted((k, tuple(v)) for k, v in query.items())), _digest(body),
               content_type.split(";")[0].strip().lower())
        if key in self._verdicts:
            self._verdicts.move_to_end(key)
            return self._verdicts[key]
        verdict = self._check_request(method, path, query, headers, body, content_type)
        self._verdicts[key] = verdict
        if len(self._verdicts) > VERDICTS_KEPT:
            self._verdicts.popitem(last=False)
        return verdict

    def _check_request(self, method: str, path: str, query: Mapping[str, list[str]],
                       headers: Mapping[str, str], body: bytes,
                       content_type: str) -> Finding | None:
        from openapi_core.templating.paths.exceptions import PathError

        request = _Request(self._host, method, path, query, headers, body, content_type)
        errors = list(self._requests.iter_errors(request))
        for error in errors:
            # ``…/{automation_id}:verb`` with a verb the document lacks lands on the bare path
            # with ``id:verb`` as the id: that is a call the contract does not have either
            last = path.rsplit("/", 1)[-1]
            custom_verb = getattr(error, "location", "") == "path" and ":" in last
            if isinstance(error, PathError) or custom_verb:
                return Finding(UNKNOWN_ROUTE, f"{method} {path} is not a call of the "
                               f"{self.provider_type} contract")
        if errors:
            return Finding(INVALID_REQUEST, "; ".join(_describe(e) for e in errors),
                           _where(errors[0]))
        return None

    def check_response(self, method: str, path: str, query: Mapping[str, list[str]],
                       headers: Mapping[str, str], body: bytes, content_type: str,
                       status: int, response_headers: Mapping[str, str],
                       response_body: bytes) -> Finding | None:
        """None when the answer has the shape the document gives for that call and status."""
        key = ("response", method, path, status,
               str(response_headers.get("content-type", "")).lower(), _digest(response_body))
        if key in self._verdicts:
            return self._verdicts[key]
        request = _Request(self._host, method, path, query, headers, body, content_type)
        response = _Response(status, response_headers, response_body)
        errors = list(self._responses.iter_errors(request, response))
        verdict = None
        if errors:
            verdict = Finding(INVALID_RESPONSE, f"{method} {path} answered {status}: "
                              + "; ".join(_describe(e) for e in errors))
        self._verdicts[key] = verdict
        if len(self._verdicts) > VERDICTS_KEPT:
            self._verdicts.popitem(last=False)
        return verdict


def _digest(body: bytes) -> bytes:
    """What a verdict is remembered by instead of the body itself (listings can be large, and
    thousands of verdicts are kept)."""
    return hashlib.blake2b(body, digest_size=16).digest()


class _Once:
    """Wraps an openapi-core factory whose ``create`` is a pure function of the document and
    its arguments, so that each thing is built once per process (see ``_validators``)."""

    def __init__(self, factory: Any, key: Any) -> None:
        self._factory = factory
        self._key = key
        self._built: dict[Any, Any] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._factory, name)

    def create(self, *args: Any, **kwargs: Any) -> Any:
        key = self._key(*args, **kwargs)
        made = self._built.get(key)
        if made is None:
            made = self._built[key] = self._factory.create(*args, **kwargs)
        return made


def _validators(spec: Any) -> tuple[Any, Any]:
    """A request and a response validator of one document that build what they need once.

    openapi-core builds, for every parameter, body and answer it checks, a jsonschema
    validator (deep-copying the format checker), a type caster and a style deserializer, and
    matches the URL against every path of the document: most of what a check cost. The
    document does not change, so what is built for one schema holds for every later call, and
    the route found for one URL too. What is checked is the same; only the building is shared.
    """
    from openapi_core import V31RequestValidator, V31ResponseValidator
    from openapi_core.deserializing.styles import style_deserializers
    from openapi_core.deserializing.styles.factories import StyleDeserializersFactory

    def by_schema(spec: Any, schema: Any, *args: Any, **kwargs: Any) -> Any:
        return (schema.parts, *(id(a) for a in args),
                *sorted((k, v if isinstance(v, bool) else id(v)) for k, v in kwargs.items()))

    built = []
    kinds: tuple[Any, ...] = (V31RequestValidator, V31ResponseValidator)
    for cls in kinds:
        # duck-typed stand-ins for openapi-core's factories, hence Any
        schemas: Any = _Once(cls.schema_validators_factory, by_schema)
        casters = copy.copy(cls.schema_casters_factory)
        casters.schema_validators_factory = schemas
        cast_once: Any = _Once(casters, by_schema)
        styles: Any = _Once(
            StyleDeserializersFactory(cast_once, style_deserializers=style_deserializers),
            lambda spec, schema, *rest, **named: (schema.parts, *rest, *sorted(named.items())))
        validator = cls(spec, schema_validators_factory=schemas,
                        schema_casters_factory=casters, style_deserializers_factory=styles)
        _find_once(validator)
        built.append(validator)
    return built[0], built[1]


def _find_once(validator: Any) -> None:
    """Remember the route found for each URL (a URL the document lacks is looked up again)."""
    find = validator._find_path
    routes: OrderedDict[tuple[str, str], Any] = OrderedDict()

    def find_path(request: Any) -> Any:
        key = (request.method, request.full_url_pattern)
        found = routes.get(key)
        if found is None:
            found = routes[key] = find(request)
            if len(routes) > VERDICTS_KEPT:
                routes.popitem(last=False)
        return found

    validator._find_path = find_path


def _inlined(node: Any, root: Mapping[str, Any]) -> Any:
    """``node`` with every local ``$ref`` replaced by what it points at (no recursion here)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target: Any = root
            for part in ref[2:].split("/"):
                target = target[part]
            merged = {**_inlined(target, root),
                      **{k: _inlined(v, root) for k, v in node.items() if k != "$ref"}}
            return merged
        return {k: _inlined(v, root) for k, v in node.items()}
    if isinstance(node, list):
        return [_inlined(v, root) for v in node]
    return node


def _where(error: BaseException) -> tuple[str | int, ...]:
    """Where in the request the first problem is: (location, name) or ("body", *path)."""
    if getattr(error, "location", None) and getattr(error, "name", None):
        return (str(error.location), str(error.name))  # type: ignore[attr-defined]
    causes = list(getattr(error.__cause__, "schema_errors", None) or [])
    path: list[str | int] = []
    if causes:
        path = list(getattr(causes[0], "absolute_path", []))
        missing = getattr(causes[0], "validator", "") in ("required", "additionalProperties")
        if missing and not path:
            path = []
    return ("body", *path)


def _describe(error: BaseException) -> str:
    """The error and the schema errors behind it, in one line."""
    text = _text(error)
    causes = getattr(error.__cause__, "schema_errors", None) or []
    details = []
    for cause in list(causes)[:3]:
        where = "/".join(str(p) for p in getattr(cause, "absolute_path", [])) or "body"
        details.append(f"{where}: {getattr(cause, 'message', cause)}")
    if not details and error.__cause__ is not None and _text(error.__cause__) != text:
        details.append(_text(error.__cause__))
    return f"{text} ({'; '.join(details)})" if details else text


def _text(error: BaseException) -> str:
    """``str(error)``, or its kind when openapi-core cannot word it (it decodes a body that is
    not UTF-8 as UTF-8 to quote it, and fails)."""
    try:
        return str(error)
    except UnicodeError:
        return "the body is not valid UTF-8"


class _Request:
    """A request as openapi-core's request protocol wants it."""

    def __init__(self, host: str, method: str, path: str, query: Mapping[str, list[str]],
                 headers: Mapping[str, str], body: bytes, content_type: str) -> None:
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict

        self.host_url = host
        self.path = path
        self.method = method.lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict([(k, v) for k, values in query.items() for v in values]),
            header=Headers(dict(headers)),
            cookie=ImmutableMultiDict(),
        )
        self.body = body or None
        self.content_type = (content_type or "application/json").lower()

    @property
    def full_url_pattern(self) -> str:
        return self.host_url + self.path


class _Response:
    """A response as openapi-core's response protocol wants it."""

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        from werkzeug.datastructures import Headers

        self.status_code = status
        self.headers = Headers(dict(headers))
        self.data = body
        self.content_type = (self.headers.get("content-type") or "application/json").lower()


if __name__ == "__main__":  # python -m reconciler.contract docs/providers
    import sys

    for written in write_docs(sys.argv[1] if len(sys.argv) > 1 else "docs/providers"):
        print(f"refreshed {written}")
