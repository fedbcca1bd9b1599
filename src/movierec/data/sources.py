"""Remote sources: the GroupLens zips and, for ml-100k, the files in a pinned PyPI wheel."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from urllib.request import urlopen

from movierec.data.files import ZipFolder, bad_zip
from movierec.data.variants import GROUPLENS_MD5, GROUPLENS_URL
from movierec.errors import DataSourceError

MIRROR_PACKAGE = "recbole==1.2.1"
MIRROR_SOURCE = f"offline mirror (PyPI {MIRROR_PACKAGE})"
MIRROR_WHEEL = ("recbole-1.2.1-py3-none-any.whl",
                "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407")
MIRROR_PREFIX = "recbole/dataset_example/ml-100k/"
MIRROR_FILES = {
    "ml-100k.inter": "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff",
    "ml-100k.item": "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532",
    "ml-100k.user": "4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972",
}


def download_grouplens(name: str, dest: Path, *, timeout: float) -> tuple[Path, str]:
    """Stream NAME.zip from GroupLens into `dest`, check its md5; return (zip path, url)."""
    url = GROUPLENS_URL.format(name=name)
    expected = GROUPLENS_MD5.get(name) or _published_md5(url + ".md5", timeout)
    part = dest / f"{name}.zip.part"
    md5 = hashlib.md5()
    try:
        with urlopen(url, timeout=timeout) as response, open(part, "wb") as out:
            while chunk := response.read(1 << 20):
                md5.update(chunk)
                out.write(chunk)
    except OSError as e:
        raise DataSourceError(f"could not fetch {url} ({e})") from e
    if md5.hexdigest() != expected:
        part.unlink()
        raise DataSourceError(f"{url}: md5 {md5.hexdigest()} does not match the published "
                              f"{expected}; the download is corrupt or incomplete")
    final = part.with_suffix("")
    part.replace(final)
    return final, url


def _published_md5(url: str, timeout: float) -> str:
    """The md5 in a GroupLens `.zip.md5` file (`MD5 (x.zip) = HEX` or just `HEX`)."""
    try:
        with urlopen(url, timeout=timeout) as response:
            text = response.read(4096).decode("ascii", "replace")
    except OSError as e:
        raise DataSourceError(f"could not fetch {url} ({e})") from e
    found = re.search(r"\b[0-9a-fA-F]{32}\b", text)
    if not found:
        raise DataSourceError(f"{url} holds no md5 checksum")
    return found.group(0).lower()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch_mirror(dest: Path, *, timeout: float = 120.0) -> ZipFolder:
    """Fetch the pinned recbole wheel with pip and check it and its ml-100k files by sha256."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "-q", MIRROR_PACKAGE, "-d", str(dest)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as e:
        raise DataSourceError(f"pip download {MIRROR_PACKAGE} took over {timeout:g} s") from e
    wheel_name, wheel_sha = MIRROR_WHEEL
    wheel = dest / wheel_name
    if proc.returncode or not wheel.is_file():
        detail = (proc.stderr.strip().splitlines() or ["no wheel written"])[-1]
        raise DataSourceError(f"pip download {MIRROR_PACKAGE} failed: {detail}")
    if _sha256(wheel.read_bytes()) != wheel_sha:
        raise DataSourceError(f"{wheel} does not have the pinned sha256 {wheel_sha}")
    try:
        with zipfile.ZipFile(wheel) as zf:
            for member, digest in MIRROR_FILES.items():
                if _sha256(zf.read(MIRROR_PREFIX + member)) != digest:
                    raise DataSourceError(f"{wheel}:{MIRROR_PREFIX}{member} does not have the "
                                          f"pinned sha256 {digest}")
    except (zipfile.BadZipFile, EOFError) as e:
        raise bad_zip(str(wheel)) from e
    except KeyError as e:
        raise DataSourceError(f"{wheel} lacks {e}") from e
    return ZipFolder(wheel, MIRROR_PREFIX)


def temp_dir(root: Path) -> tempfile.TemporaryDirectory:
    """A temporary directory inside the cache root (same file system as the entries)."""
    root.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(prefix=".fetch-", dir=root)
