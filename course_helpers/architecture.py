"""The engine's architecture, read live: the stack behind ``docker run``, then and now.

Introduced in chapter 04 (Docker平台架构图解, the platform's architecture). The
source draws Docker as it was before 2016 (engine jobs, graph driver,
execdriver, libcontainer). This module reads today's stack from the engine
itself, similar to ``docker version`` and ``docker info``, and finds the
processes behind a running container in ``/proc`` on the engine's host,
similar to ``ps -o pid,ppid,args`` there.
"""

from __future__ import annotations

import html
import os
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .core import firewall
from .core.engine import translated
from .core.procfs import Proc, ancestors, read_proc
from .core.replay import recorded, replayable
from .core.stack import EngineStack, stack_from

if TYPE_CHECKING:
    from .core.lab import ContainerRef, Lab



def version_tuple(version: str) -> tuple[int, ...]:
    """The leading numbers of a version: ``"28.5.2+dfsg1"`` -> ``(28, 5, 2)``; ``()`` if none."""
    match = re.match(r"v?(\d+(?:\.\d+)*)", version.strip())
    return tuple(int(p) for p in match.group(1).split(".")) if match else ()


def version_at_least(version: str, minimum: str) -> bool:
    """True when an engine version is ``minimum`` or newer (``"26.1.5+dfsg1"``, ``"28.0"``).

    Args:
        version: as ``docker version`` reports the engine's (``Server.Version``).
        minimum: the first version with the behaviour, e.g. ``"28.0"``.

    Raises:
        ValueError: ``version`` has no leading number (an unknown engine cannot be placed).
    """
    found = version_tuple(version)
    if not found:
        raise ValueError(f"not an engine version: {version!r}")
    return found >= version_tuple(minimum)


@recorded
def engine_stack(lab: Lab) -> EngineStack:
    """The engine's layers and their versions. Similar to ``docker version`` + ``docker info``.

    Args:
        lab: a live or replaying session.
    """
    with translated("read docker version and docker info"):
        return stack_from(lab.client.version(), lab.client.info())


def shim_binary_for(runtime: str) -> str:
    """The shim binary containerd starts for a runtime name (containerd's naming rule).

    ``io.containerd.runc.v2`` -> ``containerd-shim-runc-v2``. Names that are not of
    the form ``io.containerd.<name>.<version>`` are returned unchanged.
    """
    parts = runtime.split(".")
    if len(parts) == 4 and parts[:2] == ["io", "containerd"]:
        return f"containerd-shim-{parts[2]}-{parts[3]}"
    return runtime


def runc_shim(stack: EngineStack) -> str:
    """The shim program of the engine's runc runtime (``containerd-shim-runc-v2``), from
    the runtimes ``docker info`` lists."""
    runtime = next((r for r in stack.runtimes if r.startswith("io.containerd.runc")),
                   "io.containerd.runc.v2")
    return shim_binary_for(runtime)


# -- processes on the engine's host ---------------------------------------------

@replayable
@dataclass(frozen=True)
class ProcessChain:
    """The processes behind one running container, found in the engine host's ``/proc``.

    Attributes:
        visible: True when this notebook sees the engine host's processes.
        reason: when not visible, why (Docker Desktop's VM, a remote engine …).
        container_pid: the container's first process, as ``docker inspect`` reports it.
        container_command: that process's name (``sleep`` …).
        parent: the name of its parent process (``containerd-shim-runc-v2``).
        parent_args: the parent's arguments with the container id as ``{id}``.
        parent_has_id: the parent's arguments name this container's id.
        containerd_namespace: the containerd namespace the shim serves (``moby``).
        runc_running: a ``runc`` process for this container still runs.
        daemons: which of ``dockerd`` and ``containerd`` run on the host.
        shim_parent: the name of the shim's own parent process: not ``containerd``
            (which started it) but, once the shim has detached itself, the host's
            first process or a subreaper.
        shim_parent_pid: that parent's pid.
        init_name: the name of PID 1 on the engine's host (``systemd``, ``init`` …).
        shim_adopted: the shim's parent is PID 1 or an ancestor of ``containerd``: the
            only processes the kernel hands an orphan to (an ancestor only if it made
            itself a subreaper).
    """

    visible: bool
    reason: str = ""
    container_pid: int = 0
    container_command: str = ""
    parent: str = ""
    parent_args: tuple[str, ...] = ()
    parent_has_id: bool = False
    containerd_namespace: str = ""
    runc_running: bool = False
    daemons: tuple[str, ...] = ()
    shim_parent: str = ""
    shim_parent_pid: int = 0
    init_name: str = ""
    shim_adopted: bool = False


def chain_from(procs: dict[int, Proc], container_pid: int, container_id: str,
               cgroup_text: str) -> ProcessChain:
    """Find the shim, runc and the daemons around a container in a process table.

    Args:
        procs: the process table (:func:`read_proc`).
        container_pid: the container's first process, from ``docker inspect``.
        container_id: the container's full id.
        cgroup_text: ``/proc/<container_pid>/cgroup`` (and its mountinfo: see
            :func:`course_helpers.firewall.container_traces`); it names the
            container when this process table is the engine host's own.

    Returns:
        The chain, or ``visible=False`` with the reason.
    """
    me = procs.get(container_pid)
    if not container_pid or me is None or container_id not in cgroup_text:
        return ProcessChain(
            visible=False,
            reason="this notebook cannot see the engine host's processes: the engine runs "
                   "in another machine or VM (Docker Desktop, a remote engine) or this "
                   "notebook runs in its own PID namespace")
    parent = procs.get(me.ppid)
    grandparent = procs.get(parent.ppid) if parent else None
    argv = parent.argv if parent else ()
    namespace = argv[argv.index("-namespace") + 1] if "-namespace" in argv[:-1] else ""
    shim_parent_pid = parent.ppid if parent else 0
    containerds = [p.pid for p in procs.values() if p.name == "containerd"]
    above = {a for c in containerds for a in ancestors(procs, c)}
    return ProcessChain(
        visible=True,
        container_pid=container_pid,
        container_command=me.name,
        parent=Path(argv[0]).name if argv else (parent.name if parent else ""),
        parent_args=tuple(a.replace(container_id, "{id}") for a in argv[1:]),
        parent_has_id=container_id in argv,
        containerd_namespace=namespace,
        runc_running=any(p.name.startswith("runc") and any(container_id in a for a in p.argv)
                         for p in procs.values()),
        daemons=tuple(sorted({p.name for p in procs.values()
                              if p.name in ("dockerd", "containerd")})),
        shim_parent=grandparent.name if grandparent else "",
        shim_parent_pid=shim_parent_pid,
        init_name=procs[1].name if 1 in procs else "",
        shim_adopted=shim_parent_pid == 1 or shim_parent_pid in above,
    )


@recorded
def process_chain(lab: Lab, container: ContainerRef) -> ProcessChain:
    """The processes behind a running course container, read from ``/proc``.

    Similar to ``docker inspect -f '{{.State.Pid}}' C`` and then, on the engine's
    host, ``ps -o pid,ppid,args -p PID`` and the same for its parent.

    Args:
        lab: the session that owns the container.
        container: a running container of this session.

    Returns:
        The chain; ``visible=False`` (with the reason) when the engine's host is
        not this machine.
    """
    with translated(f"inspect {container.name}"):
        state = lab.client.api.inspect_container(container.id)["State"]
    pid = int(state.get("Pid") or 0)
    procs = read_proc() if os.path.isdir("/proc") else {}
    return chain_from(procs, pid, container.id, firewall.container_traces(pid))


# -- then and now --------------------------------------------------------------

#: How each part of the source's picture fares today.
STILL_HERE, REPLACED, GONE = "still here", "replaced", "gone"
#: The exec driver's successor was looked for and not found (the container's parent is no shim).
UNCONFIRMED = "not confirmed here"
#: What a row's status rests on: something read from this engine, or only the record.
SEEN, HISTORY = "checked", "history"


def then_and_now(stack: EngineStack, chain: ProcessChain | None = None,
                 client_agent: str = "") -> list[dict[str, str]]:
    """The source's components (its pre-2016 picture) beside what replaced them, with live values.

    A status is tied to live evidence where this engine can show it, and marked
    :data:`HISTORY` where only the record can (nothing live shows that a part is gone):

    * the client and the server are still here when the traced run's ``User-Agent``
      and ``docker version``'s API version were read;
    * the exec driver is gone, replaced by containerd and one shim per container, when
      the running container's parent process is a ``containerd-shim`` (when the
      engine's processes are visible; otherwise that is history too, and when the
      parent is something else the status is :data:`UNCONFIRMED`);
    * libcontainer is replaced by runc when ``docker version`` lists runc;
    * the registry is still here when ``docker info`` names one;
    * the Job engine, the Graph and the built-in network driver: history.

    Args:
        stack: :func:`engine_stack`.
        chain: :func:`process_chain` of a running container, if one was read.
        client_agent: the ``User-Agent`` of a traced ``docker run``.

    Returns:
        Rows with keys ``source`` (the source's name), ``status`` (:data:`STILL_HERE`,
        :data:`REPLACED`, :data:`GONE` or :data:`UNCONFIRMED`), ``basis`` (:data:`SEEN`
        or :data:`HISTORY`), ``then`` (the design the source shows; for parts that
        changed, history with its years), ``changed`` (the Docker version and year of
        the change; empty for parts still here), ``now`` (today's design), ``live``
        (what this engine reports; empty when nothing live corresponds) and
        ``checked`` (how this notebook checked the status, or why it could not).
    """
    def seen(evidence: object) -> str:
        return SEEN if evidence else HISTORY

    visible = bool(chain and chain.visible)
    shim_seen = visible and chain is not None and chain.parent.startswith("containerd-shim")
    shim = chain.parent if visible and chain else "(not visible from here)"
    record = "no: history (Docker's record); nothing of it is left to look at"
    exec_check = ("yes: the running container's parent process is " + shim if shim_seen
                  else f"looked: the container's parent is {shim}, not a shim" if visible
                  else "no: this notebook cannot see the engine's processes")
    return [
        {"source": "Docker Client", "status": STILL_HERE, "basis": seen(client_agent),
         "then": "the docker binary, which was also the daemon (`docker -d`) until 2016",
         "changed": "Docker 1.12 (2016): dockerd split off",
         "now": "the docker CLI, talking HTTP to dockerd (its own binary since Docker 1.12)",
         "live": client_agent,
         "checked": ("yes: the User-Agent of the traced docker run" if client_agent
                     else "no: no docker run was traced")},
        {"source": "Docker Server (router, handlers)", "status": STILL_HERE,
         "basis": seen(stack.api_version),
         "then": "the daemon's HTTP API server", "changed": "",
         "now": "dockerd's REST API",
         "live": f"API {stack.api_version}, dockerd {stack.engine_version}",
         "checked": ("yes: docker version names the API" if stack.api_version
                     else "no: docker version names no API")},
        {"source": "Engine / Job", "status": GONE, "basis": HISTORY,
         "then": "HISTORY: every task ran as a named engine Job (2013-2015)",
         "changed": "2015",
         "now": "removed in 2015: API handlers call the daemon's Go methods directly",
         "live": "", "checked": record},
        {"source": "Graph / GraphDriver", "status": REPLACED, "basis": HISTORY,
         "then": "HISTORY: images stored as a graph of layers with random ids (to 2016)",
         "changed": "Docker 1.10 (2016)",
         "now": "content-addressed image store (Docker 1.10, 2016) over a storage driver; "
                "containerd snapshotters on fresh Engine 29+ installs",
         "live": stack.storage_driver + (" (containerd image store)"
                                         if stack.containerd_snapshotter else ""),
         "checked": "no: history; docker info names today's storage driver"},
        {"source": "Docker Registry", "status": STILL_HERE, "basis": seen(stack.registry),
         "then": "where images were pulled from", "changed": "",
         "now": "registries speaking the OCI distribution API; Docker Hub by default",
         "live": (f"{stack.registry} (the default for docker pull; the course pulls "
                  "nothing from it)" if stack.registry else ""),
         "checked": ("yes: docker info names the default registry" if stack.registry
                     else "no: docker info names no registry")},
        {"source": "NetworkDriver", "status": REPLACED, "basis": HISTORY,
         "then": "HISTORY: bridge set-up code built into the daemon (to Docker 1.6, 2015)",
         "changed": "Docker 1.7 (2015)",
         "now": "libnetwork (Docker 1.7, 2015) and its drivers; `docker network` since 1.9",
         "live": ", ".join(stack.network_plugins),
         "checked": "no: history; docker info lists today's network drivers"},
        {"source": "ExecDriver", "status": GONE if shim_seen or not visible else UNCONFIRMED,
         "basis": seen(visible),
         "then": "HISTORY: native/lxc exec drivers inside the daemon (to Docker 1.10)",
         "changed": "Docker 1.11 (2016)",
         "now": "containerd plus one shim per container (Docker 1.11, 2016)",
         "live": f"containerd {stack.containerd_version}; parent of the container: {shim}",
         "checked": exec_check},
        {"source": "libcontainer", "status": REPLACED, "basis": seen(stack.runc_version),
         "then": "HISTORY: Docker's Go library that made namespaces and cgroups",
         "changed": "2015: donated to the OCI",
         "now": "runc, the OCI runtime built from libcontainer (donated 2015)",
         "live": f"runc {stack.runc_version}; runtimes {', '.join(stack.runtimes)}",
         "checked": ("yes: docker version lists runc" if stack.runc_version
                     else "no: docker version lists no runc")},
    ]


def checked_summary(rows: list[dict[str, str]], lab: Lab) -> list[str]:
    """Two lines: the parts whose status the engine's answers back, and those only Docker's
    record shows (HISTORY).

    A part that is gone or replaced counts as checked when what replaced it was found.
    Live, the first line says "checked on your engine"; in replay, "checked in the
    recorded run". Nothing is asked of the engine.

    Args:
        rows: :func:`then_and_now`.
        lab: the session (live or replay).
    """
    def fate(row: dict[str, str]) -> str:
        if row["status"] in (GONE, REPLACED):
            return f"{row['status']}: what replaced it was found"
        return row["status"]

    where = "checked on your engine" if lab.is_live else "checked in the recorded run"
    checked = [f"{r['source']} ({fate(r)})" for r in rows if r["basis"] == SEEN]
    history = [f"{r['source']} ({r['status']})" for r in rows if r["basis"] == HISTORY]
    return [f"{where}: " + ", ".join(checked),
            "from Docker's record only (HISTORY): " + ", ".join(history)]


#: The columns of :func:`then_and_now_table`: (heading, the row keys it shows).
COLUMNS = (("what", ("source", "status")),
           ("then (changed in)", ("then", "changed")),
           ("now (this engine)", ("now", "live")),
           ("checked here", ("checked",)))
#: The same columns' headings in replay, where no engine answers.
REPLAY_HEADINGS = ("what", "then (changed in)", "now (the recorded engine)",
                   "checked in the recorded run")
_STATUS_COLOUR = {STILL_HERE: "#009E73", REPLACED: "#E69F00", GONE: "#777777",
                  UNCONFIRMED: "#D55E00"}


@dataclass(frozen=True)
class ThenAndNowTable:
    """:func:`then_and_now` as a table: an HTML table in JupyterLab, aligned text elsewhere.

    One row per part of the source's picture; the columns are :data:`COLUMNS` (headed
    :data:`REPLAY_HEADINGS` in replay, where ``live`` is False).
    """

    rows: tuple[dict[str, str], ...]
    live: bool = True

    @property
    def headings(self) -> tuple[str, ...]:
        """The column headings: :data:`COLUMNS`' live, :data:`REPLAY_HEADINGS` in replay."""
        return tuple(h for h, _ in COLUMNS) if self.live else REPLAY_HEADINGS

    @property
    def here(self) -> str:
        """How the engine's own value is introduced: ``here:`` live, ``recorded:`` in replay."""
        return "here" if self.live else "recorded"

    def _cells(self, row: dict[str, str]) -> list[tuple[str, str]]:
        """(main text, the smaller line under it) for each column."""
        return [(row["source"], row["status"]),
                (row["then"], f"changed: {row['changed']}" if row["changed"] else "unchanged"),
                (row["now"], f"{self.here}: {row['live']}" if row["live"] else ""),
                (row["checked"], "")]

    def __repr__(self) -> str:
        widths = (20, 30, 34, 30)
        lines = ["  ".join(f"{h:<{w}}" for h, w in zip(self.headings, widths,
                                                       strict=True)).rstrip(),
                 "  ".join("-" * w for w in widths)]
        for row in self.rows:
            wrapped = [textwrap.wrap(main, w) + textwrap.wrap(f"[{small}]" if small else "", w)
                       for (main, small), w in zip(self._cells(row), widths, strict=True)]
            for k in range(max(len(c) for c in wrapped)):
                lines.append("  ".join(f"{(c[k] if k < len(c) else ''):<{w}}"
                                       for c, w in zip(wrapped, widths, strict=True)).rstrip())
            lines.append("")
        return "\n".join(lines).rstrip()

    def _repr_html_(self) -> str:
        cell = "padding:4px 8px;vertical-align:top;text-align:left;border-top:1px solid #ccc"
        head = "".join(f"<th style='{cell}'>{html.escape(h)}</th>" for h in self.headings)
        body = []
        for row in self.rows:
            (source, status), (then, changed), (now, live), (checked, _) = self._cells(row)
            colour = _STATUS_COLOUR.get(status, "#000000")
            history = row["then"].startswith("HISTORY")
            seen = row["basis"] == SEEN
            tds = [
                f"<b>{html.escape(source)}</b><br><span style='color:{colour};"
                f"font-weight:bold'>{html.escape(status)}</span>",
                ("<small><b>HISTORY</b></small> " if history else "")
                + _code(then.removeprefix("HISTORY: "))
                + f"<br><small>{html.escape(changed)}</small>",
                _code(now) + (f"<br><small>{self.here}: <code>{html.escape(row['live'])}</code>"
                              "</small>" if live else ""),
                f"<span style='color:{'#009E73' if seen else '#555555'}'>"
                f"{'✓ ' if seen else ''}{html.escape(checked)}</span>",
            ]
            body.append("<tr class='dnc-then-now-row'>"
                        + "".join(f"<td style='{cell}'>{td}</td>" for td in tds) + "</tr>")
        return (f"<table class='dnc-then-now' style='border-collapse:collapse;font-size:90%'>"
                f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def _code(text: str) -> str:
    """Escape text; show `backticks` as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def then_and_now_table(rows: list[dict[str, str]], lab: Lab | None = None) -> ThenAndNowTable:
    """The rows of :func:`then_and_now` as a table, one row per part of the source's picture.

    Columns: what (the source's name and how it fared), then (with the Docker version
    that changed it), now (with what this engine reports) and how this notebook checked
    it. Shown as an HTML table in JupyterLab and as aligned text where HTML is not shown.

    Args:
        rows: :func:`then_and_now`.
        lab: the session; in replay the headings say the values come from the recorded run.

    Returns:
        The table; display it as the cell's last expression.
    """
    return ThenAndNowTable(tuple(rows), live=lab is None or lab.is_live)
