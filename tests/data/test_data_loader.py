"""Sources in order (path, cache, GroupLens, mirror), the cache's atomic writes, licences."""

from __future__ import annotations

import io
import json
import urllib.error
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pandas.testing as pdt
import pytest
from mlfiles import md5, write_100k, write_csv_variant, zip_folder

import movierec.data.cache as cache
import movierec.data.loader as loader
import movierec.data.sources as sources
from movierec.data import default_cache_dir, load_movielens, parse_folder
from movierec.errors import DataFormatError, DataSourceError, FoldsUnavailableError


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """No network and no mirror unless a test says otherwise; a private MOVIEREC_HOME."""
    calls: list[str] = []

    def no_network(url, timeout=None):
        calls.append(url)
        raise urllib.error.URLError("timed out")

    def no_mirror(tmp):
        raise DataSourceError("mirror disabled in this test")

    monkeypatch.setattr(sources, "urlopen", no_network)
    monkeypatch.setattr(loader, "fetch_mirror", no_mirror)
    monkeypatch.setenv("MOVIEREC_HOME", str(tmp_path / "home"))
    return calls


def assert_same(a, b):
    pdt.assert_frame_equal(a.ratings, b.ratings)
    pdt.assert_frame_equal(a.movies, b.movies)
    if a.users is None:
        assert b.users is None
    else:
        pdt.assert_frame_equal(a.users, b.users)


def test_default_cache_dir_honours_movierec_home(tmp_path):
    assert default_cache_dir() == tmp_path / "home" / "datasets"


def test_cache_round_trip(tmp_path, offline):
    folder = write_100k(tmp_path / "ml-100k")
    first = load_movielens("ml-100k", folder, progress=False)
    assert first.source == f"path {folder}"
    cache.write_entry(default_cache_dir(), first)
    again = load_movielens("ml-100k", progress=False)
    assert again.source.startswith(f"cache {default_cache_dir() / 'ml-100k'}")
    assert_same(first, again)
    for kind in ("u", "ua", "ub"):
        for (a, b), (c, d) in zip(first.canonical_folds(kind), again.canonical_folds(kind),
                                  strict=True):
            pdt.assert_frame_equal(a, c)
            pdt.assert_frame_equal(b, d)
    assert offline == []  # neither load touched the network


def test_cache_keeps_missing_folds_note(tmp_path):
    folder = write_csv_variant(tmp_path / "m")
    cache.write_entry(tmp_path / "c", parse_folder("ml-latest-small", folder))
    data = load_movielens("ml-latest-small", cache_dir=tmp_path / "c", progress=False)
    assert data.users is None and not data.has_canonical_folds
    with pytest.raises(FoldsUnavailableError):
        data.canonical_folds()


def test_bad_path_raises_without_falling_through(tmp_path, offline):
    with pytest.raises(DataFormatError, match="does not exist"):
        load_movielens("ml-100k", tmp_path / "missing", progress=False)
    assert offline == []


def test_crash_mid_write_leaves_no_entry(tmp_path, monkeypatch):
    root = tmp_path / "c"
    data = parse_folder("ml-100k", write_100k(tmp_path / "a"))
    real = pd.DataFrame.to_parquet
    written = []

    def crash_after_one(self, path, *args, **kw):
        if written:
            raise KeyboardInterrupt  # as if the process were stopped mid-write
        written.append(path)
        return real(self, path, *args, **kw)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", crash_after_one)
    with pytest.raises(KeyboardInterrupt):
        cache.write_entry(root, data)
    assert cache.read_entry(root, "ml-100k") is None
    assert list(root.iterdir()) == []  # the temporary directory was removed too


def test_crash_while_replacing_keeps_old_entry(tmp_path, monkeypatch):
    root = tmp_path / "c"
    old = parse_folder("ml-100k", write_100k(tmp_path / "a", folds=False))
    cache.write_entry(root, old)
    def disk_full(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(cache, "json", SimpleNamespace(dumps=disk_full, loads=json.loads))
    with pytest.raises(OSError):
        cache.write_entry(root, parse_folder("ml-100k", write_100k(tmp_path / "b")))
    kept = cache.read_entry(root, "ml-100k")
    assert kept is not None and not kept.has_canonical_folds


def test_entry_without_manifest_or_with_old_format_is_absent(tmp_path):
    root = tmp_path / "c"
    cache.write_entry(root, parse_folder("ml-100k", write_100k(tmp_path / "a")))
    manifest = root / "ml-100k" / cache.MANIFEST
    meta = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**meta, "format": cache.FORMAT_VERSION + 1}))
    assert cache.read_entry(root, "ml-100k") is None
    manifest.unlink()
    assert cache.read_entry(root, "ml-100k") is None
    with pytest.raises(DataSourceError, match=r"no complete entry(.|\n)*download=False"):
        load_movielens("ml-100k", cache_dir=root, download=False, progress=False)


def test_everything_fails_lists_each_source(tmp_path, offline):
    with pytest.raises(DataSourceError) as info:
        load_movielens("ml-100k", cache_dir=tmp_path / "c", timeout=0.5, progress=False)
    msg = str(info.value)
    assert "cache" in msg and "GroupLens download" in msg and "timed out" in msg
    assert "offline mirror" in msg and "mirror disabled" in msg
    assert "path=" in msg and "MOVIEREC_HOME" in msg
    assert offline == ["https://files.grouplens.org/datasets/movielens/ml-100k.zip"]


def fake_server(monkeypatch, files: dict[str, bytes]) -> list[str]:
    calls: list[str] = []

    def opener(url, timeout=None):
        calls.append(url)
        if url not in files:
            raise urllib.error.URLError("not found")
        return io.BytesIO(files[url])

    monkeypatch.setattr(sources, "urlopen", opener)
    return calls


def test_grouplens_download_with_published_md5(tmp_path, monkeypatch, capsys):
    z = zip_folder(write_csv_variant(tmp_path / "m"), tmp_path / "x.zip", "ml-latest-small")
    url = "https://files.grouplens.org/datasets/movielens/ml-latest-small.zip"
    fake_server(monkeypatch, {url: z.read_bytes(),
                              url + ".md5": f"MD5 (ml-latest-small.zip) = {md5(z)}\n".encode()})
    monkeypatch.setattr(loader, "_licence_shown", False)
    data = load_movielens("ml-latest-small", cache_dir=tmp_path / "c", progress=False)
    assert data.source == f"GroupLens {url}"
    assert_same(data, parse_folder("ml-latest-small", z))
    assert "Harper" in capsys.readouterr().err
    assert load_movielens("ml-latest-small", cache_dir=tmp_path / "c").source.startswith("cache")
    assert [p.name for p in (tmp_path / "c").iterdir()] == ["ml-latest-small"]  # no leftovers


def test_grouplens_download_bad_checksum_falls_through(tmp_path, monkeypatch):
    z = zip_folder(write_100k(tmp_path / "a"), tmp_path / "x.zip", "ml-100k")
    fake_server(monkeypatch, {"https://files.grouplens.org/datasets/movielens/ml-100k.zip":
                              z.read_bytes()})
    with pytest.raises(DataSourceError, match="does not match the published"):
        load_movielens("ml-100k", cache_dir=tmp_path / "c", progress=False)
    monkeypatch.setitem(sources.GROUPLENS_MD5, "ml-100k", md5(z))
    data = load_movielens("ml-100k", cache_dir=tmp_path / "c", progress=False)
    assert data.source.startswith("GroupLens") and data.has_canonical_folds


def test_mirror_rejects_wrong_checksum(tmp_path, monkeypatch):
    def fake_pip(cmd, **kw):
        dest = Path(cmd[cmd.index("-d") + 1])
        (dest / sources.MIRROR_WHEEL[0]).write_bytes(b"PK not the real wheel")
        return sources.subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(sources.subprocess, "run", fake_pip)
    with pytest.raises(DataSourceError, match="pinned sha256"):
        sources.fetch_mirror(tmp_path)


@pytest.mark.slow
def test_offline_mirror_from_pypi(tmp_path, monkeypatch):
    """Runs `pip download recbole==1.2.1` (needs PyPI) and parses its checksummed ml-100k."""
    monkeypatch.setattr(loader, "fetch_mirror", sources.fetch_mirror)
    data = load_movielens("ml-100k", cache_dir=tmp_path / "c", progress=False)
    assert data.source == "offline mirror (PyPI recbole==1.2.1)"
    r = data.ratings
    assert (len(r), r["user_id"].nunique(), r["movie_id"].nunique()) == (100000, 943, 1682)
    assert len(data.users) == 943 and len(data.movies) == 1682
    toy = data.movies.set_index("movie_id").loc[1]
    assert (toy["title"], toy["year"]) == ("Toy Story", 1995)
    for d in (data, load_movielens("ml-100k", cache_dir=tmp_path / "c", progress=False)):
        assert not d.has_canonical_folds
        with pytest.raises(FoldsUnavailableError, match=r"offline mirror.*u1\.base"):
            d.canonical_folds()
