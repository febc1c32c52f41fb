"""Generic impostor solutions: the reference's answers, made wrong in a way that keeps their type.

`impostor(kata, kind)` returns the public names of a solution module whose every function (and
every public method of every class) returns, instead of the right answer:
    zeros      zeros of the same shape (0.0, "", {} for other types)
    input      its first argument
    random     a seeded random value of the same shape and type
    transpose  the answer transposed (≥2-D), reversed (1-D, strings, lists, dicts), or, for a
               scalar, the answer to the first argument transposed
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import random as pyrandom
from typing import Any

import numpy as np
import torch

from tests.grading import ROOT


def _flip(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return x.transpose(-2, -1) if x.ndim >= 2 else x.flip(0) if x.ndim == 1 else x
    if isinstance(x, np.ndarray):
        return np.swapaxes(x, -2, -1) if x.ndim >= 2 else x[::-1] if x.ndim == 1 else x
    if isinstance(x, str):
        return "\n".join(reversed(x.split("\n"))) if "\n" in x else x[::-1]
    if isinstance(x, list | tuple):
        return type(x)(reversed(x))
    if isinstance(x, dict):
        return {k: _flip(x[k]) for k in reversed(list(x))}
    return x


def _mangle(value: Any, kind: str, rng: pyrandom.Random) -> Any:
    if isinstance(value, tuple):
        return tuple(_mangle(v, kind, rng) for v in value)
    if isinstance(value, torch.Tensor):
        if kind == "zeros":
            return torch.zeros_like(value)
        if kind == "transpose":
            return _flip(value)
        if value.is_floating_point():
            g = torch.Generator().manual_seed(rng.randrange(2**31))
            return torch.randn(value.shape, generator=g, dtype=value.dtype)
        return value + 1
    if isinstance(value, np.ndarray | np.generic) and not isinstance(value, np.bool_):
        value = np.asarray(value)
        if kind == "zeros":
            return np.zeros_like(value)
        if kind == "transpose":
            return _flip(value)
        if np.issubdtype(value.dtype, np.floating):
            return np.random.default_rng(rng.randrange(2**31)).standard_normal(value.shape)
        return value + 1
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return 0.0 if kind == "zeros" else rng.uniform(-3, 3)
    if isinstance(value, str):
        if kind == "zeros":
            return ""
        if kind == "transpose":
            return _flip(value)
        return "".join(rng.choice("abc\n ") for _ in value)
    if isinstance(value, dict | list):
        if kind == "zeros":
            return type(value)()
        return _flip(value) if kind == "transpose" else type(value)(reversed(value))
    return value


def _wrap(func: Any, kind: str, rng: pyrandom.Random, method: bool = False) -> Any:
    @functools.wraps(func)
    def impostor(*args: Any, **kwargs: Any) -> Any:
        inputs = list(args[1:] if method else args) + list(kwargs.values())
        if kind == "input" and inputs:
            return inputs[0]
        if kind == "transpose" and inputs and isinstance(inputs[0], torch.Tensor | np.ndarray):
            answer = func(*args, **kwargs)
            if not isinstance(answer, torch.Tensor | np.ndarray) or np.ndim(answer) == 0:
                first = 1 if method else 0
                if len(args) > first:
                    args = (*args[:first], _flip(args[first]), *args[first + 1 :])
                return func(*args, **kwargs)
            return _flip(answer)
        answer = func(*args, **kwargs)
        if method and answer is args[0]:
            return answer  # fit() returning self stays as it is
        return _mangle(answer, kind, rng)

    return impostor


def impostor(kata: str, kind: str) -> dict[str, Any]:
    path = ROOT / "references" / f"{kata}.py"
    spec = importlib.util.spec_from_file_location(f"impostor_reference_{kata}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rng = pyrandom.Random(0)
    names: dict[str, Any] = {}
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isclass(obj):
            overrides = {
                m: _wrap(f, kind, rng, method=True)
                for m, f in vars(obj).items()
                if inspect.isfunction(f) and not m.startswith("_")
            }
            names[name] = type(name, (obj,), overrides)
        elif inspect.isfunction(obj):
            names[name] = _wrap(obj, kind, rng)
    return names
