"""The one config validator: plain YAML data checked against dataclass schemas and signatures.

Config files (``deepgrad.lab.config``) and sweep files (``deepgrad.lab.sweep``)
are both read by ``from_dict``: every key is checked against the schema (an
unknown one gets the closest allowed key and the full list), every value
against its type hint (``expected an integer, got 'one' (str)``), recursively,
naming the dotted place of the mistake. ``check_kwargs`` checks open-ended
arguments (a model's, an optimizer's) against the signature they configure.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import types
import typing
from collections import abc
from typing import Any, Union

__all__ = ["ConfigError", "check_kwargs", "check_type", "describe", "from_dict", "unknown_key"]


class ConfigError(ValueError):
    """A config that cannot be used; the message names the key, what was expected and got."""


# ----------------------------------------------------------------------------- type checks


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if tp is type(None):
        return "null"
    if origin in (Union, types.UnionType):
        if set(typing.get_args(tp)) == {int, float}:
            return "a number"
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is list:
        (arg,) = typing.get_args(tp) or (Any,)
        return f"a list of {_type_name(arg)}" if arg is not Any else "a list"
    if origin is dict:
        return "a mapping"
    if origin in (tuple, abc.Sequence):
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        return f"a list of {_type_name(args[0])}" if args else "a list"
    if tp is float:
        return "a number"
    if tp is int:
        return "an integer"
    if tp is bool:
        return "true/false"
    if tp is str:
        return "a string"
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    return getattr(tp, "__name__", str(tp))


def describe(value: Any) -> str:
    """A value as error messages show it: its repr (shortened) and its type."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def _shape_of(tp: Any) -> str:
    """"mapping", "list" or "scalar": what a YAML value of type ``tp`` looks like."""
    origin = typing.get_origin(tp) or tp
    if origin is dict or (dataclasses.is_dataclass(tp) and isinstance(tp, type)):
        return "mapping"
    if origin in (list, tuple, abc.Sequence):
        return "list"
    return "scalar"


def check_type(value: Any, tp: Any, where: str) -> Any:
    """Check ``value`` against a type hint and return it (ints widened to float where asked)."""
    if tp is Any or tp is inspect.Parameter.empty:
        return value
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        errors: list[tuple[Any, ConfigError]] = []
        for arg in typing.get_args(tp):
            try:
                return check_type(value, arg, where)
            except ConfigError as exc:
                errors.append((arg, exc))
        # One alternative of the value's own shape (a mapping for a section, a list for a
        # list): its error says what inside is wrong (``seeds[0]``, a missing key).
        shape = _shape_of(type(value))
        same_shape = [exc for arg, exc in errors if shape != "scalar" and _shape_of(arg) == shape]
        if len(same_shape) == 1:
            raise same_shape[0]
        raise ConfigError(f"{where}: expected {_type_name(tp)}, got {describe(value)}")
    if tp is type(None):
        if value is None:
            return None
        raise ConfigError(f"{where}: expected null, got {describe(value)}")
    if origin is typing.Literal:
        choices = typing.get_args(tp)
        if value in choices:
            return value
        raise ConfigError(f"{where}: expected one of {', '.join(map(str, choices))}, got {value!r}")
    if origin in (list, tuple, abc.Sequence) or tp in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected {_type_name(tp)}, got {describe(value)}")
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        if not args:
            return list(value)
        return [check_type(v, args[0], f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {describe(value)}")
        return dict(value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected true/false, got {describe(value)}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected an integer, got {describe(value)}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{where}: expected a number, got {describe(value)}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{where}: expected a string, got {describe(value)}")
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return from_dict(tp, value, where)
    if isinstance(tp, type) and not isinstance(value, tp):
        raise ConfigError(f"{where}: expected {_type_name(tp)}, got {describe(value)}")
    return value


def unknown_key(key: str, allowed: list[str], where: str) -> ConfigError:
    """The error for a key that is not in the schema: suggests the closest and lists them all."""
    place = f"in {where}" if where else "at top level"
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ConfigError(f"unknown key {key!r} {place}{hint}; allowed: {', '.join(sorted(allowed))}")


def from_dict(cls: type, data: Any, where: str = "") -> Any:
    """Build dataclass ``cls`` from a mapping, checking keys and types recursively.

    A dataclass with a ``kwargs`` field is an open section: keys it does not
    declare go into ``kwargs`` (checked later against a signature), and a bare
    string is its ``name``.
    """
    names = {f.name for f in dataclasses.fields(cls)}
    open_keys = "kwargs" in names  # an open section collects unknown keys into kwargs
    if open_keys and "name" in names and isinstance(data, str):
        data = {"name": data}  # ``model: mlp`` is ``model: {name: mlp}``
    if not isinstance(data, dict):
        raise ConfigError(f"{where or 'config'}: expected a mapping, got {describe(data)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "kwargs"}
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in data.items():
        if not isinstance(key, str):
            raise ConfigError(f"{where or 'config'}: keys must be strings, got {key!r}")
        sub = f"{where}.{key}" if where else key
        if key in fields:
            values[key] = check_type(value, hints[key], sub)
        elif open_keys:
            extra[key] = value
        else:
            raise unknown_key(key, list(fields), where)
    missing = [
        name
        for name, f in fields.items()
        if name not in values
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"{where or 'config'}: missing required key {missing[0]!r}")
    if open_keys:
        values["kwargs"] = extra
    return cls(**values)


# ----------------------------------------------------------------------------- signatures


def _signature_params(fn: Any) -> tuple[dict[str, inspect.Parameter], bool]:
    """Keyword parameters of ``fn`` (a class: its ``__init__``), and whether it has ``**kw``."""
    target = fn.__init__ if inspect.isclass(fn) else fn
    sig = inspect.signature(target)
    params = {}
    var_kw = False
    for i, (name, p) in enumerate(sig.parameters.items()):
        if name == "self" or (inspect.isclass(fn) and i == 0):
            continue
        if p.kind is p.VAR_KEYWORD:
            var_kw = True
        elif p.kind is not p.VAR_POSITIONAL:
            params[name] = p
    return params, var_kw


def check_kwargs(
    kwargs: dict[str, Any], fn: Any, where: str, *, skip: tuple[str, ...] = (), label: str = ""
) -> dict[str, Any]:
    """Check config kwargs against ``fn``'s signature: unknown names list the allowed ones.

    ``where`` is the config section (``model``); ``label`` what it configures (``mlp``).
    """
    params, var_kw = _signature_params(fn)
    allowed = [n for n in params if n not in skip]
    try:
        hints = typing.get_type_hints(fn.__init__ if inspect.isclass(fn) else fn)
    except Exception:  # unresolved forward references: skip type checks, keep name checks
        hints = {}
    out = {}
    for key, value in kwargs.items():
        if key not in allowed:
            if var_kw:
                out[key] = value
                continue
            raise unknown_key(key, allowed, f"{where} ({label})" if label else where)
        tp = hints.get(key, Any)
        out[key] = _check_arg(value, tp, f"{where}.{key}")
    return out


def _check_arg(value: Any, tp: Any, where: str) -> Any:
    """Like ``check_type`` but lenient where YAML cannot express the hint (tuples, callables)."""
    origin = typing.get_origin(tp)
    if origin is tuple or tp is tuple:
        if isinstance(value, (list, tuple)):
            return tuple(value)
    if origin is abc.Sequence and isinstance(value, (list, tuple)):
        return check_type(list(value), tp, where)
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        if any(typing.get_origin(a) is tuple or a is tuple for a in args) and isinstance(
            value, (list, tuple)
        ):
            return tuple(value)
    try:
        return check_type(value, tp, where)
    except ConfigError:
        raise
    except Exception:  # a hint we cannot check (a callable, a Module): accept the value
        return value
