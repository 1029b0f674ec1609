"""Crash at import: after defining everything, the module raises RuntimeError.

The submission cannot run: every name scores 0 and the failure shows the exception; the batch
goes on.
"""
# lost: *
raise RuntimeError("boom at import")
