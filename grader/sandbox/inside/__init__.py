"""What runs inside the sandbox: the zygote and its workers (``worker.py``), confinement
(``confine.py``: namespaces, Landlock, seccomp, rlimits) and the plain-data frames both sides
speak (``protocol.py``, which the trusted side imports too).

Nothing here imports the grader package: ``worker.py`` is started as a script
(``python -I -B worker.py zygote FD``) and loads its siblings by path, and Landlock lets a
worker read only this folder of the grader's files.
"""
