"""The one probe engine: every exchange's connection test runs here, the same way.

* ``spec``: the vocabulary an exchange module declares itself in (hosts, calls by role, signer,
  error table, key-info reader, credential rules, facts with their sources);
* ``http``: the one HTTP client, and the allow-list that checks every URL actually requested;
* ``server_clock``: the exchanges' clocks, measured per host and cached per container;
* ``report``: the facts a probe finds (:class:`ProbeReport`) and its failures;
* ``probe``: runs an exchange module's calls (clock sync, concurrency, dependencies, one
  classification of answers) and hands a report to ``backfuture.connection_test`` for the verdict.

Exchange modules (``backfuture.exchanges.<id>``) hold data and pure functions, never orchestration.
"""
