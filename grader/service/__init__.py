"""``grader serve``: the grading service (students upload and read reports, instructors keep a
live gradebook). The outer contract is ``service-api.md``; one module per concern:

- :mod:`.config`: the service's settings; :mod:`.db` and :mod:`.models`: the database, whose
  schema only the Alembic migrations (:mod:`.migrations`) create and upgrade;
- :mod:`.auth`: accounts, one-time login codes, API tokens (argon2 hashes), sessions, CSRF;
- :mod:`.intake`: an upload checked by the grader's safe intake, stored by content;
- :mod:`.queue`: the job table (claims are atomic; leases bring back a killed server's jobs);
- :mod:`.runner`: the thread that grades claimed jobs on the grader's pool or a Dask cluster;
- :mod:`.views`: what a student may see of a result; :mod:`.gradebook`: the counted results;
- :mod:`.extensions`: per-student extensions, wherever a deadline matters;
- :mod:`.app`, :mod:`.pages`, :mod:`.api`: the web application, its HTML pages and JSON API.

Student code never runs here: the runner hands submissions to the grader's sandboxed workers.
"""
