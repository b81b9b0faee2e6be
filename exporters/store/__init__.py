"""The local store: OTLP JSON Lines files per signal and UTC day, and everything that uses them.

- :mod:`~exporters.store.files`: the files themselves (``JsonlStore``: appends under a lock,
  retention, purge) and reading them back (``read_records``, ``ReadProblems``);
- :mod:`~exporters.store.export`: the span, log and metric exporters that write it;
- :mod:`~exporters.store.sealed`: sealed (encrypted) lines, bound to file and offset;
  :mod:`~exporters.store.reseal`: re-sealing a file; :mod:`~exporters.store.guard`: the disk guard;
- :mod:`~exporters.store.follow`: following the files as they grow (``StoreTail``);
- :mod:`~exporters.store.decode`: OTLP/JSON attribute values back to Python values;
- :mod:`~exporters.store.spans`: the one typed span view every reader uses (``StoredSpan``) and
  the one walk over a stored line (``stored_spans``, ``log_stamps``);
- :mod:`~exporters.store.query`: stats, traces and durations for the CLI, from the files;
- :mod:`~exporters.store.index`, ``index_update``, ``index_query``: the side index (SQLite) and
  the same answers from it.
"""
