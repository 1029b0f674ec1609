"""Argument checks shared by the A2 reference: every error names the argument and what it wants."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import torch


def tensor(name: str, value: object, ndim: int | tuple[int, ...], shape: str) -> torch.Tensor:
    """Return ``value`` if it is a floating tensor with ``ndim`` dimensions, else raise.

    ``shape`` is the human description used in the message, e.g. ``"(d,)"`` or ``"(K, d)"``.
    """
    dims = (ndim,) if isinstance(ndim, int) else ndim
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape {shape}, "
                        f"got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor of shape {shape}, "
                        f"got dtype {value.dtype}")
    if value.dim() not in dims:
        raise ValueError(f"{name} must have shape {shape}, got {tuple(value.shape)}")
    return value


def number(name: str, value: object) -> float:
    """A finite real number from a Python/NumPy number or a one-element tensor."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"{name} must be a number, got a tensor of shape "
                             f"{tuple(value.shape)}")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"{name} must be finite, got {result}")
    return result


def count(name: str, value: object, minimum: int) -> int:
    """An int >= ``minimum`` (bools and floats are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def integer(name: str, value: object) -> int:
    """Any int (a seed, say); bools and floats are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    return int(value)


def index(name: str, value: object, size: int) -> int:
    """A row index in 0..size-1: an int or a one-element integer tensor."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1 or value.is_floating_point() or value.dtype == torch.bool:
            raise TypeError(f"{name} must be an int, got a {value.dtype} tensor of shape "
                            f"{tuple(value.shape)}")
        value = int(value.item())
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    result = int(value)
    if not 0 <= result < size:
        raise IndexError(f"{name} must be a row index in 0..{size - 1}, got {result}")
    return result


def indices(name: str, value: object, size: int, shape: str) -> torch.Tensor:
    """A 1-d int64 tensor of row indices in 0..size-1 (from an integer tensor or a list)."""
    if isinstance(value, torch.Tensor):
        if value.is_floating_point() or value.is_complex() or value.dtype == torch.bool:
            raise TypeError(f"{name} must be an int64 tensor of shape {shape}, "
                            f"got dtype {value.dtype}")
        result = value.to(torch.int64)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        result = torch.as_tensor(int_list(name, value), dtype=torch.int64)
    else:
        raise TypeError(f"{name} must be an int64 tensor of shape {shape}, "
                        f"got {type(value).__name__}")
    if result.dim() != 1:
        raise ValueError(f"{name} must have shape {shape}, got {tuple(result.shape)}")
    if result.numel() and (int(result.min()) < 0 or int(result.max()) >= size):
        bad = int(result.min()) if int(result.min()) < 0 else int(result.max())
        raise IndexError(f"{name} must hold row indices in 0..{size - 1}, got {bad}")
    return result


def int_list(name: str, value: object) -> list[int]:
    """A list of Python ints from a sequence of ints or a 1-d integer tensor."""
    if isinstance(value, torch.Tensor):
        if value.dim() != 1 or value.is_floating_point() or value.dtype == torch.bool:
            raise TypeError(f"{name} must be a list of ints, got a {value.dtype} tensor of "
                            f"shape {tuple(value.shape)}")
        return [int(v) for v in value.tolist()]
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"{name} must be a list of ints, got {type(value).__name__}")
    out: list[int] = []
    for i, v in enumerate(value):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise TypeError(f"{name}[{i}] must be an int, got {type(v).__name__}")
        out.append(int(v))
    return out


def str_list(name: str, value: object) -> list[str]:
    """A list of str from any sequence of str (a single str is refused)."""
    if isinstance(value, str):
        raise TypeError(f"{name} must be a list of str, got a single str")
    if not isinstance(value, Sequence):
        raise TypeError(f"{name} must be a list of str, got {type(value).__name__}")
    out = list(value)
    for i, v in enumerate(out):
        if not isinstance(v, str):
            raise TypeError(f"{name}[{i}] must be a str, got {type(v).__name__}")
    return out


def word_to_index(name: str, value: object) -> dict[str, int]:
    """A dict str -> int that is a bijection onto 0..V-1."""
    if not isinstance(value, dict):
        raise TypeError(f"{name} must be a dict str -> int, got {type(value).__name__}")
    if sorted(value.values()) != list(range(len(value))):
        raise ValueError(f"{name} must map its {len(value)} words onto the indices "
                         f"0..{len(value) - 1}, each used once")
    return value


def number_or_inf(name: str, value: object) -> float:
    """A real number (NaN and infinities allowed) from a Python or NumPy number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a tensor or a real number, got {type(value).__name__}")
    return float(value)
