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

Check = tuple[Callable[[Any], bool], str]  # does a value fit, and how a message names the kind

# the scalar kinds checked, and how a message names them; other hints (strings of a fixed
# set, ranges) are checked by the code that reads them
_KINDS: dict[Any, Check] = {
    bool: (lambda v: isinstance(v, bool | np.bool_), "true or false"),
    int: (lambda v: isinstance(v, int | np.integer) and not isinstance(v, bool),
          "a whole number"),
    float: (lambda v: isinstance(v, int | float | np.integer | np.floating)
            and not isinstance(v, bool), "a number"),
    str: (lambda v: isinstance(v, str), "text"),
    type(None): (lambda v: v is None, "null"),
    dict: (lambda v: isinstance(v, Mapping), "a mapping"),
}


def check_option_types(target: Callable[..., Any], options: Mapping[str, Any],
                       what: str) -> None:
    """ConfigError for the first option whose value does not fit `target`'s type hint."""
    hints = typing.get_type_hints(target)
    for name, value in options.items():
        check = _check(hints.get(name))
        if check is not None and not check[0](value):
            raise ConfigError(f"{what} option {name}={value!r} must be {check[1]}")


def _check(hint: Any) -> Check | None:
    """How to check a value against `hint`: scalars, `tuple[X, ...]` (a list or tuple of
    X), `dict` and unions of them; None when any part of the hint is not checked here."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        parts = [_check(arg) for arg in typing.get_args(hint)]
        if any(part is None for part in parts):
            return None
        return (lambda v: any(fits(v) for fits, _ in parts),  # type: ignore[misc]
                " or ".join(name for _, name in parts))  # type: ignore[misc]
    if origin is tuple:
        args = typing.get_args(hint)
        item = _check(args[0]) if len(args) == 2 and args[1] is Ellipsis else None
        if item is None:
            return None
        return (lambda v: isinstance(v, list | tuple | np.ndarray) and all(item[0](x) for x in v),
                f"a list (each {item[1]})")
    if origin is dict:
        return _KINDS[dict]
    return _KINDS.get(hint)
