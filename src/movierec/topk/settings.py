"""Checks shared by the neural rankers' constructors: one clear error per bad setting."""

from __future__ import annotations

from movierec.errors import ConfigError


def check_settings(counts: dict[str, int], lr: float,
                   non_negative: dict[str, float] | None = None) -> None:
    """Counts must be >= 1, the learning rate > 0 and `non_negative` values >= 0."""
    for field, value in counts.items():
        if value < 1:
            raise ConfigError(f"{field} must be at least 1, got {value}")
    for field, value in (non_negative or {}).items():
        if value < 0:
            raise ConfigError(f"{field} must be >= 0, got {value}")
    if lr <= 0:
        raise ConfigError(f"lr must be positive, got {lr}")
