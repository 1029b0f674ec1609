"""What ``grader similarity`` writes: the ranked pairs (CSV and a page) and, for each flagged
pair, a self-contained page with the shared code marked side by side.

Pages go through jinja2 with autoescape and StrictUndefined (submissions are untrusted text),
under the reports' Content-Security-Policy: no script, nothing loaded from elsewhere. Every page
says what the numbers mean and that a person decides; none calls a pair a copy.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.assignment import Assignment
from grader.integrations.similarity import (
    MIN_TOKENS,
    WINDOW,
    K,
    Pair,
    Similarity,
    boilerplate,
    compare,
    read_codes,
)
from grader.outdir import SIMILARITY, SUMMARY
from grader.report import render_summary, templates
from grader.results import SubmissionResult, write_atomic

INDEX = "similarity.html"
TABLE = "similarity.csv"
PAIRS = "pairs"
SHOWN = 100
"""Pairs listed on the index page at least (the CSV has every pair)."""
MAX_PAGES = 300
"""Flagged pairs given a page at most, most alike first."""



@dataclass(frozen=True)
class Segment:
    text: str
    shared: bool


@dataclass(frozen=True)
class PairView:
    rank: int
    pair: Pair
    page: str
    """The pair's page, relative to the index ("" when the pair is not flagged)."""


@dataclass(frozen=True)
class Numbers:
    """What the pages say about how the scores are computed."""

    threshold: float
    k: int = K
    guarantee: int = K + WINDOW - 1
    min_tokens: int = MIN_TOKENS


def segments(text: str, spans: Sequence[tuple[int, int]]) -> list[Segment]:
    """``text`` cut into runs, each marked shared or not (overlapping spans merged)."""
    out, pos = [], 0
    for start, end in sorted(spans):
        start, end = max(start, pos), min(end, len(text))
        if end <= start:
            continue
        if start > pos:
            out.append(Segment(text[pos:start], False))
        out.append(Segment(text[start:end], True))
        pos = end
    if pos < len(text):
        out.append(Segment(text[pos:], False))
    return out


def pair_views(sim: Similarity, limit: int = SHOWN) -> list[PairView]:
    """The top pairs to list: at least ``limit``, and the flagged ones up to
    :data:`MAX_PAGES`, each with its page (a class that all wrote alike would otherwise get a
    page per pair; the CSV has them all)."""
    count = max(limit, min(len(sim.flagged), MAX_PAGES))
    return [PairView(rank, pair, f"{PAIRS}/{_page_name(rank, pair)}" if pair.flagged else "")
            for rank, pair in enumerate(sim.pairs[:count], start=1)]


def _page_name(rank: int, pair: Pair) -> str:
    return f"{rank:04d}-{pair.a}--{pair.b}.html"  # ids are already safe as file names


def write_similarity(sim: Similarity, out: Path, title: str) -> Path:
    """Write ``out/similarity.csv``, ``out/similarity.html`` and ``out/pairs/``; the index."""
    numbers = Numbers(sim.threshold)
    views = pair_views(sim)
    write_atomic(out / TABLE, _csv(sim.pairs))
    for view in views:
        if view.page:
            write_atomic(out / view.page, render_pair(sim, view, numbers, title))
    index = out / INDEX
    write_atomic(index, templates.get_template("similarity.html").render(
        title=title, views=views, sim=sim, numbers=numbers,
        skipped=[c for c in sim.codes if c.error]))
    return index


def render_pair(sim: Similarity, view: PairView, numbers: Numbers, title: str) -> str:
    pair = view.pair
    sides = [(pair.a, pair.score_a, segments(sim.code(pair.a).text, pair.spans_a)),
             (pair.b, pair.score_b, segments(sim.code(pair.b).text, pair.spans_b))]
    return templates.get_template("similarity-pair.html").render(
        title=title, view=view, sides=sides, numbers=numbers, given=sim.boilerplate)


def _csv(pairs: Sequence[Pair]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["rank", "a", "b", "score_a", "score_b", "shared_tokens", "flagged"])
    for rank, p in enumerate(pairs, start=1):
        writer.writerow([rank, p.a, p.b, f"{p.score_a:.4f}", f"{p.score_b:.4f}", p.tokens,
                         "yes" if p.flagged else ""])
    return buffer.getvalue()


@dataclass(frozen=True)
class SummarySection:
    """What ``summary.html`` shows after ``grader grade --similarity``."""

    views: tuple[PairView, ...]
    flagged: int
    compared: int
    numbers: Numbers
    folder: str
    """Where the similarity pages are, relative to the summary."""


def summary_section(sim: Similarity, folder: str, limit: int = 50) -> SummarySection:
    """The flagged pairs (at most ``limit``) for the summary; the index lists the rest."""
    compared = sum(1 for c in sim.codes if not c.error)
    views = tuple(v for v in pair_views(sim) if v.page)[:limit]
    return SummarySection(views, len(sim.flagged), compared, Numbers(sim.threshold), folder)


def batch_similarity(assignment: Assignment, paths: Sequence[Path], out: Path,
                     gradebook: Sequence[SubmissionResult],
                     names: Mapping[str, str] | None = None) -> Similarity:
    """``grader grade --similarity``: compare the batch's submissions, write the pages into
    ``out/similarity/`` and ``summary.html`` again with their section."""
    sim = compare(read_codes(paths, assignment), boilerplate(assignment))
    write_similarity(sim, out / SIMILARITY, assignment.title)
    write_atomic(out / SUMMARY, render_summary(gradebook, assignment, names,
                                               summary_section(sim, f"{SIMILARITY}/")))
    return sim
