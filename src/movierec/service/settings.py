"""`ServiceSettings`: everything the app factory needs, with defaults in code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from movierec.errors import ConfigError


def default_database_url(model_dir: Path) -> str:
    """SQLite file in a `<model>.service` folder beside the model.

    Not inside the model folder: re-saving a model swaps its whole folder, which would
    take the profiles with it.
    """
    folder = model_dir.resolve().with_name(model_dir.resolve().name + ".service")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"cannot make {folder} for the profile database ({err.strerror}); "
                          "pass --db") from None
    return f"sqlite:///{folder / 'profiles.sqlite3'}"


@dataclass(frozen=True)
class ServiceSettings:
    """How the service runs. `api_key` None leaves write endpoints open; `cors_origins`
    empty keeps CORS off (the page is served from the same origin); `allowed_hosts` None
    answers any Host header (an app embedded behind the caller's own checks: `movierec
    serve` always passes a list), else only those hosts ("*" for any)."""

    model_dir: Path
    database_url: str | None = None
    api_key: str | None = None
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = 64 * 1024
    max_k: int = 500
    fold_in_epochs: int = 40
    report_path: Path | None = None
    allowed_hosts: tuple[str, ...] | None = None

    def resolved_database_url(self) -> str:
        return self.database_url or default_database_url(self.model_dir)
