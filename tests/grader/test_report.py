"""report.html and summary.html, parsed: structure, hints, charts and escaping."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from grader.assignment import Assignment, CheckSpec
from grader.plotting import histogram, line_chart
from grader.report import CheckRate, hardest_groups, render_report, render_summary, summary
from grader.results import OutputBlock, Plot, Series, SubmissionResult


def page(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def test_report_has_a_section_per_function_in_handout_order(graded_dir, a1: Assignment):
    soup = page(graded_dir / "sign_error" / "report.html")
    ids = [s["id"] for s in soup.select("section.function")]
    assert ids == [f"fn-{name}" for name in a1.names]
    heading = soup.select_one("#fn-mse_gradients h2").get_text(" ", strip=True)
    assert heading == "mse_gradients : 0 / 4 points"
    assert "36 / 40" in soup.select_one("header").get_text(" ", strip=True)


def test_sign_error_report_says_the_sign_is_flipped(graded_dir):
    soup = page(graded_dir / "sign_error" / "report.html")
    hints = [h.get_text(" ", strip=True) for h in soup.select("#fn-mse_gradients .hint")]
    assert hints and all("opposite sign" in h and "sign flipped" in h for h in hints)
    listed = soup.select("#hints li")
    assert len(listed) == 1 and "mse_gradients" in listed[0].get_text()
    # the message above the hint keeps got vs expected and does not repeat the hint
    message = soup.select_one("#check-mseg-lecture pre").get_text()
    assert "4680" in message and "-4680" in message and "Likely mistake" not in message


def test_correct_report_shows_no_hint(graded_dir):
    soup = page(graded_dir / "correct" / "report.html")
    assert not soup.select(".hint") and soup.select_one("#hints") is None


def test_report_plots_loss_curves_with_axes_and_legend(graded_dir):
    soup = page(graded_dir / "correct" / "report.html")
    figures = soup.select("figure.chart")
    assert len(figures) == 3  # fit_line twice, train_classifier once
    for figure in figures:
        svg = figure.select_one("svg")
        assert int(svg["width"]) > 100 and int(svg["height"]) > 100
        assert len(svg.select("polyline")) == 2
        texts = " ".join(t.get_text() for t in svg.select("text"))
        assert "epoch" in texts and ("reference" in texts or "least-squares minimum" in texts)
    train = soup.select_one("#fn-train_classifier figure svg")
    assert "your train_classifier" in train.get_text() and "reference" in train.get_text()


def test_summary_shows_histogram_hardest_checks_and_mistakes(graded_dir):
    soup = page(graded_dir / "summary.html")
    bars = soup.select("#scores svg rect title")
    assert len(bars) == 10 and sum(int(b.get_text().split(": ")[1]) for b in bars) == 11
    hardest = soup.select("#hardest li")
    assert hardest and "passed" in hardest[0].get_text()
    # the bins are in points, as the title says
    labels = [b.get_text().split(": ")[0] for b in bars]
    assert labels[0] == "0-4" and labels[-1] == "36-40"
    assert "points" in soup.select_one("#scores svg title").get_text()
    mistakes = {tr.select("td")[0].get_text(): int(tr.select("td")[2].get_text())
                for tr in soup.select("#bugs tbody tr")}
    assert mistakes["sign flipped"] == 1 and mistakes["overflow or NaN"] == 2
    assert mistakes["parameters never updated"] == 1
    rows = soup.select("#submissions tbody tr")
    assert len(rows) == 11 and rows[0].select_one("a")["href"] == "solution/report.html"


def test_summary_flags_not_run_and_timeouts(graded, a1):
    base = graded["correct"]
    broken = dataclasses.replace(base, submission_id="b", failure="SyntaxError", score=0.0)
    slow = dataclasses.replace(base, submission_id="s", timed_out=("fit_line",))
    weak = dataclasses.replace(base, submission_id="w", isolation=base.isolation[:1])
    marked = dataclasses.replace(base, submission_id="m",
                                 isolation=(*base.isolation, "REDUCED: no landlock"))
    rows = {r.result.submission_id: r.flags
            for r in summary([base, broken, slow, weak, marked], a1).rows}
    assert rows == {"correct": (), "b": ("not run",), "s": ("timed out: fit_line",),
                    "w": ("reduced isolation",), "m": ("reduced isolation",)}
    # a batch reduced throughout is flagged too, though no result has more layers
    assert summary([marked], a1).rows[0].flags == ("reduced isolation",)


HOSTILE = "<script>alert(1)</script></pre><b>bold</b>\x1b[31mred\x1b[0m\rline\x07"


def test_hostile_student_text_is_escaped_everywhere(graded, a1):
    base = graded["sign_error"]
    tests = tuple(dataclasses.replace(t, output=HOSTILE + t.output, hint=t.hint and HOSTILE)
                  for t in base.tests)
    result = dataclasses.replace(
        base, submission_id="<img src=x>", output=HOSTILE, tests=tests,
        student_output=(OutputBlock("mse-lecture", "mse", "visible", HOSTILE, HOSTILE),))
    for html in (render_report(result, a1), render_summary([result], a1)):
        soup = BeautifulSoup(html, "html.parser")
        assert not soup.select("script") and not soup.select("b") and not soup.select("img")
        assert "\x1b" not in html and "\r" not in html and "\x07" not in html
        text = soup.get_text()
        assert "<script>alert(1)</script>" in text or "<img src=x>" in text


def test_plot_drops_non_finite_points_and_counts_them():
    plot = Plot("t", "epoch", "loss", (Series("you", (1, 2, 3, 4), (5.0, math.nan, math.inf,
                                                                   1.0)),))
    chart = line_chart(plot)
    assert chart is not None and chart.dropped == 2
    assert len(chart.lines[0].points.split()) == 2


def test_plot_uses_a_log_scale_for_wide_ranges_and_none_when_empty():
    wide = line_chart(Plot("t", "x", "y", (Series("a", (1, 2, 3), (1000.0, 10.0, 0.01)),)))
    assert wide is not None and wide.log_scale and wide.y_label.endswith("(log scale)")
    assert line_chart(Plot("t", "x", "y", (Series("a", (1,), (math.nan,)),))) is None


def test_fit_line_like_curve_uses_a_log_scale_so_the_minimum_leaves_the_axis():
    # the reference fit_line's losses: 1.48 after one epoch, 0.0458 at the end (minimum 0.0456)
    losses = (1.476, 0.196, 0.0613, 0.048, 0.0460, 0.0458)
    chart = line_chart(Plot("fit_line", "epoch", "MSE", (
        Series("your fit_line", tuple(range(1, 7)), losses),
        Series("least-squares minimum", (1, 6), (0.0456, 0.0456)))))
    assert chart is not None and chart.log_scale
    floor = chart.top + chart.inner_height
    minimum = float(chart.lines[1].points.split()[0].split(",")[1])
    # on the old linear axis (0 to 1.6) the minimum was 6.5 px above the x-axis
    assert floor - minimum > 15


def test_legend_is_under_the_plot_and_covers_no_curve(graded_dir):
    chart = line_chart(Plot("t", "x", "y", (Series("a", (0, 10), (1.0, 9.0)),
                                            Series("b", (0, 10), (9.0, 1.0)))))
    assert chart is not None
    assert chart.legend_top >= chart.top + chart.inner_height + 40  # below the x label
    assert chart.height >= chart.legend_top + 16 * len(chart.lines)
    soup = page(graded_dir / "correct" / "report.html")
    for svg in soup.select("figure.chart svg"):
        frame = svg.select_one("rect")
        bottom = float(frame["y"]) + float(frame["height"])
        labels = svg.select("g.legend text")
        assert len(labels) == 2 and all(float(t["y"]) > bottom + 30 for t in labels)
        assert all(float(t["y"]) < float(svg["height"]) for t in labels)


def test_tied_hardest_checks_are_one_line():
    specs = [CheckSpec(f"c{i}", "mse", 1.0, "visible", f"check {i}", ("mse",))
             for i in range(8)]
    rates = [CheckRate(specs[0], 9, 10), CheckRate(specs[1], 9, 10), CheckRate(specs[2], 5, 10),
             CheckRate(specs[3], 9, 10), CheckRate(specs[4], 10, 10), CheckRate(specs[5], 9, 10),
             CheckRate(specs[6], 8, 10), CheckRate(specs[7], 9, 10)]
    groups = hardest_groups(rates, limit=2)
    assert [(g.passed, [c.spec.id for c in g.checks]) for g in groups] == [
        (5, ["c2"]), (8, ["c6"])]
    groups = hardest_groups(rates)
    assert [(g.passed, len(g.checks)) for g in groups] == [(5, 1), (8, 1), (9, 5)]
    assert hardest_groups([CheckRate(specs[4], 10, 10)]) == ()


def test_summary_shows_roster_names_and_the_total_first(graded, a1):
    html = render_summary([graded["correct"], graded["sign_error"]], a1,
                          {"sign_error": "Zoë <Doe>"})
    soup = BeautifulSoup(html, "html.parser")
    heads = [th.get_text(strip=True) for th in soup.select("#submissions thead th")]
    assert heads[:3] == ["Student", "Total", "Flags"]
    rows = soup.select("#submissions tbody tr")
    assert rows[0].select_one("th").get_text(" ", strip=True) == "correct"
    assert rows[1].select_one("th a").get_text() == "Zoë <Doe>"  # escaped text
    assert rows[1].select_one("th .id").get_text() == "sign_error"
    assert rows[1].select_one("td.total").get_text() == "36 / 40"


def test_plot_points_stay_inside_the_frame():
    chart = line_chart(Plot("t", "x", "y", (Series("a", (0, 5, 10), (-3.0, 7.5, 2.0)),
                                            Series("b", (0, 10), (1.0, 1.0)))))
    assert chart is not None
    for line in chart.lines:
        for point in line.points.split():
            x, y = map(float, point.split(","))
            assert chart.left <= x <= chart.left + chart.inner_width
            assert chart.top <= y <= chart.top + chart.inner_height


@pytest.mark.parametrize("counts", [[0, 0, 3], [1, 7, 2], [0, 0, 0]])
def test_histogram_bars_fit_and_ticks_are_whole(counts):
    chart = histogram("h", "x", ["a", "b", "c"], counts)
    assert [b.count for b in chart.bars] == counts
    assert all(b.y + b.height <= chart.top + chart.inner_height + 0.1 for b in chart.bars)
    assert all(t.label.isdigit() for t in chart.y_ticks)


def test_report_reads_back_from_json(graded, a1):
    result = graded["forgot_step"]
    again = SubmissionResult.from_json(result.to_json())
    assert again == result
    assert render_report(again, a1) == render_report(result, a1)
