"""The expect fixture's comparisons, on decoded values (no worker needed)."""

from __future__ import annotations

import json
import warnings
from typing import Any

import numpy as np
import pytest
import torch

from grader.assignment import Assignment, CheckSpec
from grader.checks import CheckFailure, Expect, describe, signature, tensor
from grader.redact import hidden_text
from grader.sandbox.inside import protocol
from grader.sandbox.inside.protocol import Handle, Opaque
from grader.student import RemoteObject


def wire(value: Any) -> Any:
    """A value as the trusted side receives it from a worker."""
    return protocol.decode(json.loads(json.dumps(protocol.encode(value))))


def make(a1: Assignment, function: str = "mse", visibility: str = "visible") -> Expect:
    spec = CheckSpec(f"{function}-t", function, 1.0, visibility, "test check", (function,))
    return Expect(spec, a1)


def failure(fn: Any, *args: Any, **kwargs: Any) -> CheckFailure:
    with pytest.raises(CheckFailure) as info:
        fn(*args, **kwargs)
    return info.value


# ---------------------------------------------------------------- types and shapes


def test_type_mismatch_message(a1):
    e = make(a1)
    err = failure(e.close, 1.5, [1.5], "mse(a, b)")
    assert err.message == "mse(a, b) returned a float; expected a torch.Tensor"
    assert err.hidden_message == err.message
    err = failure(e.close, wire(np.ones(2, np.float32)), np.ones(2), "f()")
    assert err.message == ("f() returned a NumPy array of shape (2,) and dtype float32; "
                           "expected a torch.Tensor")
    err = failure(e.close, None, [1.0], "f()", kinds=("tensor", "ndarray"))
    assert err.message == "f() returned None; expected a torch.Tensor or a NumPy array"


def test_matching_tensor_passes(a1):
    e = make(a1)
    e.close(wire(torch.tensor([1.0, 2.0, 3.0])), [1.0, 2.0, 3.0], "f()")
    e.close(wire(torch.tensor(2.0)), 2.0, "f()")
    e.close(wire(np.ones((2, 2))), np.ones((2, 2)), "f()", kinds=("ndarray",))
    assert isinstance(e.array(wire(torch.ones(3)), "f()"), np.ndarray)


def test_shape_is_checked_exactly_before_values(a1):
    e = make(a1)
    err = failure(e.close, wire(torch.tensor([2.0])), 2.0, "f()")
    assert err.message == "f() returned shape (1,); expected shape ()"
    err = failure(e.close, wire(torch.tensor(2.0)), [2.0], "f()")
    assert err.message == "f() returned shape (); expected shape (1,)"
    # A (1,) value would broadcast against (3,) and "pass" if the shape were not checked first.
    err = failure(e.close, wire(torch.tensor([2.0])), [2.0, 2.0, 2.0], "f()")
    assert err.message == "f() returned shape (1,); expected shape (3,)"
    err = failure(e.scalar, wire(torch.tensor([2.0])), 2.0, "f()")
    assert err.message == "f() returned shape (1,); expected shape ()"
    # The shape check comes before the dtype and finiteness checks.
    err = failure(e.close, wire(torch.tensor([1, 2])), [1.0, 2.0, 3.0], "f()")
    assert "shape" in err.message and "dtype" not in err.message


def test_transposed_result_gets_a_hint(a1):
    e = make(a1)
    err = failure(e.close, wire(torch.zeros(3, 2)), np.zeros((2, 3)), "g()")
    assert str(err) == ("g() returned shape (3, 2); expected shape (2, 3). Likely mistake: "
                           "the result is transposed (check the order of the outer product).")


def test_explicit_shape_argument(a1):
    e = make(a1)
    e.array(wire(torch.zeros(2, 5)), "f()", shape=(2, 5))
    err = failure(e.array, wire(torch.zeros(2, 5)), "f()", shape=(5, 2))
    assert err.message.startswith("f() returned shape (2, 5); expected shape (5, 2)")


def test_empty_array_never_matches_non_empty(a1):
    e = make(a1)
    err = failure(e.close, wire(torch.zeros(0)), [1.0, 2.0], "f()")
    assert err.message == "f() returned shape (0,); expected shape (2,)"
    err = failure(e.scalar, wire(torch.zeros(0)), 1.0, "f()")
    assert err.message == "f() returned shape (0,); expected shape ()"


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.bool, torch.uint8])
def test_integer_dtype_rejected_for_float_results(a1, dtype):
    e = make(a1)
    err = failure(e.close, wire(torch.tensor([1, 0], dtype=dtype)), [1.0, 0.0], "f()")
    name = str(dtype).removeprefix("torch.")
    assert err.message == (f"f() returned dtype {name}; expected a floating-point dtype "
                           "(float32)")


def test_float64_and_bfloat16_are_floating(a1):
    e = make(a1)
    e.close(wire(torch.tensor([0.5], dtype=torch.float64)), [0.5], "f()")
    e.close(wire(torch.tensor([0.5], dtype=torch.bfloat16)), [0.5], "f()")


def test_nonfinite_rejected_with_rubric_hint(a1):
    e = make(a1, "softmax")
    got = wire(torch.tensor([float("nan"), 0.5, float("inf")]))
    err = failure(e.close, got, [0.0, 0.5, 0.5], "softmax(x (3,))")
    assert str(err) == (
        "softmax(x (3,)) returned 2 non-finite value(s) (nan or inf) of 3. Likely mistake: "
        "exp overflows for large logits: subtract each row's maximum before exponentiating.")
    # A function without a hint: no "Likely mistake".
    err = failure(make(a1, "mse").scalar, float("nan"), 1.0, "mse(a, b)")
    assert str(err) == "mse(a, b) returned nan"
    err = failure(make(a1, "cross_entropy").scalar, wire(torch.tensor(float("-inf"))), 1.0,
                  "ce()")
    assert "non-finite" in str(err) and "log(0) is -inf" in str(err)


def test_nan_never_passes_even_against_nan(a1):
    e = make(a1)
    with pytest.raises(CheckFailure):
        e.close(wire(torch.tensor([float("nan")])), [float("nan")], "f()")


class AlwaysEqual:
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = object.__hash__

    def __float__(self) -> float:
        return 1521.0


def test_opaque_always_equal_objects_fail(a1):
    e = make(a1)
    got = wire(AlwaysEqual())
    assert isinstance(got, Opaque) and got.type_name == "AlwaysEqual"
    err = failure(e.close, got, [1.0], "f()")
    assert err.message == "f() returned an object of type AlwaysEqual; expected a torch.Tensor"
    err = failure(e.scalar, got, 1521.0, "mse(a, b)")
    assert err.message == ("mse(a, b) returned an object of type AlwaysEqual; expected a number "
                           "(a float or a 0-d tensor)")


def test_bool_is_not_a_number(a1):
    e = make(a1)
    for value in (True, False):
        err = failure(e.scalar, value, float(value), "f()")
        assert err.message == "f() returned a bool; expected a number (a float or a 0-d tensor)"
    err = failure(e.scalar, "1.0", 1.0, "f()")
    assert err.message.startswith("f() returned a str; expected a number")


def test_numbers_accepted_by_number(a1):
    e = make(a1)
    assert e.number(3, "f()") == 3.0
    assert e.number(2.5, "f()") == 2.5
    assert e.number(wire(torch.tensor(2.5)), "f()") == 2.5
    assert e.number(wire(np.float32(2.5)), "f()") == 2.5
    assert e.number(wire(np.array(4, dtype=np.int64)), "f()") == 4.0


def test_complex_scalar_is_not_a_number(a1):
    e = make(a1)
    got = wire(torch.tensor(1521 + 100j, dtype=torch.complex64))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # as in grader/pytest-grading.ini
        try:
            e.scalar(got, 1521.0, "mse(a, b)")
        except CheckFailure as err:
            assert err.message == ("mse(a, b) returned a tensor of shape () and dtype "
                                   "complex64; expected real numbers, not complex numbers")
            return
    raise AssertionError("a complex value with a non-zero imaginary part passed as 1521")


def test_complex_numpy_scalar_is_not_a_number(a1):
    e = make(a1)
    err = failure(e.number, wire(np.complex128(2.0)), "f()")
    assert err.message.endswith("expected real numbers, not complex numbers")


def test_bool_tensor_is_not_a_number(a1):
    e = make(a1)
    try:
        e.scalar(wire(torch.tensor(True)), 1.0, "f()")
    except CheckFailure as err:
        assert err.message == ("f() returned a tensor of shape () and dtype bool; expected "
                               "real numbers, not bools (True/False)")
        return
    raise AssertionError("a 0-d bool tensor passed as the number 1.0")


def test_complex_rejected_for_float_results(a1):
    e = make(a1)
    err = failure(e.close, wire(torch.tensor([1 + 0j])), [1.0], "f()")
    assert err.message == "f() returned dtype complex64; expected a floating-point dtype (float32)"


def test_sequence_and_module(a1):
    e = make(a1)
    assert e.sequence(wire((1.0, 2.0)), "f()", 2) == (1.0, 2.0)
    err = failure(e.sequence, wire((1.0, 2.0, 3.0)), "f()", 2)
    assert err.message == "f() returned a tuple of 3 items; expected a tuple of 2 items"
    err = failure(e.sequence, 1.0, "f()", 2)
    assert err.message == "f() returned a float; expected a tuple of 2 items"
    model = RemoteObject(Handle(1, "Net", True, ((2, 3),)), "make", 1)
    assert e.module(model, "make()") is model
    not_module = RemoteObject(Handle(1, "Thing", False, ()), "make", 1)
    err = failure(e.module, not_module, "make()")
    assert err.message == "make() returned an object of type Thing; expected a torch.nn.Module"
    assert describe(model) == "an object of type Net"


# ---------------------------------------------------------------- values and messages


def test_scalar_message_format(a1):
    e = make(a1)
    err = failure(e.scalar, wire(torch.tensor(3042.0)), 1521.0, "mse(y_hat, y)")
    assert str(err) == (
        "mse(y_hat, y) returned 3042, expected 1521: |diff| 1521 > atol + rtol·|expected| = "
        "0.15211 (rtol 0.0001, atol 1e-05). Likely mistake: every value is twice the expected "
        "one: an extra factor 2.")
    for part in ("returned 3042, expected 1521", "|diff|", "rtol", "atol"):
        assert part in str(err)


def test_array_message_shows_worst_value(a1):
    e = make(a1)
    got = wire(torch.tensor([[1.0, 2.0], [3.0, 5.0]]))
    err = failure(e.close, got, [[1.0, 2.0], [3.0, 4.0]], "f(x (2, 2))")
    assert err.message.startswith(
        "f(x (2, 2)): 1 of 4 values differ from the expected ones; largest |diff| 1 at ")
    assert ("(got 5, expected 4) exceeds atol + rtol·|expected| (rtol 0.0001, atol 1e-05)."
            in err.message)
    assert "got:      [1, 2, 3, 5]" in err.message
    assert "expected: [1, 2, 3, 4]" in err.message
    assert err.message_for(False).startswith("f(x (2, 2)): 1 of 4 value(s) outside the tolerance")
    long = failure(e.close, wire(torch.arange(10.0)), np.arange(10.0) + 1, "f()")
    assert "got:      [0, 1, 2, 3, 4, 5, 6, 7, ...]" in long.message


def test_array_message_index_is_plain(a1):
    e = make(a1)
    got = wire(torch.tensor([[1.0, 2.0], [3.0, 5.0]]))
    err = failure(e.close, got, [[1.0, 2.0], [3.0, 4.0]], "f(x (2, 2))")
    assert "largest |diff| 1 at [1, 1] (got 5, expected 4)" in err.message, err.message


def test_diagnosis_uses_n(a1):
    e = make(a1)
    exp = np.array([1.0, -2.0, 0.5])
    err = failure(e.close, wire(torch.tensor(exp * 4, dtype=torch.float32)), exp, "f()", n=4)
    assert "Likely mistake: every value is N = 4 times too large" in str(err)
    assert "N = 4" in err.message_for(False)


def test_per_function_tolerance_is_used(a1):
    # mse_gradients: atol 1e-3 in the rubric; mse: atol 1e-5.
    make(a1, "mse_gradients").scalar(5e-4, 0.0, "g()")
    err = failure(make(a1, "mse").scalar, 5e-4, 0.0, "f()")
    assert "(rtol 0.0001, atol 1e-05)" in err.message
    # Explicit tolerances override the rubric.
    make(a1, "mse").scalar(1.05, 1.0, "f()", rtol=0.1)


def test_tolerance_boundary_with_rubric_defaults(a1):
    e = make(a1)  # mse: rtol 1e-4, atol 1e-5
    e.scalar(1e-5, 0.0, "f()")
    e.scalar(-1e-5, 0.0, "f()")
    with pytest.raises(CheckFailure):
        e.scalar(float(np.nextafter(1e-5, 1.0)), 0.0, "f()")


def test_tolerance_boundary_exact(a1):
    e = make(a1)
    rtol, atol, expected = 2.0**-10, 2.0**-12, 2.0
    allowed = atol + rtol * abs(expected)  # exactly representable
    edge = expected + allowed
    e.scalar(edge, expected, "f()", rtol=rtol, atol=atol)
    e.scalar(expected - allowed, expected, "f()", rtol=rtol, atol=atol)
    with pytest.raises(CheckFailure):
        e.scalar(float(np.nextafter(edge, 10.0)), expected, "f()", rtol=rtol, atol=atol)
    with pytest.raises(CheckFailure):
        e.scalar(float(np.nextafter(expected - allowed, 0.0)), expected, "f()", rtol=rtol,
                 atol=atol)
    # Element-wise for arrays: each element against its own expected value.
    exp = np.array([2.0, -4.0])
    ok = exp + np.array([allowed, -(atol + rtol * 4.0)])
    e.close(wire(torch.tensor(ok, dtype=torch.float64)), exp, "f()", rtol=rtol, atol=atol)
    bad = ok.copy()
    bad[1] = np.nextafter(bad[1], -10.0)
    err = failure(e.close, wire(torch.tensor(bad, dtype=torch.float64)), exp, "f()", rtol=rtol,
                  atol=atol)
    assert "1 of 2 values differ" in err.message and "(got -4.00415, expected -4)" in err.message


def test_numbers_names_the_label(a1):
    e = make(a1, "mse_gradients")
    got = wire((torch.tensor(-4680.0), torch.tensor(-39.0)))
    err = failure(e.numbers, got, [-4680.0, -78.0], "mse_gradients(m=2, b=1)",
                  ["dL/dm", "dL/db"])
    assert str(err).startswith("mse_gradients(m=2, b=1) -> dL/db returned -39, expected -78")
    assert "half the expected one" in str(err)
    err = failure(e.numbers, wire(("x", 1.0)), [1.0, 1.0], "mse_gradients()", ["dL/dm", "dL/db"])
    assert str(err).startswith("mse_gradients()[0] (dL/dm) returned a str; expected a number")
    err = failure(e.numbers, wire((1.0,)), [1.0, 1.0], "mse_gradients()", ["dL/dm", "dL/db"])
    assert str(err) == ("mse_gradients() returned a tuple of 1 items; expected a tuple of 2 "
                           "items")
    e.numbers(wire([torch.tensor(-4680.0), -78.0]), [-4680.0, -78.0], "g()", ["dL/dm", "dL/db"])


# ---------------------------------------------------------------- visibility


def test_signature_public_and_hidden():
    x = torch.tensor([9.8765, 4.321])
    big = torch.zeros(4, 5)
    assert signature("mse", True, y_hat=x, y=big, lr=0.5, name="abc") == (
        "mse(y_hat=[9.8765, 4.321], y (4, 5), lr=0.5, name='abc')")
    assert signature("mse", False, y_hat=x, y=big, lr=0.5, name="abc") == (
        "mse(y_hat (2,), y (4, 5), lr, name)")


def test_a_tensor_built_without_torch_shows_as_a_torch_tensor_would():
    x, big = tensor([9.8765, 4.321]), tensor(np.zeros((4, 5)))
    assert signature("mse", True, y_hat=x, y=big, lr=0.5) == (
        "mse(y_hat=[9.8765, 4.321], y (4, 5), lr=0.5)")
    assert signature("mse", False, y_hat=x, y=big) == "mse(y_hat (2,), y (4, 5))"


def test_tensor_is_a_read_only_float32_array_the_worker_turns_into_a_tensor():
    x = tensor([[1, 2], [3, 4]])
    assert (x.kind, x.dtype, x.shape, x.values.dtype) == ("tensor", "float32", (2, 2),
                                                          np.float32)
    with pytest.raises(ValueError):
        x.values[0, 0] = 5.0
    node = protocol.encode(x)
    assert (node["kind"], node["wire"], node["shape"]) == ("tensor", "float32", [2, 2])
    assert protocol.decode(json.loads(json.dumps(node))).values.tolist() == [[1, 2], [3, 4]]
    assert tensor([1, 2], dtype="int64").values.dtype == np.int64


def test_hidden_message_reveals_neither_expected_nor_inputs(a1):
    public, hidden = make(a1, "softmax", "visible"), make(a1, "softmax", "hidden")
    x = torch.tensor([9.8765, 4.321])
    expected = np.array([1.2345, 6.789])
    got = wire(torch.tensor([0.5, 0.25]))
    shown = failure(public.close, got, expected, public.sig(x=x))
    hid = failure(hidden.close, got, expected, hidden.sig(x=x))
    secrets = ["1.2345", "6.789", "9.8765", "4.321"]
    assert all(s in shown.message for s in secrets)
    text = hid.message_for(visible=False)
    assert text == hidden_text(hid.hidden_message)
    assert text.startswith("softmax(x (2,)): 2 of 2 value(s) outside the tolerance "
                           "(rtol 0.0001, atol 1e-05); largest |diff| 6.539, largest relative "
                           "error")
    for s in secrets:
        assert s not in text
    # The hidden message of a scalar check hides the expected value as well.
    hs = failure(hidden.scalar, 2.0, 1521.0, hidden.sig(y=torch.tensor(3.25)))
    assert "1521" not in hs.message_for(False) and "3.25" not in hs.message_for(False)
    assert "softmax(y)" in hs.message_for(False)


# ---------------------------------------------------------------- the rubric's kinds, array-likes


def test_the_rubric_may_let_a_function_return_numpy_arrays(a1):
    import dataclasses

    functions = {**a1.functions, "softmax": {"kinds": "tensor, ndarray"}}
    e = make(dataclasses.replace(a1, functions=functions), "softmax")
    assert e.kinds() == ("tensor", "ndarray")
    e.close(wire(np.ones(2, np.float32) / 2), [0.5, 0.5], "softmax(z)")
    err = failure(e.close, wire([0.5, 0.5]), [0.5, 0.5], "softmax(z)")
    assert err.message.endswith("expected a torch.Tensor or a NumPy array")
    assert make(a1, "mse").kinds() == ("tensor",)


def test_numbers_accept_an_array_of_them_where_a_tuple_was_asked_for(a1):
    e = make(a1, "mse_gradients")
    for got in (np.array([-4680.0, -78.0]), torch.tensor([-4680.0, -78.0])):
        e.numbers(wire(got), (-4680.0, -78.0), "mse_gradients(...)", ("dL/dm", "dL/dc"))
    err = failure(e.numbers, wire(np.array([4680.0, 78.0])), (-4680.0, -78.0),
                  "mse_gradients(...)", ("dL/dm", "dL/dc"))
    assert err.hint is not None and err.hint.bug_class == "sign-flipped"


# ---------------------------------------------------------------- robust conversions


@pytest.mark.parametrize("value", [10**400, -(10**400), 2**1024])
def test_an_integer_too_large_for_a_float_fails_the_check_not_the_grader(a1, value):
    e = make(a1)
    err = failure(e.number, value, "mse(a, b)")
    assert "returned an integer too large to compare" in err.message
    err = failure(e.scalar, value, 1.0, "mse(a, b)")
    assert "too large" in err.message
    err = failure(e.numbers, (value, 1.0), (1.0, 1.0), "f()", ("dm", "dc"))
    assert "too large" in err.message


def test_an_array_of_a_dtype_decode_never_allows_fails_the_check(a1):
    e = make(a1)
    strange = protocol.Array("tensor", "float32", np.array(["a", "b"]))
    err = failure(e.close, strange, [1.0, 2.0], "f()", kinds=("tensor",), shape=(2,))
    assert "expected a floating-point dtype" in err.message or "real numbers" in err.message
    err = failure(e.array, strange, "f()", floating=False)
    assert "expected real numbers" in err.message


def test_plot_points_that_are_no_numbers_become_nan(a1):
    e = make(a1)
    e.plot("loss", "epoch", "loss", {"yours": [(0, 10**400), (1, "x"), (2, 0.5)]})
    assert e.recorded_plot is not None
    ys = e.recorded_plot.series[0].y
    assert np.isnan(ys[0]) and np.isnan(ys[1]) and ys[2] == 0.5


def test_signature_of_a_huge_int_argument_does_not_raise():
    assert signature("f", True, n=10**400).startswith("f(")
