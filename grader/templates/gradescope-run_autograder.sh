#!/usr/bin/env bash
# Written by `grader gradescope`. Gradescope runs this for every submission: the student's files
# are in /autograder/submission, this archive in /autograder/source, and the results go to
# /autograder/results/results.json. grader.integrations.gradescope finds the submission, runs
# `grader grade` with public and hidden checks and converts result.json to Gradescope's format.
# AUTOGRADER_ROOT (default /autograder), GRADER (default grader) and PYTHON (default python3)
# let the same script run outside Gradescope, against a folder laid out like /autograder.
set -euo pipefail
root="${AUTOGRADER_ROOT:-/autograder}"
export AUTOGRADER_ROOT="$root"
exec "${PYTHON:-python3}" -m grader.integrations.gradescope run --assignment "$root/source/assignments/"@ASSIGNMENT@
