"""``python -m course_helpers doctor | image | cleanup [--dry-run] | record [--out DIR]``.

doctor   says whether an engine answers, which one, and whether the image is ready.
image    builds the course image offline (``docker import`` of a static busybox).
cleanup  removes what dead course sessions left behind (``--dry-run`` only lists it).
record   runs every notebook on the live engine and writes the replay recordings.
"""

from __future__ import annotations

import argparse
import sys

from .errors import CourseError


def _doctor() -> int:
    from .engine import connect, engine_address
    from .image import REPOSITORY, local_course_image

    client = connect()
    version = client.version()
    print(f"engine   : Docker Engine {version['Version']} (API {version['ApiVersion']}) "
          f"at {engine_address()}")
    print(f"image    : {local_course_image(client) or f'not built yet ({REPOSITORY})'}")
    return 0


def _image() -> int:
    from .engine import connect
    from .image import ensure_image

    print(f"course image ready: {ensure_image(connect())}")
    return 0


def _cleanup(dry_run: bool) -> int:
    """Similar to ``docker rm -f ID…; docker network rm ID…`` for the course objects of
    sessions that have ended; prints one line per object."""
    from .engine import connect
    from .sessions import find_orphans, remove_orphans

    client = connect()
    orphans = find_orphans(client)
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
        print(f"kept {orphan.kind} {orphan.name} ({orphan.id[:12]}): Docker said: {reason}")
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
            from .record import record_all

            return record_all(args.out)
        return _cleanup(args.dry_run)
    except CourseError as exc:
        print(exc, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
