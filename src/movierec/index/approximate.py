"""Approximate top-k with faiss (HNSW graph or IVF lists), inner-product metric."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from movierec.errors import ConfigError, ModelFormatError
from movierec.index.base import Exclusions, MovieIndex
from movierec.index.exact import _pad

INDEX_FILE, META_FILE = "faiss.index", "faiss_index.json"


def _faiss():  # type: ignore[no-untyped-def]
    try:
        import faiss
    except ImportError as err:  # pragma: no cover - faiss is a declared dependency
        raise ConfigError("approximate indexes need faiss: pip install faiss-cpu") from err
    return faiss


class FaissIndex(MovieIndex):
    """`kind="hnsw"` (graph; `m` links per node, `ef_search` breadth) or `kind="ivf"`
    (`nlist` k-means cells, `nprobe` cells visited). Seen movies are excluded by fetching
    k + len(exclude) candidates and filtering, so results stay exact-length."""

    is_exact = False

    def __init__(self, kind: str = "hnsw", *, m: int = 32, ef_construction: int = 80,
                 ef_search: int = 64, nlist: int | None = None, nprobe: int = 16) -> None:
        super().__init__()
        if kind not in ("hnsw", "ivf"):
            raise ConfigError(f"faiss index kind must be 'hnsw' or 'ivf', got {kind!r}")
        self.kind = kind
        self.params = {"m": m, "ef_construction": ef_construction, "ef_search": ef_search,
                       "nlist": nlist, "nprobe": nprobe}

    def _build(self, vectors: np.ndarray) -> None:
        faiss = _faiss()
        dim, p = vectors.shape[1], self.params
        if self.kind == "hnsw":
            index = faiss.IndexHNSWFlat(dim, p["m"], faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = p["ef_construction"]
        else:
            nlist = p["nlist"] or max(1, int(4 * np.sqrt(len(vectors))))
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist,
                                       faiss.METRIC_INNER_PRODUCT)
            index.train(vectors)
        index.add(vectors)
        self._configure(index)

    def set_search_params(self, *, ef_search: int | None = None,
                          nprobe: int | None = None) -> None:
        """Change the search breadth of a built index (no rebuild): HNSW `ef_search`,
        IVF `nprobe`."""
        if ef_search is not None:
            self.params["ef_search"] = ef_search
        if nprobe is not None:
            self.params["nprobe"] = nprobe
        self._configure(self.index)

    def _configure(self, index) -> None:  # type: ignore[no-untyped-def]
        if self.kind == "hnsw":
            index.hnsw.efSearch = self.params["ef_search"]
        else:
            index.nprobe = self.params["nprobe"]
        self.index = index

    def _search(self, queries: np.ndarray, k: int, exclude: Exclusions
                ) -> tuple[np.ndarray, np.ndarray]:
        extra = max((len(e) for e in exclude), default=0) if exclude is not None else 0
        fetch = min(k + extra, len(self.ids))
        scores, positions = self.index.search(queries, fetch)
        if exclude is not None:
            drop = np.array([np.isin(row, e) for row, e in zip(positions, exclude, strict=True)])
            positions = np.where(drop, -1, positions)
        keep = positions >= 0
        order = np.argsort(~keep, axis=1, kind="stable")[:, :k]  # found ones first, in order
        positions = np.take_along_axis(positions, order, axis=1)
        scores = np.where(positions >= 0, np.take_along_axis(scores, order, axis=1), -np.inf)
        return _pad(positions, scores.astype(np.float32), k)

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        _faiss().write_index(self.index, str(path / INDEX_FILE))
        meta = {"kind": self.kind, "params": self.params, "ids": self.ids.tolist()}
        (path / META_FILE).write_text(json.dumps(meta))

    @classmethod
    def load(cls, path: Path) -> FaissIndex:
        meta_file, index_file = path / META_FILE, path / INDEX_FILE
        for file in (meta_file, index_file):
            if not file.is_file():
                raise ModelFormatError(f"{file} is missing")
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
            index = cls(meta["kind"], **meta["params"])
            index.ids = np.asarray(meta["ids"], dtype=np.int64).reshape(-1)
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError,
                ValueError) as err:
            raise ModelFormatError(f"{meta_file} is damaged or incomplete ({type(err).__name__}: "
                                   f"{err})") from err
        try:
            loaded = _faiss().read_index(str(index_file))
        except RuntimeError as err:
            raise ModelFormatError(f"{index_file} is damaged or not a faiss index") from err
        if loaded.ntotal != len(index.ids):
            raise ModelFormatError(f"{index_file} holds {loaded.ntotal} vectors but {meta_file} "
                                   f"lists {len(index.ids)} ids")
        index.dim = loaded.d
        index._configure(loaded)
        return index
