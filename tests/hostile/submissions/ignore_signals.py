"""Ignored signals: at import the submission ignores every catchable signal a timer or a polite
stop could use (SIGTERM, SIGINT, SIGHUP, SIGALRM, SIGUSR1/2, SIGXCPU, SIGPIPE); mse then spins.

The limit must be enforced with SIGKILL from outside: mse scores 0 after 10 s and the other
names keep their points.
"""
# lost: mse
import signal as _signal

for _name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGALRM", "SIGUSR1", "SIGUSR2", "SIGXCPU",
              "SIGPIPE", "SIGVTALRM", "SIGPROF"):
    _signal.signal(getattr(_signal, _name), _signal.SIG_IGN)


def mse(y_hat, y):
    while True:
        pass
