"""The gradebook of an --out folder never loses rows: `grader grade --force --out DIR one.py`
(through the CLI, in this process) updates one's row in grades.csv and summary.html and keeps
the class, with the roster's names."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from grader.cli import main

A1 = Path(__file__).resolve().parents[3] / "assignments" / "a1"


def grades(out: Path) -> dict[str, dict[str, str]]:
    with (out / "grades.csv").open(newline="") as f:
        return {row["submission"]: row for row in csv.DictReader(f)}


def summary_rows(out: Path) -> dict[str, tuple[str, str]]:
    """Submission id -> (the name shown, the total) of summary.html's gradebook table."""
    soup = BeautifulSoup((out / "summary.html").read_text(encoding="utf-8"), "html.parser")
    rows = {}
    for tr in soup.select("#submissions tbody tr"):
        link = tr.select_one("th a")
        sid = link["href"].removesuffix("/report.html")
        rows[sid] = (link.get_text(strip=True), tr.select_one("td.total").get_text(strip=True))
    return rows


@pytest.mark.slow
def test_regrading_one_submission_keeps_every_other_row(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("ann", "bo", "cy"):
        (subs / f"{name}.py").write_text((A1 / "submission.py").read_text())
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\nann,Ann Lee\nbo,Bo Diaz\ncy,Cy Wu\n")
    out = tmp_path / "out"
    runner = CliRunner()
    base = ["grade", "-a", str(A1), "--jobs", "1", "--quiet", "--roster", str(roster),
            "--out", str(out)]
    first = runner.invoke(main, [*base, *map(str, sorted(subs.iterdir()))])
    assert first.exit_code == 0, first.output
    before = grades(out)
    assert set(before) == {"ann", "bo", "cy"}
    assert summary_rows(out) == {"ann": ("Ann Lee", "0 / 40"), "bo": ("Bo Diaz", "0 / 40"),
                                 "cy": ("Cy Wu", "0 / 40")}

    # bo hands in the solution; only bo is graded again, into the same folder
    (subs / "bo.py").write_text((A1 / "solution.py").read_text())
    again = runner.invoke(main, [*base, "--force", str(subs / "bo.py")])
    assert again.exit_code == 0, again.output
    after = grades(out)
    assert set(after) == {"ann", "bo", "cy"}, after
    assert after["ann"] == before["ann"] and after["cy"] == before["cy"]
    assert float(after["bo"]["total"]) == 40 > float(before["bo"]["total"])
    assert summary_rows(out) == {"ann": ("Ann Lee", "0 / 40"), "bo": ("Bo Diaz", "40 / 40"),
                                 "cy": ("Cy Wu", "0 / 40")}
    assert "also list 2 submission(s) graded into" in again.output
