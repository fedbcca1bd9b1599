"""Training curves from a fit's `History`: loss and metrics per epoch, train vs validation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from movierec.analysis.plotting import new_figure
from movierec.training import History

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def plot_history(history: History, loss_name: str = "mse") -> Figure:
    """Left: train loss per epoch (and validation MSE when the loss is MSE, so the two
    compare); right: validation RMSE/MAE (and train RMSE = sqrt(loss) for MSE) per epoch.

    Train values are means over each epoch's batches, taken while the weights moved.
    """
    frame = history.to_frame()
    mse = loss_name == "mse"
    has_val = bool(frame["val_rmse"].notna().any())
    fig = new_figure(11, 4)
    loss_ax, metric_ax = fig.subplots(1, 2)
    loss_ax.plot(frame["epoch"], frame["train_loss"], marker="o", label=f"train {loss_name}")
    if mse and has_val:
        loss_ax.plot(frame["epoch"], frame["val_rmse"] ** 2, marker="o", label="validation mse")
    loss_ax.set_title("loss")
    if mse:
        metric_ax.plot(frame["epoch"], np.sqrt(frame["train_loss"]), marker="o",
                       label="train RMSE")
    if has_val:
        metric_ax.plot(frame["epoch"], frame["val_rmse"], marker="o", label="validation RMSE")
        metric_ax.plot(frame["epoch"], frame["val_mae"], marker="s", label="validation MAE")
    metric_ax.set_title("metrics")
    for ax in (loss_ax, metric_ax):
        if history.best_epoch is not None:
            ax.axvline(history.best_epoch, color="grey", linestyle="--", label="best epoch")
        ax.set_xlabel("epoch")
        if ax.has_data():
            ax.legend()
    return fig
