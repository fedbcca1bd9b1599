"""The model's `movierec explore` report, served at /report: only a regular file that lies,
symlinks resolved, inside its folder (the model folder, or the folder given as --report)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from movierec.service.settings import ServiceSettings

MISSING = ("no explore report for this model; write one with `movierec explore MODEL_DIR "
           "--out MODEL_DIR/report`, or start the server with --report")


def candidates(settings: ServiceSettings) -> list[tuple[Path, Path]]:
    """(report file, the folder it must stay inside), in the order they are looked for."""
    if settings.report_path is None:
        root = settings.model_dir
        return [(root / "report" / "report.html", root), (root / "report.html", root)]
    given = settings.report_path
    if given.is_dir():
        return [(given / "report.html", given)]
    return [(given, given.parent)]


def find_report(settings: ServiceSettings) -> Path | None:
    """The report's resolved path, or None when there is none or it points out of its folder.
    Looked up on each call, so a report written while the service runs appears."""
    for path, root in candidates(settings):
        try:
            resolved = path.resolve(strict=True)
        except OSError:
            continue
        if resolved.is_relative_to(root.resolve()) and resolved.is_file():
            return resolved
    return None


def read_report(settings: ServiceSettings) -> bytes | None:
    """The report's bytes, opened without following a symlink swapped in since the check."""
    path = find_report(settings)
    if path is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as file:
        return file.read() if stat.S_ISREG(os.fstat(fd).st_mode) else None
