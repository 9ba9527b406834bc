"""State: what this project manages (identity -> remote id, last applied spec, when).

``StateBackend`` is the protocol; ``open_backend`` builds the one the project file names.
"""

from __future__ import annotations

from reconciler.state.model import Lease, State, StateBackend, StateEntry, open_backend

__all__ = ["Lease", "State", "StateBackend", "StateEntry", "open_backend"]
