"""Make the replay recordings: run every notebook live (``python -m course_helpers record``).

Introduced in chapter 00 (setup: live or replay). Each chapter notebook is
executed from top to bottom with ``COURSE_BACKEND=live`` and
``COURSE_RECORD_DIR`` set, so its ``Lab("NN_name")`` stores every engine
call's result and writes ``NN_name.json`` (with the engine version, OS and
date) when the notebook's last cell closes it. The replay backend serves
those files where no engine answers (Binder). Similar to running every
notebook by hand with ``docker`` commands and keeping their output.

:func:`structure` and :func:`compare` reduce a recording to what must not
change between two live runs (the calls made, the interfaces per mode, the
default networks, the shared namespace of container mode); the test suite
uses them to tell when the shipped recordings have gone stale.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .errors import CourseError, EngineUnavailable
from .options import DEFAULT_NETWORKS
from .replay import RECORDINGS, Recording, decode, set_name

#: The course's notebooks (a source checkout: notebooks/ beside the package).
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
#: The kernel the notebooks are executed with (the venv's own ``python3``).
KERNEL = "python3"
#: Seconds one cell may run while recording.
CELL_TIMEOUT = 600
#: The command that makes recordings afresh (named in every "stale" message).
RECORD_COMMAND = "python -m course_helpers record"


def notebooks(folder: Path | None = None) -> list[Path]:
    """The chapter notebooks, sorted by name (``00_setup.ipynb`` first).

    Args:
        folder: where to look; by default the checkout's ``notebooks/``.

    Raises:
        CourseError: there is no such folder (an installed package has none).
    """
    folder = Path(folder or NOTEBOOKS)
    if not folder.is_dir():
        raise CourseError(
            f"There is no notebooks folder at {folder}: run `{RECORD_COMMAND}` from a "
            "checkout of the course repository."
        )
    return sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))


def _require_engine() -> str:
    """The engine's version; one sentence when none answers (recording needs one)."""
    from .engine import connect

    try:
        client = connect(timeout=10)
    except EngineUnavailable as exc:
        raise EngineUnavailable(f"Recording needs a live Docker engine: {exc}") from None
    try:
        return str(client.version().get("Version", "?"))
    finally:
        client.close()


def _cell_error(exc: BaseException) -> str:
    """One line saying which cell failed and why (nbclient's CellExecutionError)."""
    name = getattr(exc, "ename", "") or type(exc).__name__
    value = str(getattr(exc, "evalue", "") or "").strip()
    if not value:
        value = str(exc).strip().splitlines()[-1] if str(exc).strip() else ""
    return f"{name}: {value}"[:400]


def execute(notebook: Path, env: dict[str, str], timeout: int = CELL_TIMEOUT) -> Any:
    """Run a notebook top to bottom in its own folder with the ``python3`` kernel.

    Similar to ``jupyter nbconvert --to notebook --execute NB`` without writing it back.
    The kernel's own log (stderr) is shown only when the notebook fails.

    Args:
        notebook: the ``.ipynb`` file.
        env: the kernel's whole environment.
        timeout: seconds one cell may take.

    Returns:
        The executed notebook (``nbformat.NotebookNode``), outputs included.

    Raises:
        nbclient.exceptions.CellExecutionError: a cell raised.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name=KERNEL,
        resources={"metadata": {"path": str(notebook.parent)}},
    )
    with tempfile.TemporaryFile("w+") as log:
        try:
            client.execute(env=env, stderr=log)
        except Exception:
            log.seek(0)
            lines = [line for line in log.read().splitlines()
                     if "running over TCP without encryption" not in line]
            if lines:
                print("\n".join(lines[-20:]), file=sys.stderr)
            raise
    return nb


def record_notebook(notebook: Path, out: Path) -> list[Path]:
    """Run one notebook live with recording on; move what it recorded into ``out``.

    A recording is only kept when the whole notebook ran: one that failed half
    way leaves the recordings in ``out`` as they were.

    Args:
        notebook: the ``.ipynb`` file.
        out: the folder for the recordings.

    Returns:
        The recordings written (usually one: ``<notebook stem>.json``).

    Raises:
        CourseError: a cell failed; the message names the notebook and the error.
    """
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    with tempfile.TemporaryDirectory(prefix="dnc-record-") as tmp:
        env = {**os.environ, "COURSE_BACKEND": "live", "COURSE_RECORD_DIR": tmp}
        env.pop("MPLBACKEND", None)  # the kernel's inline backend, as in JupyterLab
        try:
            execute(notebook, env)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
            raise CourseError(
                f"{notebook.name} failed on the live engine ({_cell_error(exc)}), so its "
                f"recording was not updated: fix the notebook and run `{RECORD_COMMAND}` again."
            ) from None
        written = []
        out.mkdir(parents=True, exist_ok=True)
        for made in sorted(Path(tmp).glob("*.json")):
            target = out / made.name
            shutil.move(str(made), target)
            written.append(target)
        return written


def summary(path: Path) -> str:
    """One line about a recording: its calls, and the engine, OS and date it was made on."""
    rec = Recording.load(path)
    meta = rec.meta
    return (f"{path} ({len(rec.calls)} calls; Docker Engine {meta.get('engine')} on "
            f"{meta.get('os')}, {meta.get('date')})")


def record_all(out: str | Path | None = None, *, folder: Path | None = None,
               only: Iterable[str] = ()) -> int:
    """Record every notebook on the live engine. ``python -m course_helpers record [--out DIR]``.

    Args:
        out: the folder for the recordings; by default the package's
            ``recordings/<engine version>/`` (``28.5``: what the replay backend reads).
        folder: where the notebooks are; by default the checkout's ``notebooks/``.
        only: notebook stems to record (all when empty).

    Returns:
        0 when every notebook was recorded.

    Raises:
        EngineUnavailable: no engine answers (recording needs one).
        CourseError: a notebook failed; the others were still recorded.
    """
    version = _require_engine()
    out = Path(out).resolve() if out else RECORDINGS / set_name(version)
    wanted = set(only)
    books = [nb for nb in notebooks(folder) if not wanted or nb.stem in wanted]
    if not books:
        raise CourseError(f"No notebooks to record in {folder or NOTEBOOKS}: add chapters first.")
    print(f"Recording {len(books)} notebook(s) on Docker Engine {version} into {out}", flush=True)
    failed = []
    for nb in books:
        start = time.monotonic()
        try:
            written = record_notebook(nb, out)
        except CourseError as exc:
            print(f"  FAILED {exc}", flush=True)
            failed.append(nb.name)
            continue
        took = time.monotonic() - start
        if not written:
            print(f"  {nb.name}: no recording (it opens no Lab) [{took:.1f} s]", flush=True)
        for path in written:
            print(f"  wrote {summary(path)} [{took:.1f} s]", flush=True)
    if failed:
        raise CourseError(
            f"{len(failed)} notebook(s) could not be recorded ({', '.join(failed)}): fix them "
            f"so that they pass live and run `{RECORD_COMMAND}` again."
        )
    return 0


# -- what two recordings of the same notebooks must share --------------------

def _walk(value: Any) -> Iterable[Any]:
    """Every value inside a decoded result (itself included)."""
    yield value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(k)
            yield from _walk(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _walk(v)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _walk(getattr(value, f.name))


def _network_names(value: Any) -> set[str]:
    """Names of Docker networks mentioned by a result (listings, inspect data, bridges)."""
    names = set()
    for item in _walk(value):
        if isinstance(item, dict):
            for key in ("Name", "name", "network"):
                if isinstance(item.get(key), str) and ("Driver" in item or "driver" in item
                                                       or "Scope" in item or "scope" in item):
                    names.add(item[key])
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            fields = {f.name for f in dataclasses.fields(item)}
            if "driver" in fields or "network_id" in fields:
                for key in ("name", "network"):
                    if isinstance(getattr(item, key, None), str):
                        names.add(getattr(item, key))
    return names


def _mode_shape(snap: Any) -> list[str] | str:
    """What a mode's interface list must look like in every run on any engine.

    bridge, none and container: the interface names in order (``lo``, ``eth0``);
    host: the host's own interfaces differ by machine, so only that its
    loopback is there and that it sees a bridge (docker0).
    """
    if snap.mode != "host":
        return list(snap.names)
    kinds = {i.kind for i in snap.interfaces}
    return f"host namespace: lo={'lo' in snap.names}, bridge={'bridge' in kinds}"


def structure(rec: Recording) -> dict[str, Any]:
    """What must not change between two live recordings of the same notebook.

    Returns:
        ``calls``: the recorded functions' names in call order (the calls replay
        will be asked for); ``modes``: per mode, the interface shapes seen
        (see :func:`_mode_shape`); ``default_networks``: which of Docker's default
        networks the results mention; ``errors``: the recorded refusals' classes,
        in order; ``problems``: broken invariants (container mode not sharing its
        target's namespace …).
    """
    modes: dict[str, list[Any]] = {}
    snapshots = []
    networks: set[str] = set()
    errors = []
    for _key, raw in rec.calls:
        if isinstance(raw, dict) and "__raise__" in raw:
            errors.append(raw["__raise__"])
            continue
        result = decode(raw)
        for item in _walk(result):
            if type(item).__name__ == "ModeSnapshot":
                snapshots.append(item)
        networks |= _network_names(result)
    for snap in snapshots:
        shape = _mode_shape(snap)
        if shape not in modes.setdefault(snap.mode, []):
            modes[snap.mode].append(shape)
    problems = []
    by_id = {s.container_id: s for s in snapshots}
    for snap in snapshots:
        if snap.mode == "container":
            target = by_id.get(snap.target_id)
            if target is not None and target.netns != snap.netns:
                problems.append(f"container mode ({snap.container}) does not share the network "
                                f"namespace of its target {snap.target}")
        if snap.mode == "none" and snap.names != ["lo"]:
            problems.append(f"none mode sees {snap.names}, not only lo")
    host_ns = {s.netns for s in snapshots if s.mode == "host"}
    if len(host_ns) > 1:
        problems.append("host-mode containers saw different namespaces")
    for snap in snapshots:
        if snap.mode in ("bridge", "none") and snap.netns in host_ns:
            problems.append(f"{snap.mode} mode ({snap.container}) shares the host's namespace")
    return {
        "calls": rec.names,
        "modes": {mode: sorted(shapes, key=json.dumps) for mode, shapes in sorted(modes.items())},
        "default_networks": sorted(networks & set(DEFAULT_NETWORKS)),
        "errors": errors,
        "problems": problems,
    }


def compare(shipped: Recording, fresh: Recording) -> list[str]:
    """How a shipped recording differs from a fresh live one, in what must not change.

    Args:
        shipped: the recording the package ships (what replay serves).
        fresh: one made just now on a live engine from the same notebook.

    Returns:
        One line per difference; empty when the shipped recording is still good.
    """
    old, new = structure(shipped), structure(fresh)
    diffs = [f"shipped: {p}" for p in old["problems"]]
    if old["calls"] != new["calls"]:
        pairs = zip(old["calls"], new["calls"], strict=False)
        at = next((i for i, (a, b) in enumerate(pairs) if a != b),
                  min(len(old["calls"]), len(new["calls"])))
        diffs.append(
            f"the notebook now makes other engine calls: call #{at} was "
            f"{(old['calls'][at:at + 1] or ['(none)'])[0]}, is now "
            f"{(new['calls'][at:at + 1] or ['(none)'])[0]} "
            f"({len(old['calls'])} calls recorded, {len(new['calls'])} now)"
        )
    for mode in sorted(set(old["modes"]) | set(new["modes"])):
        if old["modes"].get(mode) != new["modes"].get(mode):
            diffs.append(f"{mode} mode: recorded {old['modes'].get(mode)}, "
                         f"now {new['modes'].get(mode)}")
    if old["default_networks"] != new["default_networks"]:
        diffs.append(f"default networks: recorded {old['default_networks']}, "
                     f"now {new['default_networks']}")
    if old["errors"] != new["errors"]:
        diffs.append(f"refusals: recorded {old['errors']}, now {new['errors']}")
    return diffs


def stale_message(chapter: str, diffs: list[str]) -> str:
    """The one sentence a stale recording fails with."""
    return (f"The shipped recording {chapter}.json is stale ({'; '.join(diffs)}): re-record "
            f"on a live engine with `{RECORD_COMMAND}` and commit course_helpers/recordings/.")
