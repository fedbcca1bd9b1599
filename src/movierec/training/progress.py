"""Training progress: a live rich bar in a terminal, one line per epoch otherwise."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from movierec.training.history import EpochRecord


class TrainingProgress:
    """Shows epoch, batch, loss and validation RMSE; silent when disabled.

    Batch-level updates are drawn only on a terminal, so logs and pipes get one line per epoch.
    """

    def __init__(self, enabled: bool, epochs: int, steps_per_epoch: int) -> None:
        self.enabled, self.epochs, self.steps = enabled, epochs, steps_per_epoch
        self.console = Console()
        self.live = enabled and self.console.is_terminal
        self.bar: Progress | None = None

    def __enter__(self) -> TrainingProgress:
        if self.live:
            self.bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                MofNCompleteColumn(), TimeElapsedColumn(),
                                TextColumn("{task.fields[status]}"), console=self.console)
            self.bar.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.bar is not None:
            self.bar.stop()

    def start_epoch(self, epoch: int) -> None:
        if self.bar is not None:
            self.task = self.bar.add_task(f"epoch {epoch}/{self.epochs}", total=self.steps,
                                          status="")

    def advance(self) -> None:
        if self.bar is not None:
            self.bar.advance(self.task)

    def end_epoch(self, record: EpochRecord) -> None:
        if not self.enabled:
            return
        status = f"loss {record.train_loss:.4f}"
        if record.val_rmse is not None:
            status += f"  val RMSE {record.val_rmse:.4f}"
        if self.bar is not None:
            self.bar.update(self.task, status=status)
        else:
            self.console.print(f"epoch {record.epoch}/{self.epochs}  {status}  "
                               f"{record.seconds:.2f}s")
