"""reconciler: GitOps for automation platforms.

Manifests in git are validated, compared with live state read through provider adapters, shown
as a plan, and applied as ordered operations.
"""

import sys

__version__ = "0.1.0"

# jsonschema registers the optional "iri" formats when rfc3987_syntax is importable, and that
# package compiles about forty grammars at import: two seconds on every command start. No schema
# of ours uses an iri format ("date-time" and "uri" come from other validators), so keep it out.
# The same holds for the checkers of "duration" (isoduration, which loads arrow), "color",
# "uri-template" and "hostname": none is used by our schemas, and together they cost about a
# tenth of a second on every start. A format whose checker is missing is simply not checked.
_UNUSED_FORMAT_LIBRARIES = ("rfc3987_syntax", "isoduration", "webcolors", "uri_template", "fqdn")
for _unused_format_library in _UNUSED_FORMAT_LIBRARIES:
    sys.modules.setdefault(_unused_format_library, None)  # type: ignore[arg-type]
