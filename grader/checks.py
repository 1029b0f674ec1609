"""Comparison helpers for checks: the ``expect`` fixture.

Every comparison runs here, in the trusted process, on values rebuilt from plain data. The
order is always: type, shape, dtype kind, finiteness, then values within
``|got - expected| <= atol + rtol * |expected|`` (the test ``torch.testing.assert_close``
applies). NaN, infinities, broadcasting, empty arrays and objects claiming equality therefore
never pass. A failure says which function, on what input, expected vs got, the tolerance and,
where :mod:`grader.diagnose` can tell, the likely mistake. Hidden checks never show inputs or
expected values, only shapes and error magnitudes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

import numpy as np

from grader.assignment import Assignment, CheckSpec
from grader.diagnose import Evidence, Hint, Variant, diagnose, with_hint
from grader.redact import hidden_text, safe, visible_text
from grader.results import Plot, Series
from grader.sandbox.inside.protocol import Array, Opaque
from grader.student import RemoteObject

SCALAR_KINDS = ("tensor", "ndarray", "npscalar")


def tensor(values: Any, dtype: str = "float32") -> Array:
    """An argument the worker receives as a ``torch.Tensor`` (of ``dtype``), built without
    torch: a check that sends tensors this way lets the trusted process skip importing torch
    (about 1.6 s of CPU and 200 MiB per grading process)."""
    arr = np.array(values, dtype=dtype)
    arr.flags.writeable = False
    return Array("tensor", dtype, arr)


class CheckFailure(AssertionError):
    """A check's verdict: the student's value is wrong, with a message for each visibility."""

    def __init__(self, message: str, hidden_message: str | None = None,
                 hint: Hint | None = None) -> None:
        # ``message`` is for visible checks (figures marked safe for hidden ones lose their
        # marks); ``hidden_message`` keeps them for the filter (:mod:`grader.redact`).
        self.message = visible_text(message)
        self.hidden_message = hidden_message or message
        super().__init__(with_hint(self.message, hint))
        self.hint = hint

    def message_for(self, visible: bool) -> str:
        """The message and its hint (hints name a mistake, never an input or an answer); a
        hidden check's goes through the filter (:func:`grader.redact.hidden_text`)."""
        return with_hint(self.message if visible else hidden_text(self.hidden_message),
                         self.hint)


def describe(value: Any) -> str:
    """A short, safe description of a decoded value's type."""
    if isinstance(value, Array):
        return value.describe()
    if isinstance(value, Opaque):
        return f"an object of type {value.type_name}"
    if isinstance(value, RemoteObject):
        return f"an object of type {value.handle.type_name}"
    if value is None:
        return "None"
    return f"a {type(value).__name__}"


def fmt(x: float) -> str:
    return f"{x:.6g}"


def show(values: np.ndarray[Any, Any], limit: int = 8) -> str:
    flat = np.asarray(values, dtype=np.float64).ravel()
    text = ", ".join(fmt(v) for v in flat[:limit])
    if flat.size > limit:
        text += ", ..."
    return f"[{text}]" if np.ndim(values) else fmt(float(flat[0]))


def signature(function: str, visible: bool, **args: Any) -> str:
    """``mse(y_hat (5,), y (5,))``; small public inputs show their values too."""
    parts = []
    for name, value in args.items():
        arr = _as_numeric(value)
        if arr is None:
            parts.append(f"{name}={value!r}" if visible and len(repr(value)) < 60 else name)
        elif arr.ndim == 0:
            parts.append(f"{name}={fmt(float(arr))}" if visible else name)
        elif visible and arr.size <= 6:
            parts.append(f"{name}={show(arr)}")
        else:
            parts.append(f"{name} {tuple(arr.shape)}")
    return f"{function}({', '.join(parts)})"


def _as_numeric(value: Any) -> np.ndarray[Any, Any] | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return np.asarray(float(value))
        except OverflowError:
            return None
    if isinstance(value, Array):
        return value.values.astype(np.float64) if value.values.dtype.kind in "biuf" else None
    if hasattr(value, "detach"):
        return np.asarray(value.detach().cpu().numpy(), dtype=np.float64)
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value.astype(np.float64)
    return None


class Expect:
    """Assertions bound to one check: its function, tolerances and visibility."""

    def __init__(self, spec: CheckSpec, assignment: Assignment) -> None:
        self.spec = spec
        self.function = spec.function
        self.visible = spec.public
        self.assignment = assignment
        self.recorded_plot: Plot | None = None
        self.evidence: list[Evidence] = []
        """Comparisons of this check that passed (a hint must not contradict them)."""

    def plot(self, title: str, x_label: str, y_label: str,
             series: Mapping[str, Sequence[tuple[float, float]]]) -> None:
        """Attach a line plot to this check's result (shown whether it passes or not).

        ``series`` maps a legend label to its (x, y) points; non-finite points are dropped
        when the plot is drawn, not here, so the result keeps what was measured.
        """
        self.recorded_plot = Plot(title, x_label, y_label, tuple(
            Series(label, tuple(_float_or_nan(x) for x, _ in points),
                   tuple(_float_or_nan(y) for _, y in points))
            for label, points in series.items()))

    @staticmethod
    def safe(value: object) -> str:
        """``value`` as a figure a hidden check may show (an error size, a count): every other
        number in a hidden check's text is masked (:mod:`grader.redact`)."""
        return safe(value)

    def setting(self, key: str) -> Any:
        return self.assignment.setting(self.function, key)

    def sig(self, **args: Any) -> str:
        return signature(self.function, self.visible, **args)

    def fail(self, message: str, hidden_message: str | None = None, *,
             hint: Hint | None = None) -> NoReturn:
        raise CheckFailure(message, hidden_message, hint)

    def that(self, condition: bool, message: str, hidden_message: str | None = None, *,
             hint: Hint | None = None) -> None:
        if not condition:
            self.fail(message, hidden_message, hint=hint)

    # ---------------------------------------------------------------- shapes and types

    def kinds(self) -> tuple[str, ...]:
        """The array kinds this function may return: the rubric's ``kinds`` setting
        (``"tensor, ndarray"``), else a torch tensor only."""
        own = self.assignment.functions.get(self.function, {}).get(
            "kinds", self.assignment.defaults.get("kinds", "tensor"))
        return tuple(k.strip() for k in str(own).split(","))

    def array(self, got: Any, call: str, shape: Sequence[int] | None = None,
              kinds: Sequence[str] | None = None, floating: bool = True,
              nonfinite_hint: Hint | None = None) -> np.ndarray[Any, Any]:
        """Check type, shape, dtype kind and finiteness; return the values as float64.

        ``kinds``: what the student may return (``tensor``, ``ndarray``, ``npscalar``);
        default: :meth:`kinds`. ``nonfinite_hint``: what a nan or inf means here, when the
        check can tell better than the rubric's ``nonfinite_hint``.
        """
        kinds = self.kinds() if kinds is None else kinds
        if not isinstance(got, Array) or got.kind not in kinds:
            want = " or ".join(_KIND_NAMES[k] for k in kinds)
            self.fail(f"{call} returned {describe(got)}; expected {want}")
        if shape is not None and got.shape != tuple(shape):
            self.fail(f"{call} returned shape {got.shape}; expected shape {tuple(shape)}",
                      hint=_transposed_hint(got.shape, tuple(shape)))
        if floating and got.values.dtype.kind != "f":
            self.fail(f"{call} returned dtype {got.dtype}; expected a floating-point dtype "
                      "(float32)")
        # astype(float64) below would silently drop an imaginary part or read True as 1.0.
        not_real = _NOT_REAL.get(got.values.dtype.kind)
        if not_real:
            self.fail(f"{call} returned {describe(got)}; expected real numbers, not {not_real}")
        try:
            values = got.values.astype(np.float64)
        except (TypeError, ValueError, OverflowError):  # a dtype decode would never allow
            self.fail(f"{call} returned {describe(got)}; expected real numbers")
        if not np.isfinite(values).all():
            bad = int((~np.isfinite(values)).sum())
            self.fail(f"{call} returned {safe(bad)} non-finite value(s) (nan or inf) of "
                      f"{safe(values.size)}",
                      hint=nonfinite_hint or self._nonfinite_hint())
        return values

    def number(self, got: Any, call: str) -> float:
        """A Python number, a 0-d tensor or array, or a NumPy scalar, finite."""
        if isinstance(got, bool) or not isinstance(got, (int, float, Array)):
            self.fail(f"{call} returned {describe(got)}; expected a number (a float or a 0-d "
                      "tensor)")
        if isinstance(got, Array):
            return float(self.array(got, call, shape=(), kinds=SCALAR_KINDS, floating=False))
        try:  # decode keeps ints within ±2**63; a value from elsewhere may not be
            value = float(got)
        except (OverflowError, ValueError, TypeError):
            self.fail(f"{call} returned an integer too large to compare")
        if not np.isfinite(value):
            self.fail(f"{call} returned {value}", hint=self._nonfinite_hint())
        return value

    def sequence(self, got: Any, call: str, length: int, what: str = "a tuple",
                 unit: str = "items") -> Sequence[Any]:
        """A tuple or list of ``length`` items (either is accepted; ``what`` and ``unit`` are
        how the message names what the handout asks for: "a list" of 60 "floats")."""
        if not isinstance(got, (tuple, list)) or len(got) != length:
            n = f" of {safe(len(got))} items" if isinstance(got, (tuple, list)) else ""
            self.fail(f"{call} returned {describe(got)}{n}; expected {what} of {safe(length)} "
                      f"{unit}")
        return got

    def module(self, got: Any, call: str) -> RemoteObject:
        """A torch.nn.Module instance (it stays in the worker)."""
        if not isinstance(got, RemoteObject) or not got.handle.is_module:
            self.fail(f"{call} returned {describe(got)}; expected a torch.nn.Module")
        return got

    def _nonfinite_hint(self) -> Hint | None:
        hint = self.assignment.functions.get(self.function, {}).get("nonfinite_hint")
        return Hint("non-finite", str(hint)) if hint else None

    # ---------------------------------------------------------------- values

    def close(self, got: Any, expected: Any, call: str, *, shape: Sequence[int] | None = None,
              kinds: Sequence[str] | None = None, n: int | None = None,
              rtol: float | None = None, atol: float | None = None,
              variants: Sequence[Variant] = (), nonfinite_hint: Hint | None = None) -> None:
        """An array/tensor result equal to ``expected`` within the function's tolerance.

        ``variants`` are the answers known mistakes would give, for the hint on failure.
        """
        exp = np.asarray(expected, dtype=np.float64)
        vals = self.array(got, call, shape=exp.shape if shape is None else shape, kinds=kinds,
                          nonfinite_hint=nonfinite_hint)
        self._compare(vals, exp, call, n, rtol, atol, variants)

    def scalar(self, got: Any, expected: float, call: str, *, n: int | None = None,
               rtol: float | None = None, atol: float | None = None,
               variants: Sequence[Variant] = ()) -> None:
        """A number result equal to ``expected`` within the function's tolerance."""
        value = self.number(got, call)
        self._compare(np.asarray(value), np.asarray(float(expected)), call, n, rtol, atol,
                      variants)

    def numbers(self, got: Any, expected: Sequence[float], call: str, labels: Sequence[str],
                *, n: int | None = None, rtol: float | None = None,
                atol: float | None = None, variants: Sequence[Variant] = ()) -> None:
        """A tuple of numbers, each checked (and named) in turn.

        A variant's value is the whole tuple a mistake would give; its hint is offered when
        the student's tuple fits it.
        """
        if isinstance(got, Array) and got.shape == (len(expected),):
            # an array-like of the numbers (np.array([dm, dc])) where a tuple was asked for
            values = list(self.array(got, call, kinds=SCALAR_KINDS))
        else:
            items = self.sequence(got, call, len(expected))
            values = [self.number(item, f"{call}[{i}] ({labels[i]})")
                      for i, item in enumerate(items)]
        # a mistake shows best in the whole tuple (both gradients flipped, say)
        hint = diagnose(np.asarray(values), np.asarray(expected, dtype=np.float64), n=n,
                        variants=variants, evidence=self.evidence)
        for i, (value, exp) in enumerate(zip(values, expected, strict=True)):
            self._compare(np.asarray(value), np.asarray(float(exp)),
                          f"{call} -> {labels[i]}", n, rtol, atol, hint=hint, record=False)
        # evidence is the whole tuple: one right item says nothing about another's mistake
        self.evidence.append(Evidence(np.asarray(values), np.asarray(expected, dtype=np.float64),
                                      n))

    def _compare(self, got: np.ndarray[Any, Any], exp: np.ndarray[Any, Any], call: str,
                 n: int | None, rtol: float | None, atol: float | None,
                 variants: Sequence[Variant] = (), hint: Hint | None = None,
                 record: bool = True) -> None:
        rtol = float(self.setting("rtol") if rtol is None else rtol)
        atol = float(self.setting("atol") if atol is None else atol)
        diff = np.abs(got - exp)
        allowed = atol + rtol * np.abs(exp)
        bad = diff > allowed
        if not bad.any():
            if record:
                self.evidence.append(Evidence(got, exp, n))
            return
        worst = np.unravel_index(int(np.argmax(diff - allowed)), diff.shape) if diff.ndim else ()
        tol = f"(rtol {rtol:g}, atol {atol:g})"
        hint = hint or diagnose(got, exp, n=n, variants=variants, evidence=self.evidence)
        if got.ndim == 0:
            public = (f"{call} returned {fmt(float(got))}, expected {fmt(float(exp))}: "
                      f"|diff| {fmt(float(diff))} > atol + rtol·|expected| = "
                      f"{fmt(float(allowed))} {tol}.")
        else:
            at = [int(i) for i in worst]  # plain ints: NumPy 2 reprs np.int64(1)
            public = (f"{call}: {int(bad.sum())} of {bad.size} values differ from the expected "
                      f"ones; largest |diff| {fmt(float(diff[worst]))} at {at} (got "
                      f"{fmt(float(got[worst]))}, expected {fmt(float(exp[worst]))}) exceeds "
                      f"atol + rtol·|expected| {tol}.\n  got:      {show(got)}\n  expected: "
                      f"{show(exp)}.")
        rel = float((diff / np.maximum(np.abs(exp), 1e-12)).max())
        hidden = (f"{call}: {safe(int(bad.sum()))} of {safe(bad.size)} value(s) outside the "
                  f"tolerance {safe(tol)}; largest |diff| {safe(fmt(float(diff.max())))}, "
                  f"largest relative error {safe(fmt(rel))}.")
        self.fail(public, hidden, hint=hint)


_NOT_REAL: Mapping[str, str] = {
    "b": "bools (True/False)",
    "c": "complex numbers",
}

_KIND_NAMES: Mapping[str, str] = {
    "tensor": "a torch.Tensor",
    "ndarray": "a NumPy array",
    "npscalar": "a NumPy scalar",
}


def _float_or_nan(value: Any) -> float:
    """A plot coordinate; a student's value that is no number (or too large) becomes NaN,
    which the plot drops."""
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return float("nan")


def _transposed_hint(got: tuple[int, ...], want: tuple[int, ...]) -> Hint | None:
    if len(got) == 2 and got == want[::-1] and got != want:
        return Hint("transposed", "the result is transposed (check the order of the outer "
                    "product)")
    return None
