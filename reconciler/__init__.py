"""reconciler: GitOps for automation platforms.

Manifests in git are validated, compared with live state read through provider adapters, shown
as a plan, and applied as ordered operations.
"""

__version__ = "0.1.0"
