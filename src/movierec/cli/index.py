"""`movierec index build|query`: a vector index over a saved model's movie vectors."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from movierec.cli.render import console, show
from movierec.errors import ConfigError

index_app = typer.Typer(help="Build and query a saved model's movie vector index "
                             "(exact, or faiss HNSW / IVF).", no_args_is_help=True)

ModelDir = Annotated[Path, typer.Argument(help="Folder written by `movierec train`.")]


@index_app.command("build")
def build(
    model_dir: ModelDir,
    kind: Annotated[str, typer.Option("--kind", help="exact, hnsw or ivf.")] = "exact",
    m: Annotated[int, typer.Option("--m", help="HNSW: links per node.")] = 32,
    ef_construction: Annotated[int, typer.Option(help="HNSW: build breadth.")] = 80,
    ef_search: Annotated[int, typer.Option(help="HNSW: search breadth.")] = 64,
    nlist: Annotated[int | None, typer.Option(
        help="IVF: k-means cells (default 4 sqrt(movies)).")] = None,
    nprobe: Annotated[int, typer.Option(help="IVF: cells visited per query.")] = 16,
) -> None:
    """Build the index from the model's movie vectors and save it inside MODEL_DIR;
    `recommend` then serves from it."""
    from movierec import Recommender
    from movierec.index import INDEX_KINDS

    if kind not in INDEX_KINDS:
        raise ConfigError(f"--kind {kind!r} is not an index kind; choose one of "
                          f"{', '.join(INDEX_KINDS)}")
    rec = Recommender.load(model_dir)
    params = {} if kind == "exact" else {"m": m, "ef_construction": ef_construction,
                                         "ef_search": ef_search, "nlist": nlist,
                                         "nprobe": nprobe}
    started = time.perf_counter()
    index = rec.build_index(kind, **params)
    seconds = time.perf_counter() - started
    rec.save(model_dir)
    console.print(f"built a {kind} index of {len(index.ids):,} movies ({index.dim}-d) in "
                  f"{seconds:.2f} s; saved in {model_dir}")


@index_app.command("query")
def query(
    model_dir: ModelDir,
    user: Annotated[int, typer.Option("--user", "-u", help="Raw user id.")],
    k: Annotated[int, typer.Option("--k", "-k", help="How many movies.")] = 10,
    include_seen: Annotated[bool, typer.Option(help="Also list movies the user rated.")] = False,
) -> None:
    """Top-k movies for a user from the saved index (movies they rated are excluded)."""
    from movierec import Recommender

    rec = Recommender.load(model_dir)
    if rec.index is None:
        raise ConfigError(f"{model_dir} has no index; run `movierec index build {model_dir}` "
                          "first")
    top = rec.recommend(user, k, exclude_seen=not include_seen)
    show(top, title=f"top {k} for user {user} ({rec.index.kind} index)")
