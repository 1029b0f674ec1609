"""Argument checks shared by the reference: every error names the argument and the shape wanted."""

from __future__ import annotations

import math
import numbers

import torch


def tensor(name: str, value: object, ndim: int | tuple[int, ...], shape: str) -> torch.Tensor:
    """Return ``value`` if it is a floating tensor with ``ndim`` dimensions, else raise.

    ``shape`` is the human description used in the message, e.g. ``"(N,)"`` or ``"(C, V)"``.
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


def same_shape(name_a: str, a: torch.Tensor, name_b: str, b: torch.Tensor) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape, "
                         f"got {tuple(a.shape)} and {tuple(b.shape)}")


def same_dtype(**named: torch.Tensor) -> None:
    dtypes = {name: value.dtype for name, value in named.items()}
    if len(set(dtypes.values())) > 1:
        listed = ", ".join(f"{name} {dtype}" for name, dtype in dtypes.items())
        raise TypeError(f"{', '.join(dtypes)} must share one dtype, got {listed}")


def nonempty(name: str, value: torch.Tensor, shape: str) -> None:
    if value.numel() == 0:
        raise ValueError(f"{name} must have shape {shape} with at least one element, "
                         f"got {tuple(value.shape)}")


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
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)
