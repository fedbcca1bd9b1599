"""Access to the files of a data set, in a directory or a zip archive, with sanity checks."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from movierec.errors import DataFormatError

_LFS_POINTER = b"version https://git-lfs.github.com/spec/v1"


def check_head(head: bytes, label: str) -> None:
    """Raise DataFormatError when a file's first bytes show it is empty or a Git LFS pointer."""
    if not head:
        raise DataFormatError(f"{label} is empty")
    if head.startswith(_LFS_POINTER):
        raise DataFormatError(f"{label} is a Git LFS pointer file, not the data; run "
                              "`git lfs pull` in its repository (or fetch the file again)")


def bad_zip(label: str) -> DataFormatError:
    return DataFormatError(f"{label} is truncated or not a zip; delete it and fetch again")


class Folder:
    """The files of one data set; `where` names it in messages."""

    where: str

    def has(self, name: str) -> bool:
        raise NotImplementedError

    def label(self, name: str) -> str:
        raise NotImplementedError

    def _open(self, name: str) -> BinaryIO:
        raise NotImplementedError

    @contextmanager
    def open(self, name: str) -> Iterator[BinaryIO]:
        """Open a member for binary reading; missing, empty and LFS-pointer files raise."""
        if not self.has(name):
            raise DataFormatError(f"{self.where} has no {name}")
        with self._open(name) as f:
            check_head(f.peek(64)[:64], self.label(name))
            yield f


class DirFolder(Folder):
    def __init__(self, root: Path) -> None:
        self.root = root
        self.where = str(root)

    def has(self, name: str) -> bool:
        return (self.root / name).is_file()

    def label(self, name: str) -> str:
        return str(self.root / name)

    def _open(self, name: str) -> BinaryIO:
        return open(self.root / name, "rb")  # closed by Folder.open


class ZipFolder(Folder):
    """Members under `prefix` in a zip archive (GroupLens zips hold a top folder)."""

    def __init__(self, path: Path, prefix: str = "") -> None:
        self.path, self.prefix = path, prefix
        self.where = f"{path}:{prefix}" if prefix else str(path)
        try:
            with zipfile.ZipFile(path) as zf:
                self.members = set(zf.namelist())
        except (zipfile.BadZipFile, EOFError) as e:
            raise bad_zip(str(path)) from e

    def has(self, name: str) -> bool:
        return self.prefix + name in self.members

    def label(self, name: str) -> str:
        return f"{self.path}:{self.prefix}{name}"

    @contextmanager
    def _zip_member(self, name: str) -> Iterator[BinaryIO]:
        try:
            with zipfile.ZipFile(self.path) as zf, zf.open(self.prefix + name) as f:
                yield f  # type: ignore[misc]
        except (zipfile.BadZipFile, EOFError) as e:
            raise bad_zip(str(self.path)) from e

    def _open(self, name: str):  # type: ignore[override]
        return self._zip_member(name)


def open_folder(path: str | Path, key_files: tuple[str, ...], prefix: str | None = None) -> Folder:
    """A Folder for a directory or zip file; in a zip, the folder holding a key file is used."""
    path = Path(path).expanduser()
    if path.is_dir():
        return DirFolder(path)
    if not path.is_file():
        raise DataFormatError(f"{path} does not exist")
    with open(path, "rb") as f:
        check_head(f.read(64), str(path))
    if prefix is None:
        names = ZipFolder(path).members
        hits = sorted((n for n in names if n.rsplit("/", 1)[-1] in key_files),
                      key=lambda n: (n.count("/"), n))
        prefix = hits[0][: hits[0].rfind("/") + 1] if hits else ""
    return ZipFolder(path, prefix)
