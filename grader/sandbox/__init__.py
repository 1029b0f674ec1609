"""The trusted side of the sandbox boundary: what starts, talks to and kills workers.

- ``zygote.py``: a warm interpreter per grading process, forking one worker per submission;
  the worker's resource limits (:class:`~grader.sandbox.zygote.Limits`).
- ``worker.py``: one forked worker seen from here: requests, deadlines, output, its end.
- ``isolation.py``: which layers this machine can apply (probed by trying), and how results
  name them.
- ``inside/``: the code that runs *confined*, in the zygote and its workers. It never imports
  the grader package (a test fails if it does); its modules load each other by path.
"""
