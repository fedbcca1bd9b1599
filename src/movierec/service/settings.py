"""`ServiceSettings`: everything the app factory needs, with defaults in code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


def default_database_url(model_dir: Path) -> str:
    """SQLite file in a `<model>.service` folder beside the model.

    Not inside the model folder: re-saving a model swaps its whole folder, which would
    take the profiles with it.
    """
    folder = model_dir.resolve().with_name(model_dir.resolve().name + ".service")
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'profiles.sqlite3'}"


@dataclass(frozen=True)
class ServiceSettings:
    """How the service runs. `api_key` None leaves write endpoints open; `cors_origins`
    empty keeps CORS off (the page is served from the same origin)."""

    model_dir: Path
    database_url: str | None = None
    api_key: str | None = None
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = 64 * 1024
    max_k: int = 500
    fold_in_epochs: int = 40
    report_path: Path | None = None

    def resolved_database_url(self) -> str:
        return self.database_url or default_database_url(self.model_dir)

    def find_report(self) -> Path | None:
        """The `movierec explore` report to serve: `report_path` (a report.html or its
        folder), else MODEL_DIR/report/report.html or MODEL_DIR/report.html; None if absent.
        Looked up on each call, so a report written while the service runs appears."""
        if self.report_path is not None:
            candidates = [self.report_path / "report.html", self.report_path]
        else:
            candidates = [self.model_dir / "report" / "report.html",
                          self.model_dir / "report.html"]
        return next((path for path in candidates if path.is_file()), None)
