"""One masker for every secret value the product comes to know, applied to all it prints.

Values are remembered where they are learnt: a token or API key when it is resolved from the
environment, a value in a sensitive position of a manifest or of the project file when the file
is read (even where it does not belong, such as a literal token), a webhook header when it is
resolved for a request. The command line writes stdout and stderr through ``masked_output``, so
every message (errors, validation problems in any format, progress lines, tracebacks with
``--debug``, a platform's error text that echoes a credential) has each known value replaced
by ``***`` before it leaves the process, whoever wrote the line.

Values shorter than ``MIN_LENGTH`` characters are not masked in free text: masking ``on`` or
``1`` would garble every message, and no real credential is that short. Such values are still
never quoted from a sensitive position (see ``reconciler.manifest.schema_errors``).
"""

from __future__ import annotations

import io
import json
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, TextIO

MASK = "***"
MIN_LENGTH = 8


class Masker:
    """The set of known secret values and the one pattern that finds them all in a text."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def remember(self, value: Any) -> None:
        """Mask ``value`` (and its JSON-escaped form) in everything printed from now on."""
        if isinstance(value, (dict, list)):
            for item in value.values() if isinstance(value, dict) else value:
                self.remember(item)
            return
        if value is None or isinstance(value, bool):
            return
        text = str(value)
        forms = {text, json.dumps(text)[1:-1]}
        with self._lock:
            added = {f for f in forms if len(f) >= MIN_LENGTH} - self._values
            if added:
                self._values |= added
                self._pattern = None

    def mask(self, text: str) -> str:
        """``text`` with every known value replaced by ``***``."""
        if not self._values or not text:
            return text
        pattern = self._pattern
        if pattern is None:
            with self._lock:
                longest_first = sorted(self._values, key=len, reverse=True)
                pattern = self._pattern = re.compile("|".join(map(re.escape, longest_first)))
        return pattern.sub(MASK, text)

    def forget_all(self) -> None:
        """Start empty (each command line starts with nothing known)."""
        with self._lock:
            self._values.clear()
            self._pattern = None


masker = Masker()


def remember(value: Any) -> None:
    """Mask ``value`` in everything the product prints from now on."""
    masker.remember(value)


def mask(text: str) -> str:
    """``text`` with every known secret value replaced by ``***``."""
    return masker.mask(text)


def masked(value: Any) -> Any:
    """``value`` with every string in it masked (a request body posted where people read it)."""
    if isinstance(value, str):
        return masker.mask(value)
    if isinstance(value, dict):
        return {key: masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


class MaskingStream(io.TextIOBase):
    """A text stream that masks what is written, then hands it to the stream it wraps."""

    def __init__(self, target: TextIO) -> None:
        super().__init__()
        self.target = target

    def write(self, text: str) -> int:  # type: ignore[override]
        if not isinstance(text, str):  # click asks whether a stream takes bytes this way
            raise TypeError("a text stream takes str")
        self.target.write(masker.mask(text))
        return len(text)

    def flush(self) -> None:
        self.target.flush()

    @property
    def buffer(self) -> _MaskingBytes:
        """Where click writes bytes (shell completion): masked the same way."""
        return _MaskingBytes(self.target)

    def isatty(self) -> bool:
        return self.target.isatty()

    def fileno(self) -> int:
        return self.target.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.target, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self.target, "errors", None)


class _MaskingBytes(io.RawIOBase):
    """The byte side of a MaskingStream: decoded, masked, written to the wrapped stream."""

    def __init__(self, target: TextIO) -> None:
        super().__init__()
        self.target = target

    def write(self, data: Any) -> int:
        text = masker.mask(bytes(data).decode("utf-8", errors="replace"))
        binary = getattr(self.target, "buffer", None)
        if binary is not None:
            self.target.flush()
            binary.write(text.encode("utf-8"))
        else:
            self.target.write(text)
        return len(data)

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        binary = getattr(self.target, "buffer", None)
        (binary or self.target).flush()


@contextmanager
def masked_output() -> Iterator[None]:
    """Run with stdout and stderr masked; what was known before is forgotten first."""
    masker.forget_all()
    before = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = MaskingStream(sys.stdout), MaskingStream(sys.stderr)  # type: ignore[assignment]
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            with suppress(OSError, ValueError):
                stream.flush()
        sys.stdout, sys.stderr = before
