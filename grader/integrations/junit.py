"""JUnit XML for ``grader ci``: CI systems show it as a test report.

The shape most readers accept (Jenkins' JUnit plugin, GitLab, the common Actions reporters,
``junitparser``): ``<testsuites>`` holding one ``<testsuite>`` per assignment, one
``<testcase classname="FUNCTION" name="CHECK NAME" time="...">`` per check, and a
``<failure message="..." type="...">`` with the whole message for a failed one. Points go into
``<properties>``: the suite's score and maximum, each case's points and maximum. Student text
is stripped of the characters XML 1.0 cannot hold.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

from grader.results import CheckResult, SubmissionResult

# Characters XML 1.0 allows (https://www.w3.org/TR/xml/#charsets); everything else is dropped.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
MAX_MESSAGE = 500
"""Characters of the ``message`` attribute (the element's text has the whole message)."""


def xml_text(text: str) -> str:
    return _NOT_XML.sub("", text)


def junit_xml(result: SubmissionResult, file: str = "", lines: dict[str, int] | None = None
              ) -> str:
    """The JUnit XML document for one checked submission.

    ``file`` and ``lines`` (function -> line of its definition) add ``file``/``line`` attributes
    to the cases, which some reporters use to link a failure to the code.
    """
    failures = sum(1 for t in result.tests if t.status != "passed")
    total_time = f"{result.execution_time:.3f}"
    root = ET.Element("testsuites", name="grader", tests=str(len(result.tests)),
                      failures=str(failures), errors="0", time=total_time)
    suite = ET.SubElement(root, "testsuite", name=result.assignment,
                          tests=str(len(result.tests)), failures=str(failures), errors="0",
                          skipped="0", time=total_time, timestamp=_utc(result.graded_at))
    _properties(suite, {"assignment": result.assignment, "submission": result.submission_id,
                        "score": f"{result.score:g}", "max_score": f"{result.max_score:g}",
                        "mode": result.mode, "grader_version": result.grader_version})
    for test in result.tests:
        _testcase(suite, test, file, (lines or {}).get(test.function, 0))
    if result.output:
        ET.SubElement(suite, "system-out").text = xml_text(result.output)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _testcase(suite: ET.Element, test: CheckResult, file: str, line: int) -> None:
    attrs = {"classname": xml_text(test.function), "name": xml_text(test.name),
             "time": f"{test.duration:.4f}"}
    if file:
        attrs["file"] = xml_text(file)
        if line:
            attrs["line"] = str(line)
    case = ET.SubElement(suite, "testcase", attrs)
    _properties(case, {"check": test.id, "points": f"{test.score:g}",
                       "max_points": f"{test.max_score:g}"})
    if test.status != "passed":
        message = xml_text(test.output)
        failure = ET.SubElement(case, "failure", message=_first_line(message),
                                type=test.bug_class or "check-failed")
        failure.text = message


def _utc(stamp: str) -> str:
    """``graded_at`` in UTC without an offset: the JUnit schema's pattern has no time zone."""
    try:
        moment = dt.datetime.fromisoformat(stamp)
    except ValueError:
        return ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _properties(parent: ET.Element, values: dict[str, str]) -> None:
    props = ET.SubElement(parent, "properties")
    for name, value in values.items():
        ET.SubElement(props, "property", name=name, value=xml_text(value))


def _first_line(message: str) -> str:
    line = message.strip().splitlines()[0] if message.strip() else "failed"
    return line if len(line) <= MAX_MESSAGE else line[:MAX_MESSAGE - 1] + "…"
