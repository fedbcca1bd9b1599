"""`History`: what happened in each epoch of a fit, with JSON round trip and a loss plot."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class EpochRecord:
    """One epoch: mean train loss, validation RMSE/MAE (None without validation),
    training seconds (validation excluded), the learning rate at the epoch's end, for
    rankers scored on a validation split NDCG@10 there, and for rating classifiers the
    share of validation ratings whose class is the most probable one."""

    epoch: int
    train_loss: float | None
    val_rmse: float | None
    val_mae: float | None
    seconds: float
    lr: float
    val_ndcg: float | None = None
    val_accuracy: float | None = None


@dataclass
class History:
    """Per-epoch records of one `Trainer.fit`; `best_epoch` is the epoch whose weights the
    model holds after fit (the best validation RMSE, else the last epoch). `batch_losses`:
    each optimiser step's loss, in order, for the minibatch regime (empty otherwise)."""

    n_train: int
    records: list[EpochRecord] = field(default_factory=list)
    best_epoch: int | None = None
    batch_losses: list[float] = field(default_factory=list)

    @property
    def train_seconds(self) -> float:
        return sum(r.seconds for r in self.records)

    @property
    def ratings_per_second(self) -> float:
        """Training throughput: ratings x epochs / training seconds (validation excluded)."""
        seconds = self.train_seconds
        return self.n_train * len(self.records) / seconds if seconds > 0 else float("nan")

    @property
    def best_val_rmse(self) -> float | None:
        rmses = [r.val_rmse for r in self.records if r.val_rmse is not None]
        return min(rmses) if rmses else None

    def best_validation(self) -> tuple[str, float] | None:
        """The best validation score as (metric, value): RMSE for rating models, else
        NDCG@10 for rankers scored on a split; None when nothing was validated."""
        rmse = self.best_val_rmse
        if rmse is not None:
            return "RMSE", rmse
        ndcgs = [r.val_ndcg for r in self.records if r.val_ndcg is not None]
        return ("NDCG@10", max(ndcgs)) if ndcgs else None

    def continued(self, later: History) -> History:
        """This history followed by `later` (a fit that went on from these weights): epochs
        and the best epoch renumbered to follow on, batch losses appended."""
        offset = len(self.records)
        records = [replace(r, epoch=r.epoch + offset) for r in later.records]
        best = None if later.best_epoch is None else later.best_epoch + offset
        return History(n_train=later.n_train, records=[*self.records, *records], best_epoch=best,
                       batch_losses=[*self.batch_losses, *later.batch_losses])

    def to_frame(self) -> pd.DataFrame:
        columns = [f for f in EpochRecord.__dataclass_fields__]
        return pd.DataFrame([asdict(r) for r in self.records], columns=columns)

    def to_dict(self) -> dict:
        return {"n_train": self.n_train, "best_epoch": self.best_epoch,
                "records": [asdict(r) for r in self.records], "batch_losses": self.batch_losses}

    @classmethod
    def from_dict(cls, data: dict) -> History:
        """Files written before batch losses were kept load with none."""
        return cls(n_train=int(data["n_train"]), best_epoch=data["best_epoch"],
                   records=[EpochRecord(**r) for r in data["records"]],
                   batch_losses=[float(x) for x in data.get("batch_losses", [])])

    def save_json(self, path: str | Path) -> None:
        """Write atomically: a temporary file in the same folder, then `os.replace`."""
        path = Path(path)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self.to_dict(), handle, indent=2)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load_json(cls, path: str | Path) -> History:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def plot(self, path: str | Path) -> None:
        """Write a PNG of train loss and validation RMSE per epoch.

        Uses a bare matplotlib Figure (Agg canvas), so no pyplot state or backend changes.
        """
        from matplotlib.figure import Figure

        frame = self.to_frame()
        fig = Figure(figsize=(6, 4))
        ax = fig.subplots()
        ax.plot(frame["epoch"], frame["train_loss"], marker="o", label="train loss")
        if frame["val_rmse"].notna().any():
            ax.plot(frame["epoch"], frame["val_rmse"], marker="o", label="validation RMSE")
        if self.best_epoch is not None:
            ax.axvline(self.best_epoch, color="grey", linestyle="--", label="best epoch")
        ax.set_xlabel("epoch")
        ax.legend()
        fig.tight_layout()
        fig.savefig(path)
