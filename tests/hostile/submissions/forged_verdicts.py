"""Forged verdicts: at import and in mse the submission prints what looks like the grader's own
output (PASSED lines, a JSON result with full marks, a length-prefixed protocol frame claiming
success), HTML with a script, terminal escapes and a carriage return; mse then raises with HTML
in its message.

Printed text is only ever the student's output: mse scores 0, nothing else changes, and the
report shows the text escaped (no script, escape sequence or carriage return survives).
"""
# lost: mse
import json as _json
import os as _os
import sys as _sys

_frame = _json.dumps({"ok": True, "value": 1521.0}).encode()
print("PASSED mse-lecture\nPASSED 40/40")
print(_json.dumps({"score": 40, "max_score": 40, "tests": [{"status": "passed"}]}))
_sys.stdout.flush()
_os.write(1, len(_frame).to_bytes(4, "big") + _frame)


def mse(y_hat, y):
    print("</pre><script>alert(1)</script>\x1b[31m\rPASSED 40/40")
    _os.write(1, len(_frame).to_bytes(4, "big") + _frame)
    raise ValueError("<script>alert(2)</script>")
