"""reconciler: GitOps for automation platforms.

Manifests in git are validated, compared with live state read through provider adapters, shown
as a plan, and applied as ordered operations.
"""

import sys

__version__ = "0.1.0"

# jsonschema registers the optional "iri" formats when rfc3987_syntax is importable, and that
# package compiles about forty grammars at import: two seconds on every command start. No schema
# of ours uses an iri format ("date-time" and "uri" come from other validators), so keep it out.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
