"""Two DDP processes (torchrun, gloo, 127.0.0.1) train as well as one process."""

import json
import subprocess
import sys

from movierec import Recommender
from movierec.data.columnar import RatingColumns
from movierec.data.synth import SynthSpec, write_synthetic_movielens
from movierec.recommender.at_scale import fit_columns
from movierec.training.scale import ScaleConfig

OPTIONS = {"epochs": 3, "batch_size": 2048, "lr": 0.05, "num_threads": 1, "dim": 16}


def test_two_processes_match_one(tmp_path):
    data = write_synthetic_movielens(tmp_path / "synth", SynthSpec(20_000, 500, 250, seed=2))
    out = tmp_path / "ddp-model"
    args = [a for k, v in OPTIONS.items() for a in ("-o", f"{k}={v}")]
    run = subprocess.run([sys.executable, "-m", "movierec.cli", "train", "--out", str(out),
                          "--ratings", str(data), "--nproc", "2", "--test-fraction", "0.1",
                          "--no-plot", *args], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    ddp = json.loads((out / "history.json").read_text())["records"]

    train, test = RatingColumns.from_parquet(data / "ratings.parquet").holdout(0.1, seed=0)
    config = ScaleConfig(**{k: v for k, v in OPTIONS.items() if k != "dim"}, progress=False,
                         kernel=False)  # the arithmetic of several processes
    single = fit_columns(Recommender("biased-mf", dim=16, progress=False), train, train, test,
                         config=config)
    one = single.history.records
    assert len(ddp) == len(one) == 3
    assert ddp[-1]["val_rmse"] < ddp[0]["val_rmse"]  # it learned
    assert abs(ddp[-1]["val_rmse"] - one[-1].val_rmse) < 0.01
