"""Fixtures shared by Assignment 2's checks (the grader provides student, expect, rng, ...).

Public checks use only these, torch, NumPy and the handout's formulas (never the reference), so
they can ship to students. Checks are loaded by path, so they share code through the
``helpers`` fixture rather than by importing this module.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch

from grader import Array, Expect, Hint, Opaque, RemoteObject, StudentProxy, Variant

DATA = Path(__file__).resolve().parents[1] / "data" / "corpus.txt"
TOKEN = re.compile(r"[a-z0-9']+")

GROUPS: dict[str, list[str]] = {
    "fruits": ["apple", "mango", "pear", "plum", "peach"],
    "tools": ["hammer", "saw", "drill", "chisel", "wrench"],
    "colours": ["red", "blue", "green", "yellow", "purple"],
    "weekdays": ["monday", "tuesday", "wednesday", "thursday", "friday"],
    "animals": ["horse", "goat", "sheep", "cow", "donkey"],
    "instruments": ["violin", "cello", "flute", "trumpet", "harp"],
}
"""The corpus's planted word groups (data/README.md): each group's words fill the same slots of
the same sentence templates, so word2vec should put them next to each other. (The reference's
GROUPS, repeated because public checks cannot import it; tests/assignments/a2/test_a2_golden.py
keeps the two equal.)"""

TINY_LINES = 12
"""How many of the corpus's first lines make the small token stream of the procedure checks."""


# ---------------------------------------------------------------- data


@pytest.fixture(scope="session")
def corpus_tokens() -> list[str]:
    """The bundled corpus as one token stream (the handout's tokenizer over the whole file)."""
    return TOKEN.findall(DATA.read_text(encoding="utf-8").lower())


@pytest.fixture(scope="session")
def corpus_text() -> str:
    """The bundled corpus as it is on disk."""
    return DATA.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def tiny_tokens() -> list[str]:
    """The first lines of the corpus: a stream small enough to train on in milliseconds."""
    lines = DATA.read_text(encoding="utf-8").splitlines()[:TINY_LINES]
    return TOKEN.findall(" ".join(lines).lower())


def vocab_by_count(tokens: Sequence[str], min_count: int = 1) -> dict[str, int]:
    """The handout's vocabulary: descending count, ties alphabetical."""
    counts: dict[str, int] = {}
    for t in tokens:
        counts[t] = counts.get(t, 0) + 1
    words = sorted((w for w, n in counts.items() if n >= min_count), key=lambda w: (-counts[w], w))
    return {w: i for i, w in enumerate(words)}


# ---------------------------------------------------------------- hints

HINTS: dict[str, Hint] = {h.bug_class: h for h in (
    # sigmoid
    Hint("softmax-not-sigmoid", "this is a softmax over the whole tensor: the sigmoid is "
         "elementwise, sigma(x) = 1 / (1 + e^-x) for each entry on its own"),
    Hint("sigmoid-sign", "this is sigma(-x) = 1 - sigma(x): the sigmoid is 1 / (1 + e^-x)"),
    # tokenize
    Hint("not-lowercased", "the text is not lower-cased before matching: apply .lower() to the "
         "text, then re.findall(r\"[a-z0-9']+\", ...)"),
    Hint("wrong-token-pattern", "the tokens differ from re.findall(r\"[a-z0-9']+\", "
         "text.lower()): letters, digits and apostrophes make a token, anything else separates "
         "tokens"),
    # build_vocab
    Hint("ties-not-alphabetical", "words with the same count must be ordered alphabetically; "
         "Counter.most_common() keeps ties in first-seen order: sort by (-count, word)"),
    Hint("min-count-exclusive", "a word occurring exactly min_count times must be kept: the test "
         "is count >= min_count"),
    Hint("vocab-order", "the indices must follow descending count (the most frequent word gets "
         "0), ties alphabetical"),
    # skipgram_pairs
    Hint("centre-as-context", "the centre word is paired with itself: skip j == i, a word is not "
         "its own context"),
    Hint("window-off-by-one", "the window is off by one: pair position i with every j != i "
         "where |i - j| <= window (range(i - window, i + window + 1), clipped to the list)"),
    Hint("one-sided-window", "only the context on one side of the centre is paired: the window "
         "reaches window positions to the left and to the right"),
    Hint("empty-shape", "with no pairs the result must still have shape (0, 2): "
         "torch.tensor([]) has shape (0,); use torch.zeros((0, 2), dtype=torch.int64) or "
         ".reshape(-1, 2)"),
    Hint("pairs-order", "the rows must be ordered by the centre's position i, then the "
         "context's position j, with the centre in column 0 and the context in column 1"),
    # negative_distribution
    Hint("power-missing", "the counts are normalised without raising them to the power: "
         "counts ** power / (counts ** power).sum()"),
    Hint("power-ignored", "the result is the same for every power: use the power argument "
         "rather than a fixed 0.75"),
    Hint("not-normalised", "counts ** power must be divided by its sum, so that the "
         "distribution sums to 1"),
    # sgns_loss, SkipGram
    Hint("negatives-sign", "the negatives' term has the wrong sign: it is -log sigma(-u_k·v_c), "
         "the probability that the negative is *not* a context word"),
    Hint("positive-sign", "the context word's term has the wrong sign: it is -log sigma(+u_o·v_c)"),
    Hint("negatives-mean", "the negatives' terms are averaged: the loss sums them over the K "
         "negatives"),
    Hint("negatives-missing", "the negatives' terms are missing from the loss"),
    Hint("in-out-swapped", "the centre vectors are read from out_embed and the context vectors "
         "from in_embed: v_c comes from in_embed, u_o and u_k from out_embed"),
    # sgns_gradients
    Hint("gradient-wrong-vector", "a gradient uses the wrong vector: dL/du_o and dL/du_k are "
         "multiples of v_c, and dL/dv_c is a combination of u_o and the u_k"),
    Hint("gradient-sigma-minus-one", "the context word's coefficient is sigma(x_o) - 1 (the "
         "derivative of -log sigma(x) is sigma(x) - 1), not sigma(x_o) or 1 - sigma(x_o)"),
    Hint("gradient-negatives-sign", "the negatives' coefficient is +sigma(u_k·v_c) (the derivative "
         "of -log sigma(-x) is sigma(x)); its sign or its argument is wrong"),
    Hint("input-modified", "an argument is changed in place (x -= ..., x[i] = ..., "
         "x.pow_(...), list.append/sort): compute into a new tensor or list instead; only "
         "sgns_step updates its inputs"),
    # sgns_step
    Hint("duplicates-not-accumulated", "a row that appears more than once (a negative drawn "
         "twice, or the context word drawn as a negative) gets only one of its updates: "
         "W_out[rows] -= ... keeps one write per repeated index; use "
         "W_out.index_add_(0, rows, -lr * grads), which adds every contribution"),
    Hint("not-in-place", "the matrices passed in are unchanged: sgns_step must update W_in and "
         "W_out in place (W_in[centre] -= ..., W_out.index_add_(...)), not rebind or copy them"),
    Hint("loss-after-step", "the returned loss is the loss after the update; return the loss "
         "computed before the step"),
    Hint("stale-gradients", "some gradients are computed from rows that were already updated: "
         "compute all gradients from the old rows first, then update"),
    # training
    Hint("seed-ignored", "two different seeds give the same result: draw the initialisation, "
         "the shuffles and the negatives from a torch.Generator seeded with seed"),
    Hint("not-deterministic", "the same seed gives different results: every random draw must "
         "come from the torch.Generator seeded with seed (or follow torch.manual_seed(seed))"),
    Hint("init-range", "the initial centre vectors must be uniform in ±0.5/dim (and the "
         "context vectors zero)"),
    Hint("window-ignored", "with window=0 there are no pairs, so nothing may change; is the "
         "window argument passed on to skipgram_pairs?"),
    Hint("min-count-ignored", "words occurring fewer than min_count times must be left out of "
         "the vocabulary (and of the token stream before pairing)"),
    Hint("not-updated", "the embeddings are still at their initial values: the training never "
         "updates them"),
    Hint("diverges", "training diverges (the vectors become huge or non-finite): check the sign "
         "of each update"),
    Hint("default-init", "out_embed keeps nn.Embedding's default N(0, 1) initialisation: set it "
         "to zero (and in_embed uniform in ±0.5/dim) after torch.manual_seed(seed)"),
    # most_similar
    Hint("dot-not-cosine", "the neighbours are ranked by dot product: divide by both vectors' "
         "norms to get the cosine similarity"),
    Hint("query-not-excluded", "the word itself is among its neighbours: leave it out"),
    Hint("ascending-order", "the neighbours must come by descending cosine, the most similar "
         "first"),
    Hint("ties-order", "words with equal cosine must come in increasing index order (a stable "
         "sort of the indices)"),
)}


def hint(slug: str) -> Hint:
    return HINTS[slug]


def variant(slug: str, value: Any) -> Variant:
    return Variant(HINTS[slug], value)


def matching(got: Any, variants: Sequence[Variant]) -> Hint | None:
    """The hint of the first variant ``got`` equals (exact for ints, 1e-3 relative for floats)."""
    for v in variants:
        want = np.asarray(v.value)
        have = np.asarray(got)
        if have.shape != want.shape:
            continue
        if want.dtype.kind in "iub" and have.dtype.kind in "iub":
            if np.array_equal(have, want):
                return v.hint
        elif want.dtype.kind in "iubf" and have.dtype.kind in "iubf":
            scale = max(float(np.abs(want).max(initial=0.0)), 1e-12)
            if np.abs(have.astype(np.float64) - want).max(initial=0.0) <= 1e-3 * scale:
                return v.hint
        elif have.tolist() == want.tolist():
            return v.hint
    return None


# ---------------------------------------------------------------- reading results


def _nested(value: Any) -> Any:
    if isinstance(value, list):
        return "[" + ", ".join(_nested(v) for v in value) + "]"
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def sig(expect: Expect, **args: Any) -> str:
    """``expect.sig``, but small tensors of a public check keep their shape: ``U_neg=[[0, 1]]``.

    (expect.sig flattens them, which hides whether U_neg is (1, 2) or (2,).) Hidden checks
    show shapes only, as expect.sig does.
    """
    if not expect.visible:
        return expect.sig(**args)
    parts = []
    for name, value in args.items():
        if isinstance(value, torch.Tensor) and value.numel() <= 12:
            parts.append(f"{name}={_nested(value.tolist())}")
        elif isinstance(value, torch.Tensor):
            parts.append(f"{name} {tuple(value.shape)}")
        else:
            parts.append(f"{name}={value!r}")
    return f"{expect.function}({', '.join(parts)})"


def _same(before: Any, now: Any) -> bool:
    if isinstance(before, torch.Tensor):
        return isinstance(now, Array) and np.array_equal(now.values, before.numpy())
    if isinstance(before, (list, tuple)):
        return (isinstance(now, (list, tuple)) and len(now) == len(before)
                and all(_same(b, n) for b, n in zip(before, now, strict=True)))
    return bool(before == now)


class Pure:
    """``student``, except that every call also checks that its arguments come back unchanged.

    The handout's rule for every function but sgns_step: inputs are not modified. The grader
    sends the arguments back after each call anyway (``call_returning_args``), so this costs
    nothing; a modified argument fails the check with the input-modified hint.
    """

    def __init__(self, student: StudentProxy, expect: Expect) -> None:
        self._student = student
        self._expect = expect

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> Any:
            got, after = self._student.call_returning_args(name, *args, **kwargs)
            params = PARAMETERS.get(name, ())
            for i, (before, now) in enumerate(zip(args, after, strict=True)):
                which = params[i] if i < len(params) else f"#{i + 1}"
                self._expect.that(_same(before, now),
                                  f"{name} modified its argument {which} in place; compute "
                                  "into a new object instead (x = x - 1, not x -= 1)",
                                  hint=hint("input-modified"))
            return got

        return call


@pytest.fixture
def pure(student: StudentProxy, expect: Expect) -> Pure:
    """The submission, callable by name like ``student``, with its inputs checked unchanged."""
    return Pure(student, expect)


PARAMETERS: dict[str, tuple[str, ...]] = {
    "sigmoid": ("x",), "tokenize": ("text",), "build_vocab": ("tokens", "min_count"),
    "skipgram_pairs": ("ids", "window"), "train_word2vec": ("tokens",),
    "train_skipgram": ("tokens",),
    "negative_distribution": ("counts", "power"), "sgns_loss": ("v_c", "u_o", "U_neg"),
    "sgns_gradients": ("v_c", "u_o", "U_neg"), "most_similar": ("word", "word_to_index", "W", "k"),
}
"""The handout's parameter names, for messages."""


def kind_of(got: Any) -> str:
    """A short description of a decoded value's type, for messages."""
    if isinstance(got, Array):
        return got.describe()
    if isinstance(got, Opaque):
        return f"an object of type {got.type_name}"
    if isinstance(got, RemoteObject):
        return f"an object of type {got.handle.type_name}"
    if got is None:
        return "None"
    return f"a {type(got).__name__}"


def int_tensor(expect: Expect, got: Any, want: np.ndarray, call: str,
               variants: Sequence[Variant] = (), dtype: str = "int64") -> np.ndarray:
    """An integer tensor equal to ``want`` element for element, of dtype ``dtype``."""
    want = np.asarray(want, dtype=np.int64)
    if not isinstance(got, Array) or got.kind != "tensor":
        expect.fail(f"{call} returned {kind_of(got)}; expected an {dtype} torch.Tensor of "
                    f"shape {want.shape}")
    found = matching(got.values, variants) if got.values.dtype.kind in "iuf" else None
    if got.shape != want.shape:
        expect.fail(f"{call} returned shape {got.shape}; expected shape {want.shape}",
                    hint=found)
    if got.dtype != dtype:
        expect.fail(f"{call} returned dtype {got.dtype}; expected {dtype} (torch.{dtype})")
    if not np.array_equal(got.values, want):
        bad = np.argwhere(got.values != want)
        first = tuple(int(i) for i in bad[0])
        row = first[:1]
        expect.fail(f"{call}: {len(bad)} of {want.size} entries differ; the first at {list(row)}"
                    f": got {got.values[row].tolist()}, expected {want[row].tolist()}",
                    f"{call}: {len(bad)} of {want.size} entries differ from the expected ones "
                    f"(the first at index {list(row)})", hint=found)
    return got.values


def token_variants(text: str) -> list[Variant]:
    """What the usual mistakes in tokenize give for ``text``."""
    lower = text.lower()
    found = [variant("not-lowercased", TOKEN.findall(text)),
             variant("wrong-token-pattern", lower.split()),
             variant("wrong-token-pattern", re.findall(r"\w+", lower)),
             variant("wrong-token-pattern", re.findall(r"[a-z0-9]+", lower)),
             variant("wrong-token-pattern", re.findall(r"[a-z']+", lower))]
    right = TOKEN.findall(lower)
    return [v for v in found if list(v.value) != right]


def str_list(expect: Expect, got: Any, want: Sequence[str], call: str,
             variants: Sequence[Variant] = ()) -> list[str]:
    """A list of str equal to ``want``."""
    if not isinstance(got, (list, tuple)) or not all(isinstance(t, str) for t in got):
        expect.fail(f"{call} returned {kind_of(got)}; expected a list of str")
    got = list(got)
    if got == list(want):
        return got
    found = next((v.hint for v in variants if list(v.value) == got), None)
    pairs = enumerate(zip(got, want, strict=False))
    at = next((i for i, (a, b) in pairs if a != b), min(len(got), len(want)))
    shown_got = got[at] if at < len(got) else "(nothing: the list ends)"
    shown_want = want[at] if at < len(want) else "(nothing: the list should end)"
    count = (f"returned {len(got)} tokens, the right number" if len(got) == len(want) else
             f"returned {len(got)} tokens where there should be {len(want)}")
    expect.fail(f"{call} {count}; the first difference is at position {at}: got {shown_got!r}, "
                f"expected {shown_want!r}",
                f"{call} {count}; the first difference is at position {at}", hint=found)


def vocab(expect: Expect, got: Any, want: Mapping[str, int], call: str,
          variants: Sequence[Variant] = ()) -> dict[str, int]:
    """A dict word -> index equal to ``want`` (the same words at the same indices)."""
    if not isinstance(got, dict):
        expect.fail(f"{call} returned {kind_of(got)}; expected a dict word -> index")
    if got == dict(want):
        return got
    found = next((v.hint for v in variants if dict(v.value) == got), None)
    missing = sorted(set(want) - set(got), key=str)
    extra = sorted(map(str, set(got) - set(want)))
    if missing or extra:
        expect.fail(f"{call}: missing words {missing[:5]}, unexpected keys {extra[:5]}",
                    f"{call}: {len(missing)} word(s) missing, {len(extra)} unexpected key(s)",
                    hint=found)
    wrong = [w for w in want if got[w] != want[w]]
    order = sorted(want, key=lambda w: want[w])
    shown = ", ".join(f"{w!r}: {got[w]!r} (expected {want[w]})" for w in order if w in wrong)
    expect.fail(f"{call}: {len(wrong)} of {len(want)} words have the wrong index: {shown[:400]}",
                f"{call}: {len(wrong)} of {len(want)} words have the wrong index", hint=found)


def word_index(expect: Expect, got: Any, words: set[str], call: str,
               extra_hint: Hint | None = None) -> dict[str, int]:
    """A dict whose keys are exactly ``words``, mapped one-to-one onto 0..V-1.

    ``extra_hint`` is named when the only mistake is words that should not be there.
    """
    if not isinstance(got, dict):
        expect.fail(f"{call} returned {kind_of(got)} as word_to_index; expected a dict word -> "
                    "index")
    missing = sorted(words - set(got))
    extra = sorted(map(str, set(got) - words))
    expect.that(not missing and not extra,
                f"{call}: word_to_index is missing {len(missing)} word(s) {missing[:5]} and has "
                f"{len(extra)} unexpected key(s) {extra[:5]}",
                f"{call}: word_to_index is missing {len(missing)} word(s) and has {len(extra)} "
                "unexpected key(s)", hint=extra_hint if extra and not missing else None)
    indices = sorted(v for v in got.values() if type(v) is int)
    expect.that(indices == list(range(len(words))),
                f"{call}: the indices of word_to_index are not the ints 0..{len(words) - 1}, "
                "each used once")
    return got


# ---------------------------------------------------------------- the handout's formulas


def pairs_of(ids: Sequence[int], window: int, lo: int = 1, hi: int | None = None,
             both_sides: bool = True) -> np.ndarray:
    """The handout's pairs with offsets lo..hi (default: 1..window), for the variants too."""
    hi = window if hi is None else hi
    rows = [[ids[i], ids[j]] for i in range(len(ids)) for j in range(len(ids))
            if lo <= abs(i - j) <= hi and (both_sides or j > i)]
    return np.array(rows, dtype=np.int64).reshape(-1, 2)


def pair_variants(ids: Sequence[int], window: int) -> list[Variant]:
    return [variant("centre-as-context", pairs_of(ids, window, lo=0)),
            variant("window-off-by-one", pairs_of(ids, window, hi=window - 1)),
            variant("window-off-by-one", pairs_of(ids, window, hi=window + 1)),
            variant("one-sided-window", pairs_of(ids, window, both_sides=False)),
            variant("pairs-order", pairs_of(ids, window)[:, ::-1])]


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """log sigma(x) = -log(1 + e^-x), finite for any finite x (float64)."""
    return -np.logaddexp(0.0, -np.asarray(x, dtype=np.float64))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(log_sigmoid(x))


def loss_of(v: Any, u: Any, U: Any) -> float:
    """-log sigma(u·v) - sum_k log sigma(-u_k·v), in float64."""
    v, u, U = (np.asarray(a, dtype=np.float64) for a in (v, u, U))
    return float(-log_sigmoid(u @ v) - log_sigmoid(-(U.reshape(-1, v.size) @ v)).sum())


def loss_variants(v: Any, u: Any, U: Any) -> list[Variant]:
    """What the usual mistakes in sgns_loss give for one example."""
    v, u, U = (np.asarray(a, dtype=np.float64) for a in (v, u, U))
    x_o, x_k = u @ v, U.reshape(-1, v.size) @ v
    out = [variant("negatives-sign", -log_sigmoid(x_o) - log_sigmoid(x_k).sum()),
           variant("positive-sign", -log_sigmoid(-x_o) - log_sigmoid(-x_k).sum()),
           variant("negatives-missing", -log_sigmoid(x_o))]
    if x_k.size > 1:
        out.append(variant("negatives-mean", -log_sigmoid(x_o) - log_sigmoid(-x_k).mean()))
    return out


def gradient_variants(v: Any, u: Any, U: Any) -> tuple[list[Variant], ...]:
    """What the usual mistakes give for each of dL/dv_c, dL/du_o and dL/dU_neg."""
    v, u, U = (np.asarray(a, dtype=np.float64) for a in (v, u, U))
    U = U.reshape(-1, v.size)
    s_o, s_k = sigmoid(u @ v), sigmoid(U @ v)
    d_v = [variant("gradient-negatives-sign", (s_o - 1) * u - s_k @ U),
           variant("gradient-sigma-minus-one", s_o * u + s_k @ U),
           variant("gradient-sigma-minus-one", (1 - s_o) * u + s_k @ U)]
    d_u = [variant("gradient-wrong-vector", (s_o - 1) * u),
           variant("gradient-sigma-minus-one", s_o * v),
           variant("gradient-sigma-minus-one", (1 - s_o) * v)]
    d_U = [variant("gradient-wrong-vector", s_k[:, None] * U),
           variant("gradient-negatives-sign", np.outer(s_k - 1, v)),
           variant("gradient-negatives-sign", np.outer(1 - s_k, v))]
    return d_v, d_u, d_U


def autograd_step(W_in: torch.Tensor, W_out: torch.Tensor, centre: int, context: int,
                  negatives: Sequence[int], lr: float) -> tuple[float, np.ndarray, np.ndarray]:
    """(loss before, W_in after, W_out after) of one SGD step, by autograd on the whole matrices.

    Indexing the full matrices makes autograd add up the contributions of repeated rows, which
    is the handout's rule.
    """
    a = W_in.double().clone().requires_grad_()
    b = W_out.double().clone().requires_grad_()
    neg = torch.as_tensor(list(negatives), dtype=torch.int64)
    v, u, U = a[centre], b[context], b[neg]
    loss = -torch.nn.functional.logsigmoid(u @ v) - torch.nn.functional.logsigmoid(-(U @ v)).sum()
    loss.backward()
    assert a.grad is not None and b.grad is not None
    with torch.no_grad():
        return float(loss), (a - lr * a.grad).numpy(), (b - lr * b.grad).numpy()


def step_variants(W_in: torch.Tensor, W_out: torch.Tensor, centre: int, context: int,
                  negatives: Sequence[int], lr: float) -> list[Variant]:
    """W_out as the usual mistakes of sgns_step would leave it (for the hint)."""
    v = W_in[centre].double()
    out = W_out.double()
    neg = torch.as_tensor(list(negatives), dtype=torch.int64)
    rows = torch.cat([torch.tensor([context]), neg])
    g = torch.sigmoid(out[rows] @ v)
    g[0] -= 1.0
    grads = torch.outer(g, v)
    variants = []
    # W_out[rows] -= lr * grads: a repeated row keeps the last of its updates
    at_once = out.clone()
    at_once[rows] -= lr * grads
    # W_out[context] -= ...; then W_out[negatives] -= ...: repeated negatives keep one update
    separately = out.clone()
    separately[context] -= lr * grads[0]
    separately[neg] -= lr * grads[1:]
    right = out.clone().index_add_(0, rows, -lr * grads)
    for wrong in (at_once, separately):
        if not torch.allclose(wrong, right, rtol=1e-6, atol=1e-9):
            variants.append(variant("duplicates-not-accumulated", wrong.numpy()))
    # W_in[centre] updated first, then the W_out gradients taken at the new v_c
    d_v = g @ out[rows]
    stale = out.clone().index_add_(0, rows, -lr * torch.outer(g, v - lr * d_v))
    variants.append(variant("stale-gradients", stale.numpy()))
    return variants


def step_check(student: StudentProxy, expect: Expect, call: str, args: tuple[Any, ...],
               want: tuple[float, Any, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Run sgns_step(*args); check the loss it returns and both matrices after it.

    ``want`` is (loss before, W_in after, W_out after). Returns the matrices after the call.
    """
    W_in, W_out, centre, context, negatives, lr = args
    loss, new_in, new_out = want
    new_in, new_out = np.asarray(new_in, dtype=np.float64), np.asarray(new_out, dtype=np.float64)
    got, after = student.call_returning_args("sgns_step", *args)
    neg = np.asarray(negatives, dtype=np.int64)
    later = loss_of(new_in[centre], new_out[context], new_out[neg])
    expect.scalar(got, loss, f"{call} -> the loss it returns",
                  variants=[variant("loss-after-step", later)])
    shape = tuple(W_in.shape)
    mats = [expect.array(a, f"{call}: {name} after the call", shape=shape)
            for a, name in zip(after[:2], ("W_in", "W_out"), strict=True)]
    if np.array_equal(mats[0], W_in.numpy()) and np.array_equal(mats[1], W_out.numpy()):
        expect.fail(f"{call} left W_in and W_out as they were", hint=hint("not-in-place"))
    expect.close(after[0], new_in, f"{call}: W_in after the step")
    expect.close(after[1], new_out, f"{call}: W_out after the step",
                 variants=step_variants(W_in, W_out, centre, context, neg.tolist(), lr))
    return mats[0], mats[1]


def cosines(W: np.ndarray, i: int) -> np.ndarray:
    W = np.asarray(W, dtype=np.float64)
    norms = np.linalg.norm(W, axis=1)
    return (W @ W[i]) / (norms * norms[i])


def neighbours_of(word: str, w2i: Mapping[str, int], W: np.ndarray, k: int,
                  by: str = "cosine") -> list[tuple[str, float]]:
    """The handout's most_similar (by="dot" ranks by dot product: a known mistake)."""
    i = w2i[word]
    W = np.asarray(W, dtype=np.float64)
    score = cosines(W, i) if by == "cosine" else W @ W[i]
    order = sorted((j for j in range(len(W)) if j != i), key=lambda j: (-score[j], j))
    index_to_word = {j: w for w, j in w2i.items()}
    cos = cosines(W, i)
    return [(index_to_word[j], float(cos[j])) for j in order[:k]]


def similar_variants(word: str, w2i: Mapping[str, int], W: np.ndarray, k: int) -> list[Variant]:
    """The word lists that known mistakes in most_similar give."""
    i = w2i[word]
    cos = cosines(W, i)
    index_to_word = {j: w for w, j in w2i.items()}
    others = [j for j in range(len(W)) if j != i]
    n = min(k, len(W) - 1)
    with_self = sorted(range(len(W)), key=lambda j: (-cos[j], j))[:n]
    ascending = sorted(others, key=lambda j: (cos[j], j))[:n]
    by_dot = [w for w, _ in neighbours_of(word, w2i, W, n, by="dot")]
    unstable = sorted(others, key=lambda j: (-cos[j], -j))[:n]
    return [Variant(HINTS["dot-not-cosine"], by_dot),
            Variant(HINTS["query-not-excluded"], [index_to_word[j] for j in with_self]),
            Variant(HINTS["ascending-order"], [index_to_word[j] for j in ascending]),
            Variant(HINTS["ties-order"], [index_to_word[j] for j in unstable])]


def similar(expect: Expect, got: Any, want: Sequence[tuple[str, float]], call: str,
            variants: Sequence[Variant] = ()) -> None:
    """A list of (word, cosine) pairs: the same words in the same order, cosines close."""
    if not isinstance(got, (list, tuple)) or not all(
            isinstance(p, (list, tuple)) and len(p) == 2 for p in got):
        expect.fail(f"{call} returned {kind_of(got)}; expected a list of (word, cosine) pairs")
    words = [p[0] for p in got]
    want_words = [w for w, _ in want]
    found = next((v.hint for v in variants if list(v.value) == words and words != want_words),
                 None)
    if len(words) != len(want_words):
        expect.fail(f"{call} returned {len(words)} pairs, the words {words[:10]}; expected "
                    f"{len(want_words)}: {want_words[:10]}",
                    f"{call} returned {len(words)} pairs where there should be "
                    f"{len(want_words)} (min(k, V - 1))", hint=found)
    expect.that(words == want_words,
                f"{call} returned the words {words[:10]}; expected {want_words[:10]}",
                f"{call} returned the right number of pairs, but not the expected words in the "
                "expected order", hint=found)
    for (w, c), (_, exp) in zip(got, want, strict=True):
        expect.scalar(c, exp, f"{call}: the cosine of {w!r}" if expect.visible
                      else f"{call}: a cosine")


def group_recall(w2i: Mapping[str, int], W: np.ndarray, groups: Mapping[str, Sequence[str]],
                 k: int) -> tuple[float, list[str]]:
    """(fraction of the groups' words with a group-mate among their k nearest neighbours,
    the words that have none)."""
    W = np.asarray(W, dtype=np.float64)
    norms = np.linalg.norm(W, axis=1)
    unit = W / np.where(norms > 0, norms, 1.0)[:, None]
    sims = unit @ unit.T
    hits, misses = 0, []
    for members in groups.values():
        rows = {w2i[w] for w in members if w in w2i}
        for w in members:
            if w not in w2i:
                continue
            i = w2i[w]
            order = [j for j in np.lexsort((np.arange(len(W)), -sims[i])) if j != i][:k]
            if rows & set(int(j) for j in order):
                hits += 1
            else:
                misses.append(w)
    total = hits + len(misses)
    return (hits / total if total else 0.0), misses


def in_init_range(W: np.ndarray, dim: int) -> bool:
    """Whether every value lies in ±0.5/dim (word2vec's initial range)."""
    return bool(np.abs(W).max(initial=0.0) <= 0.5 / dim * (1 + 1e-5))


# ---------------------------------------------------------------- models


def embedding_weights(student: StudentProxy, expect: Expect, model: RemoteObject, call: str,
                      vocab_size: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """(in_embed.weight, out_embed.weight) of a SkipGram in the worker, as float64 arrays."""
    state = student.method(model, "state_dict")
    if not isinstance(state, dict):
        expect.fail(f"{call}.state_dict() returned {kind_of(state)}; expected a dict")
    out = []
    for name in ("in_embed", "out_embed"):
        key = f"{name}.weight"
        if key not in state:
            expect.fail(f"{call} has no parameter {key} (state_dict keys: "
                        f"{sorted(map(str, state))[:6]}); the module needs the attributes "
                        "in_embed and out_embed, each a torch.nn.Embedding")
        out.append(expect.array(state[key], f"{call}.{key}", shape=(vocab_size, dim)))
    return out[0], out[1]


def batch_loss(W_in: np.ndarray, W_out: np.ndarray, centre: Sequence[int],
               context: Sequence[int], negatives: np.ndarray) -> float:
    """The mean sgns_loss over a batch, from the embedding matrices."""
    return float(np.mean([loss_of(W_in[c], W_out[o], W_out[np.asarray(n)])
                          for c, o, n in zip(centre, context, negatives, strict=True)]))


def batch_variants(W_in: np.ndarray, W_out: np.ndarray, centre: Sequence[int],
                   context: Sequence[int], negatives: np.ndarray) -> list[Variant]:
    rows = list(zip(centre, context, negatives, strict=True))
    swapped = np.mean([loss_of(W_out[c], W_in[o], W_in[np.asarray(n)]) for c, o, n in rows])
    out = [variant("in-out-swapped", swapped)]
    per_row = [loss_variants(W_in[c], W_out[o], W_out[np.asarray(n)]) for c, o, n in rows]
    for i, first in enumerate(per_row[0]):
        out.append(Variant(first.hint, np.mean([r[i].value for r in per_row])))
    return out


def describe_call(name: str, tokens: list[str], settings: Mapping[str, Any]) -> str:
    args = ", ".join(f"{k}={v}" for k, v in settings.items())
    return f"{name}(the corpus's {len(tokens)} tokens, {args})"


def recall_verdict(expect: Expect, call: str, w2i: Mapping[str, int], W: np.ndarray,
                   dim: int) -> None:
    """Fail unless enough planted words have a group-mate among their nearest neighbours."""
    k, least = int(expect.setting("recall_k")), float(expect.setting("min_recall"))
    recall, misses = group_recall(w2i, W, GROUPS, k)
    if recall >= least:
        return
    words = sum(len(g) for g in GROUPS.values())
    shown = "; ".join(f"{w}: {[n for n, _ in neighbours_of(w, w2i, W, k)]}"
                      for w in misses[:3])
    found = None
    if in_init_range(W, dim):
        found = hint("not-updated")
    elif np.abs(W).max() > 100.0:
        found = hint("diverges")
    expect.fail(f"{call}: {recall:.0%} of the {words} planted group words (fruits, tools, "
                f"colours, weekdays, animals, instruments) have a word of their own group among "
                f"their {k} nearest neighbours by cosine; at least {least:.0%} is required "
                f"(chance is about 5%). Words without a group-mate nearby: {shown}",
                f"{call}: {recall:.0%} of the planted group words have a group-mate among their "
                f"{k} nearest neighbours; at least {least:.0%} is required", hint=found)


def forward_check(student: StudentProxy, expect: Expect, rng: np.random.Generator,
                  vocab_size: int, dim: int, batches: Sequence[tuple[int, int]],
                  scale: float) -> None:
    """Load random weights into a SkipGram, read them back, compare forward with the formula."""
    call = f"SkipGram({vocab_size}, {dim})"
    model = expect.module(student.SkipGram(vocab_size, dim), call)
    weights = {f"{name}.weight": torch.tensor(rng.normal(0, scale, (vocab_size, dim)),
                                              dtype=torch.float32)
               for name in ("in_embed", "out_embed")}
    student.method(model, "load_state_dict", weights, False)
    W_in, W_out = embedding_weights(student, expect, model, call, vocab_size, dim)
    for b, k in batches:
        centre = torch.tensor(rng.integers(0, vocab_size, b))
        context = torch.tensor(rng.integers(0, vocab_size, b))
        negatives = torch.tensor(rng.integers(0, vocab_size, (b, k)))
        args = (centre.tolist(), context.tolist(), negatives.numpy())
        expect.scalar(student.method(model, "__call__", centre, context, negatives),
                      batch_loss(W_in, W_out, *args),
                      f"{call}.forward(centre ({b},), context ({b},), negatives ({b}, {k}))",
                      n=b, variants=batch_variants(W_in, W_out, *args))


def training_settings(expect: Expect, prefix: str, names: Sequence[str]) -> dict[str, Any]:
    """The hyper-parameters the rubric sets for a training check (``<prefix>_<name>``)."""
    return {name: expect.setting(f"{prefix}_{name}") for name in names}


def f32(a: Any) -> torch.Tensor:
    """A float32 tensor of ``a`` (NumPy arrays from the rng fixture, lists)."""
    return torch.as_tensor(np.asarray(a), dtype=torch.float32)


@pytest.fixture(scope="session")
def helpers() -> SimpleNamespace:
    """Helpers for checks (checks are loaded by path, so they share code through fixtures)."""
    return SimpleNamespace(
        GROUPS=GROUPS, HINTS=HINTS, hint=hint, variant=variant, matching=matching,
        kind_of=kind_of, f32=f32, sig=sig, token_variants=token_variants,
        # reading and comparing results
        int_tensor=int_tensor, str_list=str_list, vocab=vocab, word_index=word_index,
        similar=similar, embedding_weights=embedding_weights, step_check=step_check,
        forward_check=forward_check, recall_verdict=recall_verdict,
        # the handout's formulas and the usual mistakes
        vocab_by_count=vocab_by_count, pairs_of=pairs_of, pair_variants=pair_variants,
        log_sigmoid=log_sigmoid, sigmoid=sigmoid, loss_of=loss_of, loss_variants=loss_variants,
        gradient_variants=gradient_variants,
        autograd_step=autograd_step, step_variants=step_variants, cosines=cosines,
        neighbours_of=neighbours_of, similar_variants=similar_variants,
        group_recall=group_recall, in_init_range=in_init_range, batch_loss=batch_loss,
        batch_variants=batch_variants,
        # training checks
        training_settings=training_settings, describe_call=describe_call,
    )
