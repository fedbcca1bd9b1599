"""Export a fitted Recommender's networks to ONNX or TorchScript for serving outside Python.

Three graphs, all on contiguous indices (the id maps are written beside them as ids.json):
`scoring` (users[B], movies[B] -> predicted rating[B]), and where the model has them the
`user_tower` and `movie_tower` (indices[B] -> vectors[B, d]). manifest.json lists the files.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Literal

import torch
from torch import nn

from movierec.errors import ConfigError
from movierec.recommender import Recommender

Format = Literal["onnx", "torchscript"]
FORMATS = ("onnx", "torchscript")
ONNX_OPSET = 17


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


def export_graphs(rec: Recommender, out: Path, fmt: Format) -> dict[str, object]:
    """Write the graphs in `fmt` into `out`; returns the manifest (also saved as JSON)."""
    if fmt not in FORMATS:
        raise ConfigError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    model = rec._require_model().eval()
    if not model.predicts_ratings:
        raise ConfigError(f"export writes a rating-scoring graph; preset {rec.preset!r} ranks "
                          "but predicts no ratings, so there is nothing to export yet")
    out.mkdir(parents=True, exist_ok=True)
    graphs: dict[str, tuple[nn.Module, tuple[str, ...]]] = {
        "scoring": (ScoringGraph(model), ("users", "movies"))}
    for side, vectors in (("user", model.user_vectors), ("movie", model.movie_vectors)):
        try:
            graphs[f"{side}_tower"] = (TowerGraph(vectors()), ("index",))
        except (NotImplementedError, ConfigError):  # no embedding per id (autoencoders)
            continue
    files = {}
    for name, (graph, inputs) in graphs.items():
        example = tuple(torch.zeros(2, dtype=torch.long) for _ in inputs)
        path = out / f"{name}.{'onnx' if fmt == 'onnx' else 'pt'}"
        with torch.no_grad():
            _write(graph.eval(), example, inputs, path, fmt)
        files[name] = {"file": path.name, "inputs": list(inputs)}
    (out / "ids.json").write_text(json.dumps({"user_ids": rec.user_ids.to_list(),
                                              "movie_ids": rec.movie_ids.to_list()}))
    manifest = {"format": fmt, "preset": rec.preset, "rating_range": list(model.rating_range),
                "graphs": files, "ids": "ids.json"}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest


def _write(graph: nn.Module, example: tuple[torch.Tensor, ...], inputs: tuple[str, ...],
           path: Path, fmt: Format) -> None:
    # Both exporters warn that they are deprecated in favour of torch.export, whose output
    # needs onnxscript (ONNX) or a Python runtime (pt2); these files load without either.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if fmt == "torchscript":
            torch.jit.trace(graph, example).save(str(path))
            return
        torch.onnx.export(graph, example, str(path), input_names=list(inputs),
                          output_names=["output"], opset_version=ONNX_OPSET, dynamo=False,
                          dynamic_axes={name: {0: "batch"} for name in [*inputs, "output"]})
