"""Export a fitted Recommender's networks to ONNX or TorchScript for serving outside Python.

Three graphs, all on contiguous indices (the id maps are written beside them as ids.json):
`scoring` (users[B], movies[B] -> predicted rating[B]), and where the model has them the
`user_tower` and `movie_tower` (indices[B] -> vectors[B, d]). manifest.json lists the files.

Tracing records one example batch; a model whose code branches or loops on the batch gives a
graph that is wrong for every other batch. So a model known to do that is refused with the
reason, and every graph is run on probe batches of other sizes before anything is written:
one that does not reproduce the model is refused too.
"""

from __future__ import annotations

import copy
import io
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import nn

from movierec.devices import model_device
from movierec.errors import ConfigError, OverwriteRefusedError
from movierec.models.base import Scorer
from movierec.models.ensemble import BlendedEnsemble
from movierec.models.neighbourhood import ItemNeighbourhood
from movierec.recommender import Recommender

Format = Literal["onnx", "torchscript"]
FORMATS = ("onnx", "torchscript")
ONNX_OPSET = 17
# A trace that went wrong is off by whole ratings or fails outright; float32 kernels that
# differ between runtimes stay below this.
PROBE_TOLERANCE = 1e-4
PROBE_SIZES = (1, 300)  # the trace's example batch has 2 rows

# Models whose prediction a trace cannot capture, and why (found by exporting every preset).
_UNTRACEABLE: dict[type[Scorer], str] = {
    ItemNeighbourhood: "item-knn predicts in blocks of 8192 pairs and a traced graph keeps the "
                       "block count of its example batch (ONNX fails on every batch, "
                       "TorchScript on batches of more than 8192 pairs)",
}


def refusal(model: Scorer) -> str | None:
    """Why `model` cannot be exported faithfully, or None when it can."""
    if not model.predicts_ratings:
        return ("it ranks but predicts no ratings, and export writes a rating-scoring graph, "
                "so there is nothing to export yet")
    for cls, reason in _UNTRACEABLE.items():
        if isinstance(model, cls):
            return reason
    if isinstance(model, BlendedEnsemble):
        for member in model.member_models:
            reason = refusal(member)
            if reason:
                return f"ensemble member {member.preset!r} cannot be exported: {reason}"
    return None


class ScoringGraph(nn.Module):
    """(user indices, movie indices) -> predicted ratings on the model's scale."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, users: torch.Tensor, movies: torch.Tensor) -> torch.Tensor:
        return self.model.predict(users, movies)


class TowerGraph(nn.Module):
    """Indices -> rows of one side's vectors (a frozen copy of the table)."""

    def __init__(self, vectors: torch.Tensor) -> None:
        super().__init__()
        self.vectors = nn.Parameter(vectors.detach().clone(), requires_grad=False)

    def forward(self, index: torch.Tensor) -> torch.Tensor:
        return nn.functional.embedding(index, self.vectors)


MANIFEST = "manifest.json"
# a graph's inputs: (name, how many indices it takes)
Inputs = tuple[tuple[str, int], ...]


def export_graphs(rec: Recommender, out: Path, fmt: Format) -> dict[str, object]:
    """Write the graphs in `fmt` into `out`; returns the manifest (also saved as JSON).

    ConfigError, with nothing written, for a model that cannot be exported faithfully;
    OverwriteRefusedError for an `out` that holds files an export did not write."""
    if fmt not in FORMATS:
        raise ConfigError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    check_export_target(out)
    model = rec._require_model().eval()
    if model_device(model).type != "cpu":  # the graphs are traced and checked on the CPU
        model = copy.deepcopy(model).cpu()
    reason = refusal(model)
    if reason:
        raise ConfigError(f"cannot export preset {rec.preset!r}: {reason}")
    graphs: dict[str, tuple[nn.Module, Inputs]] = {
        "scoring": (ScoringGraph(model), (("users", model.n_users), ("movies", model.n_movies)))}
    for side, vectors in (("user", model.user_vectors), ("movie", model.movie_vectors)):
        try:
            table = vectors()
        except (NotImplementedError, ConfigError):  # no embedding per id
            continue
        graphs[f"{side}_tower"] = (TowerGraph(table), (("index", len(table)),))
    suffix = "onnx" if fmt == "onnx" else "pt"
    blobs = {name: _checked_graph(name, graph.eval(), inputs, fmt)
             for name, (graph, inputs) in graphs.items()}
    files = {name: {"file": f"{name}.{suffix}", "inputs": [n for n, _ in graphs[name][1]]}
             for name in blobs}
    manifest = {"format": fmt, "preset": rec.preset, "rating_range": list(model.rating_range),
                "graphs": files, "ids": "ids.json"}
    contents = {f"{name}.{suffix}": blob for name, blob in blobs.items()}
    contents["ids.json"] = json.dumps({"user_ids": rec.user_ids.to_list(),
                                       "movie_ids": rec.movie_ids.to_list()}).encode()
    contents[MANIFEST] = json.dumps(manifest, indent=2).encode()  # last: marks a whole export
    _write_atomically(out, contents)
    return manifest


def check_export_target(out: Path) -> None:
    """Refuse, before any work, an `out` that is not a missing path, an empty folder or an
    earlier export (its manifest.json names graphs): an export replaces only its own files."""
    if not out.exists() and not out.is_symlink():
        return
    if out.is_dir() and (not any(out.iterdir()) or _is_export(out)):
        return
    raise OverwriteRefusedError(f"{out} exists and is not an export folder (no {MANIFEST} "
                                "naming graphs); refusing to write into it: choose another folder")


def _is_export(folder: Path) -> bool:
    try:
        return "graphs" in json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError, TypeError):
        return False


def _write_atomically(out: Path, contents: dict[str, bytes]) -> None:
    """Each file written under a temporary folder beside `out`, then renamed into it."""
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".exporting.", dir=out))
    try:
        for name, blob in contents.items():
            (staging / name).write_bytes(blob)
        for name in contents:
            os.replace(staging / name, out / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _checked_graph(name: str, graph: nn.Module, inputs: Inputs, fmt: Format) -> bytes:
    """The graph's file contents, after the runtime reproduced `graph` on probe batches."""
    example = tuple(torch.zeros(2, dtype=torch.long) for _ in inputs)
    with torch.no_grad():
        blob = _serialise(graph, example, [n for n, _ in inputs], fmt)
        run = _runtime(blob, [n for n, _ in inputs], fmt)
        if run is None:  # onnxruntime not installed: nothing to check with
            return blob
        rng = np.random.default_rng(0)
        for size in PROBE_SIZES:
            probe = [rng.integers(0, high, size).astype(np.int64) for _, high in inputs]
            want = graph(*[torch.from_numpy(p) for p in probe]).numpy()
            try:
                got = run(probe)
            except Exception as err:  # the runtime's own error types vary
                raise ConfigError(f"the {fmt} {name} graph fails on a batch of {size}: "
                                  f"{str(err).splitlines()[0]}") from None
            gap = float(np.abs(got - want).max()) if got.shape == want.shape else np.inf
            if not gap <= PROBE_TOLERANCE:
                raise ConfigError(f"the {fmt} {name} graph does not reproduce the model on a "
                                  f"batch of {size} (largest difference {gap:.3g})")
    return blob


def _serialise(graph: nn.Module, example: tuple[torch.Tensor, ...], inputs: list[str],
               fmt: Format) -> bytes:
    buffer = io.BytesIO()
    # Both exporters warn that they are deprecated in favour of torch.export, whose output
    # needs onnxscript (ONNX) or a Python runtime (pt2); these files load without either.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if fmt == "torchscript":
            torch.jit.save(torch.jit.trace(graph, example), buffer)
        else:
            torch.onnx.export(graph, example, buffer, input_names=inputs,
                              output_names=["output"], opset_version=ONNX_OPSET, dynamo=False,
                              dynamic_axes={name: {0: "batch"} for name in [*inputs, "output"]})
    return buffer.getvalue()


def _runtime(blob: bytes, inputs: list[str], fmt: Format
             ) -> Callable[[list[np.ndarray]], np.ndarray] | None:
    """A function running the serialised graph the way a consumer would, or None."""
    if fmt == "torchscript":
        with warnings.catch_warnings():  # torch.jit.load warns that it is deprecated
            warnings.simplefilter("ignore", DeprecationWarning)
            loaded = torch.jit.load(io.BytesIO(blob))
        return lambda arrays: loaded(*[torch.from_numpy(a) for a in arrays]).detach().numpy()
    try:
        import onnxruntime
    except ImportError:
        return None
    session = onnxruntime.InferenceSession(blob, providers=["CPUExecutionProvider"])
    return lambda arrays: session.run(None, dict(zip(inputs, arrays, strict=True)))[0]
