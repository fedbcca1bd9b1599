"""`movierec data synth` and `movierec train --ratings`: data and training at scale,
one process or several under torchrun (`--nproc`)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from movierec.cli.render import console
from movierec.errors import DataSourceError, MovieRecError

_COLUMNS_READY = "MOVIEREC_COLUMNS_READY"  # set by the launcher for the ranks it starts


def run_synth(out: Path, n_ratings: int, n_users: int, n_movies: int, dim: int,
              seed: int) -> None:
    """Write a synthetic data set folder, with a progress bar over ratings."""
    from rich.progress import Progress

    from movierec.data.synth import SynthSpec, write_synthetic_movielens

    spec = SynthSpec(n_ratings, n_users, n_movies, dim=dim, seed=seed)
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("generating ratings", total=n_ratings)
        write_synthetic_movielens(out, spec, on_block=lambda n: bar.advance(task, n))
    console.print(f"wrote {n_ratings:,} ratings of {n_users:,} users x {n_movies:,} movies "
                  f"to {out}")


def run_scale_train(out: Path, ratings: Path, preset: str, options: list[str], *,
                    test_fraction: float, seed: int, nproc: int, resume: bool) -> None:
    """Train from a ratings parquet (or a folder holding ratings.parquet); with nproc > 1,
    start nproc processes with torchrun, each running this same command."""
    from movierec.data.columnar import RatingColumns

    work = out.with_name(out.name + ".work")
    columns_dir, checkpoints = work / "columns", work / "checkpoints"
    parquet = ratings / "ratings.parquet" if ratings.is_dir() else ratings
    if not parquet.is_file():
        raise DataSourceError(f"{parquet} does not exist; write one with `movierec data synth`")
    if "WORLD_SIZE" not in os.environ:
        if not (resume and columns_dir.is_dir()):
            RatingColumns.from_parquet(parquet).save(columns_dir)  # ranks memory-map this copy
        if nproc > 1:
            _launch(nproc, out, ratings, preset, options, test_fraction, seed, resume)
            return
    ready = "WORLD_SIZE" not in os.environ or bool(os.environ.get(_COLUMNS_READY))
    _train_rank(out, parquet, columns_dir, checkpoints, preset, options,
                test_fraction=test_fraction, seed=seed, resume=resume, columns_ready=ready)


def _launch(nproc: int, out: Path, ratings: Path, preset: str, options: list[str],
            test_fraction: float, seed: int, resume: bool) -> None:
    from movierec.training.distributed import torchrun_command

    args = ["train", "--out", str(out), "--ratings", str(ratings), "--model", preset,
            "--test-fraction", str(test_fraction), "--seed", str(seed)]
    args += [a for pair in options for a in ("-o", pair)] + (["--resume"] if resume else [])
    command = torchrun_command(nproc, args)
    console.print("running " + " ".join(command[1:]))
    env = {**os.environ, _COLUMNS_READY: "1"}
    if subprocess.run(command, check=False, env=env).returncode:
        raise MovieRecError(f"distributed training failed ({nproc} processes); see the "
                            "messages above")


def _train_rank(out: Path, parquet: Path, columns_dir: Path, checkpoints: Path, preset: str,
                options: list[str], *, test_fraction: float, seed: int, resume: bool,
                columns_ready: bool) -> None:
    import pandas as pd

    from movierec import Recommender
    from movierec.cli.options import parse_options
    from movierec.data.columnar import RatingColumns
    from movierec.recommender.at_scale import fit_columns, split_scale_options
    from movierec.training.distributed import join_process_group, leave_process_group

    config, model_options = split_scale_options({"seed": seed, **parse_options(options)})
    world = join_process_group(config.device)
    try:
        if world.is_main and not columns_ready and not (resume and columns_dir.is_dir()):
            # started by torchrun directly: rank 0 prepares the columns, the others wait
            RatingColumns.from_parquet(parquet).save(columns_dir)
        world.barrier()
        columns = RatingColumns.load(columns_dir)
        train, test = columns.holdout(test_fraction, seed) if test_fraction > 0 else (columns,
                                                                                      None)
        rec = Recommender(preset, seed=config.seed, validation_fraction=0.0,
                          progress=config.progress, **model_options)
        movies_file = parquet.with_name("movies.parquet")
        if movies_file.is_file():
            rec.movies = pd.read_parquet(movies_file).set_index("movie_id", drop=False)
        # the facade's columnar path, with the test part as the per-epoch validation
        fit_columns(rec, train, train, test, config=config, source=str(parquet), world=world,
                    checkpoints=checkpoints, resume=resume)
        if world.is_main:
            rec.save(out)
            history = rec.history
            console.print(f"saved [bold]{preset}[/] to {out} "
                          f"({history.ratings_per_second:,.0f} ratings/s with "
                          f"{world.size} process(es))")
            if test is not None:
                console.print(f"held-out RMSE {history.records[-1].val_rmse:.4f} on "
                              f"{len(test):,} ratings")
    finally:
        leave_process_group()
