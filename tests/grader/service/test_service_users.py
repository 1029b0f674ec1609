"""``grader users``: accounts on a fresh folder from two processes at once, JSON output, only
hashes stored, a roster import, and clear errors."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

from service_support import GRADER


def users(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([str(GRADER), "users", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_two_processes_on_a_fresh_folder_and_only_hashes_stored(tmp_path: Path) -> None:
    data = tmp_path / "data"
    procs = [users("add", name, "--data", str(data), "--json", "--base-url", "https://g.example")
             for name in ("ann", "ben")]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outputs]
    issued = [json.loads(out) for out, _ in outputs]
    assert [set(i) for i in issued] == [{"id", "role", "login_url", "token"}] * 2
    assert issued[0]["login_url"].startswith("https://g.example/login/")
    dump = "\n".join(sqlite3.connect(data / "grader.db").iterdump())
    for person in issued:
        secret_of_code = person["login_url"].rsplit(".", 1)[1]
        secret_of_token = person["token"].split("_", 2)[2]
        assert secret_of_code not in dump and secret_of_token not in dump
    assert "$argon2id$" in dump


def test_a_roster_import_and_a_new_token(tmp_path: Path) -> None:
    data = tmp_path / "data"
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name,email\n101,Ann,ann@example.org\n102,Ben,ben@example.org\n")
    done = subprocess.run([str(GRADER), "users", "import", str(roster), "--data", str(data)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "101 (student)" in done.stdout and "login link (works once)" in done.stdout
    missing = subprocess.run([str(GRADER), "users", "token", "999", "--data", str(data)],
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and "grader users add 999" in missing.stderr
    bad = subprocess.run([str(GRADER), "users", "add", "../x", "--data", str(data)],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "user id" in bad.stderr
