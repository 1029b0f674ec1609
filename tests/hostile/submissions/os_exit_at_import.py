"""Hard exit at import: the module calls os._exit(0), ending the worker without cleanup (no
exception to catch, exit status 0 as if all went well).

The submission cannot run: every name scores 0, with a clear reason; the batch goes on.
"""
# lost: *
import os as _os

_os._exit(0)
