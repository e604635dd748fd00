"""``python -m course_helpers doctor | image | cleanup [--dry-run] | record [--out DIR]``.

doctor   says whether an engine answers, which one, and whether the image is ready.
image    builds the course image offline (``docker import`` of a static busybox).
cleanup  removes what dead course sessions left behind (``--dry-run`` only lists it),
         and the lock files of dead sessions that left nothing.
record   runs every notebook on the live engine and writes the replay recordings.

What the course treats as its own: every container and network carrying the
course's labels (io.github.docker-networking-course.*). Copy those labels onto
an object of yours and the course takes it for one of its own: the session
whose id the labels name removes it when it closes, and cleanup removes it once
that session has ended. Leave those labels off what you make by hand.

Closing a session removes its course containers even if one of your containers
joined a course container's network namespace (--network container:NAME: yours
then loses its network) or a course network. A course network one of your
containers is still attached to is kept, never disconnected for you: cleanup
reports it; disconnect your container (docker network disconnect NETWORK
CONTAINER) and run cleanup again.

Liveness: a session is alive while it holds the lock on its file in the lock
folder (COURSE_LOCK_DIR, made absolute; /tmp/dnc-sessions by default), or, if
that file was deleted, while the process named in its objects' labels runs on
this machine.
"""

from __future__ import annotations

import argparse
import sys

from .core.errors import CourseError, as_clause


def _doctor() -> int:
    from .core.engine import connect, engine_address, translated
    from .core.image import REPOSITORY, local_course_image

    client = connect()
    with translated("ask for the engine's version"):
        version = client.version()
    print(f"engine   : Docker Engine {version['Version']} (API {version['ApiVersion']}) "
          f"at {engine_address()}")
    print(f"image    : {local_course_image(client) or f'not built yet ({REPOSITORY})'}")
    return 0


def _image() -> int:
    from .core.engine import connect
    from .core.image import ensure_image

    print(f"course image ready: {ensure_image(connect())}")
    return 0


def _cleanup(dry_run: bool) -> int:
    """Similar to ``docker rm -f ID…; docker network rm ID…`` for the course objects of
    sessions that have ended; prints one line per object."""
    from .core.engine import connect, refusal_fix
    from .core.sessions import find_orphans, forget_session, remove_orphans, stale_lock_files

    client = connect()
    orphans = find_orphans(client)
    stale = stale_lock_files(client)
    if stale:
        verb = "would remove" if dry_run else "removed"
        if not dry_run:
            for session in stale:
                forget_session(session)
        print(f"{verb} {len(stale)} lock file(s) of ended sessions that left no objects.")
    if not orphans:
        print("Nothing to clean up: no course objects of ended sessions.")
        return 0
    orphans.sort(key=lambda o: o.kind != "container")  # the order they are removed in
    verb = "would remove" if dry_run else "removing"
    for orphan in orphans:
        print(f"{verb} {orphan.kind} {orphan.name} ({orphan.id[:12]}, session {orphan.session})")
    if dry_run:
        print(f"{len(orphans)} object(s) would be removed; run without --dry-run to remove them.")
        return 0
    failures: list = []
    removed = remove_orphans(client, orphans, failures=failures)
    for orphan, reason in failures:
        fix = refusal_fix(None, reason)
        if "active endpoints" in reason:
            fix = (f"disconnect the containers attached to it (`docker network inspect "
                   f"{orphan.name}` lists them, `docker network disconnect {orphan.name} "
                   "CONTAINER`) and run cleanup again")
        print(f"kept {orphan.kind} {orphan.name} ({orphan.id[:12]}): Docker said: "
              f"{as_clause(reason)}; {fix}.")
    print(f"removed {len(removed)} object(s).")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m course_helpers``."""
    parser = argparse.ArgumentParser(prog="python -m course_helpers", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="check the engine and the image")
    sub.add_parser("image", help="build the course image offline")
    clean = sub.add_parser("cleanup", help="remove leftovers of dead sessions")
    clean.add_argument("--dry-run", action="store_true", help="only list what would go")
    rec = sub.add_parser("record", help="record every notebook's live run for replay")
    rec.add_argument("--out", default=None, help="folder for the recordings "
                     "(default: the package's recordings/)")
    args = parser.parse_args(argv)
    try:
        if args.command == "doctor":
            return _doctor()
        if args.command == "image":
            return _image()
        if args.command == "record":
            from .core.record import record_all

            return record_all(args.out)
        return _cleanup(args.dry_run)
    except CourseError as exc:
        print(exc, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
