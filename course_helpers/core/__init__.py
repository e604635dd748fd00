"""The course's machinery, which notebooks never import directly.

The engine connection and its error translation (``engine``, ``errors``), the
course image (``image``), sessions with their labels, lock files and reaper
(``sessions``), record and replay (``replay``, ``record``), the session itself
(``lab``) with its pure option checks (``options``), the ``docker exec`` stream
reader (``execstream``), spare containers (``spares``), ``/proc`` (``procfs``),
the engine host's firewall (``firewall``) and the logging proxy (``httplog``).
"""
