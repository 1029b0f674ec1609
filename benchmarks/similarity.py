"""How fast a batch is compared: ``grader similarity`` on ``--n`` A1 submissions (default 300).

Run from the checkout: ``.venv/bin/python benchmarks/similarity.py [--n 300]``. It writes
``--n`` submissions into a temporary folder: each function taken from solution.py or
examples/correct.py (the two styles) at random, with random lines put between its lines (a few
students' work shares long runs, most shares little, as in a class), a tenth of them as
notebooks. It prints the time of the comparison and the pages in this process, and of the
whole command (``grader similarity``, with Python's start and the imports), with the machine's
load. The README's target: under a minute for 300 submissions on the 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.assignment import load_assignment  # noqa: E402  (after the checkout is on the path)
from grader.integrations.similarity import (  # noqa: E402
    boilerplate,
    compare,
    read_codes,
    submissions_in,
)
from grader.integrations.similarity_pages import write_similarity  # noqa: E402

A1 = ROOT / "assignments" / "a1"


def blocks(path: Path) -> tuple[str, dict[str, str]]:
    """The module's head and its top-level functions and classes, by name."""
    head, *defs = re.split(r"\n(?=def |class )", path.read_text())
    return head, {re.split(r"[ (:]", d, maxsplit=2)[1]: d for d in defs}


def submission(rng: random.Random, styles: list[tuple[str, dict[str, str]]]) -> str:
    head, _ = styles[rng.randrange(2)]
    noise = rng.choice([0.0, 0.05, 0.2, 0.4, 0.6, 0.8])
    parts = [head]
    for name in styles[0][1]:
        lines = []
        for line in rng.choice(styles)[1].get(name, styles[0][1][name]).splitlines():
            if line.startswith(" ") and rng.random() < noise:
                indent = line[: len(line) - len(line.lstrip())]
                lines.append(f"{indent}note_{rng.randrange(999)} = {rng.randrange(99)}")
            lines.append(line)
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def notebook(code: str) -> str:
    cells = [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
              "source": part} for part in re.split(r"\n(?=def |class )", code)]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def write_batch(folder: Path, n: int) -> None:
    styles = [blocks(A1 / "solution.py"), blocks(A1 / "examples" / "correct.py")]
    rng = random.Random(0)
    for i in range(n):
        code = submission(rng, styles)
        if i % 10 == 9:
            (folder / f"s{i:03d}.ipynb").write_text(notebook(code))
        else:
            (folder / f"s{i:03d}.py").write_text(code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    assignment = load_assignment(A1)
    with tempfile.TemporaryDirectory(prefix="grader-similarity-") as tmp:
        batch, out = Path(tmp) / "batch", Path(tmp) / "out"
        batch.mkdir()
        write_batch(batch, args.n)
        start, cpu = time.perf_counter(), time.process_time()
        sim = compare(read_codes(submissions_in(batch), assignment), boilerplate(assignment))
        compared, compared_cpu = time.perf_counter() - start, time.process_time() - cpu
        write_similarity(sim, out, assignment.title)
        in_process = time.perf_counter() - start
        start = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "grader"), "similarity", str(batch),
                        "-a", str(A1), "--out", str(Path(tmp) / "cli")], check=True,
                       stdout=subprocess.DEVNULL)
        command = time.perf_counter() - start
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print("| submissions | pairs | flagged | compare (s) | its CPU time (s) | + pages (s) "
          "| grader similarity (s) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    print(f"| {args.n} | {len(sim.pairs)} | {len(sim.flagged)} | {compared:.1f} | "
          f"{compared_cpu:.1f} | {in_process:.1f} | {command:.1f} |")
    print(f"\n{os.cpu_count()} CPUs, load average {load} (1, 5, 15 min)")


if __name__ == "__main__":
    main()
