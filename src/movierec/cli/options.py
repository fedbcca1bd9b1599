"""Parse `--option key=value` pairs into typed preset options."""

from __future__ import annotations

import json

from movierec.errors import ConfigError


def parse_options(pairs: list[str] | None) -> dict[str, object]:
    """`["dim=32", "lr=0.01", "optimizer=adam"]` -> {"dim": 32, "lr": 0.01, "optimizer": "adam"}."""
    options: dict[str, object] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--option {pair!r} must look like key=value, e.g. dim=32")
        try:
            options[key.strip().replace("-", "_")] = json.loads(raw)
        except json.JSONDecodeError:
            options[key.strip().replace("-", "_")] = raw
    return options
