"""``code_file``: read relative to its manifest, never from outside the project folder."""

from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath

MAX_CODE_BYTES = 5 * 1024 * 1024  # a code file larger than this is almost surely a mistake


def read_code_file(manifest: Path, root: Path, relative: str) -> tuple[str, str]:
    """(text, "") on success, ("", message) when the file may not or cannot be read."""
    pure = PurePosixPath(relative.replace("\\", "/"))
    if pure.is_absolute() or PureWindowsPath(relative).drive:
        return "", f"code_file {relative!r} must be a path relative to the manifest"
    if ".." in pure.parts:
        return "", f"code_file {relative!r} may not contain '..' (it must stay inside the project)"
    path = manifest.parent / Path(*pure.parts)
    try:
        shown = path.absolute().relative_to(root.absolute()).as_posix()
    except ValueError:
        shown = str(path)
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return (
            "",
            f"code_file {relative!r} does not exist (looked for {shown}; a code_file is relative "
            "to the folder of its manifest)",
        )
    try:
        resolved.relative_to(root.resolve())
    except ValueError:
        return "", f"code_file {relative!r} leads outside the project folder (through a link)"
    if not resolved.is_file():
        return "", f"code_file {relative!r} is not a file"
    try:
        if resolved.stat().st_size > MAX_CODE_BYTES:
            return "", f"code_file {relative!r} is larger than {MAX_CODE_BYTES // 1024 // 1024} MiB"
        data = resolved.read_bytes()
    except OSError as exc:
        return "", f"code_file {relative!r} cannot be read: {exc.strerror}"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return "", (f"code_file {relative!r} is not valid UTF-8 text ({shown}:{line}: byte "
                    f"0x{data[exc.start]:02x}); save it as UTF-8")
    nul = text.find("\0")
    if nul >= 0:  # binary, and no platform stores a NUL in source code
        line = text.count("\n", 0, nul) + 1
        return "", (f"code_file {relative!r} holds a NUL byte ({shown}:{line}), so it is not "
                    "source code; point code_file at the source file")
    return text, ""
