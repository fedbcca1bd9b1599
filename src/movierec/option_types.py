"""Type checks for the options a user passes to a preset or its training (`Recommender(...,
**options)`, the CLI's `-o key=value`, a saved config): a value of the wrong kind is a
ConfigError naming the option, not a TypeError deep inside a model."""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from movierec.errors import ConfigError

# the scalar kinds checked, and how a message names them; other hints (tuples, dicts,
# strings of a fixed set) are checked by the code that reads them
_KINDS: dict[Any, tuple[Callable[[Any], bool], str]] = {
    bool: (lambda v: isinstance(v, bool | np.bool_), "true or false"),
    int: (lambda v: isinstance(v, int | np.integer) and not isinstance(v, bool),
          "a whole number"),
    float: (lambda v: isinstance(v, int | float | np.integer | np.floating)
            and not isinstance(v, bool), "a number"),
    str: (lambda v: isinstance(v, str), "text"),
    type(None): (lambda v: v is None, "null"),
}


def check_option_types(target: Callable[..., Any], options: Mapping[str, Any],
                       what: str) -> None:
    """ConfigError for the first option whose value does not fit `target`'s type hint."""
    hints = typing.get_type_hints(target)
    for name, value in options.items():
        kinds = _scalar_kinds(hints.get(name))
        if kinds and not any(_KINDS[kind][0](value) for kind in kinds):
            wanted = " or ".join(_KINDS[kind][1] for kind in kinds)
            raise ConfigError(f"{what} option {name}={value!r} must be {wanted}")


def _scalar_kinds(hint: Any) -> list[Any]:
    """The checked kinds a hint allows; empty when any part of it is not checked here."""
    parts = (typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType)
             else (hint,))
    return list(parts) if all(part in _KINDS for part in parts) else []
