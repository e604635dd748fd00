"""Reading Docker's iptables rules on the engine's host, when this notebook may.

Introduced in chapter 05 (going further: the NAT behind a published port, the
outbound MASQUERADE, the isolation between networks and the embedded DNS's
redirect inside a container). Similar to ``sudo iptables -t TABLE -S CHAIN``
on the engine's host, and ``sudo nsenter -t PID -n iptables …`` for a
container's own network namespace. Only reads; never changes a rule.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

_CANDIDATES = ("/usr/sbin/iptables", "/sbin/iptables")


def container_traces(container_pid: int) -> str:
    """``/proc/PID/cgroup`` and ``/proc/PID/mountinfo`` of a container's first process.

    Either names the container's full id when this process table is the engine
    host's own: the cgroup on most engines, the bind mounts of the container's
    ``hostname`` and ``hosts`` files where containers get no cgroup of their own
    (a rootless engine on cgroup v1). Empty when the process cannot be read.
    """
    if not container_pid:
        return ""
    found = []
    for name in ("cgroup", "mountinfo"):
        try:
            found.append(Path(f"/proc/{container_pid}/{name}").read_text())
        except OSError:
            continue
    return "\n".join(found)


def runs_on_engine_host(container_pid: int, container_id: str) -> bool:
    """True when this process sees the engine host's processes.

    The container's first process (``docker inspect -f '{{.State.Pid}}'``) is
    looked up in this machine's ``/proc``; its cgroup or its mounts
    (:func:`container_traces`) name the container only when that table is the
    engine host's own.
    """
    return bool(container_pid) and container_id in container_traces(container_pid)


def readable_from(lab, container_id: str, name: str) -> tuple[int, str]:
    """A course container's first process and why the host's rules cannot be read from
    here (``""`` when they can). Similar to ``docker inspect -f '{{.State.Pid}}' NAME``,
    then :func:`why_unreadable`.
    """
    from .engine import translated

    with translated(f"inspect {name}"):
        pid = container_pid(lab.client, container_id)
    return pid, why_unreadable(pid, container_id)


def why_unreadable(container_pid: int, container_id: str) -> str:
    """Why the host's iptables cannot be read from here, or ``""`` when they can."""
    if not runs_on_engine_host(container_pid, container_id):
        return ("this notebook does not run on the engine's host (Docker Desktop, a remote "
                "engine, or its own PID namespace), so the host's iptables cannot be read here")
    if os.geteuid() != 0:
        return "reading the host's iptables needs root, and this notebook does not run as root"
    if iptables_binary() is None:
        return "the iptables tool is not installed here"
    return ""


def iptables_binary() -> str | None:
    """The ``iptables`` program, or None."""
    return shutil.which("iptables") or next((p for p in _CANDIDATES if os.path.exists(p)), None)


def rules(table: str, chain: str, host_pid: int = 0) -> str:
    """``iptables -w -t TABLE -S CHAIN`` on the engine's host (empty when the chain does not exist).

    Args:
        table: ``nat``, ``raw``, ``filter`` …
        chain: the chain to list.
        host_pid: a process in the engine host's network namespace (a host-mode
            container's, see :func:`container_pid`): the rules are read there, as
            ``nsenter -t PID -n iptables …`` does, so they are the engine host's even
            when this notebook's kernel runs in a namespace of its own. 0 reads this
            process's own namespace.
    """
    if host_pid:
        return rules_in_netns(host_pid, table, chain)
    binary = iptables_binary()
    if binary is None:
        return ""
    done = subprocess.run([binary, "-w", "-t", table, "-S", chain], capture_output=True,
                          text=True, timeout=10, check=False)
    return done.stdout


def engine_host_pid(lab) -> int:
    """A process in the engine host's network namespace: the session's host-mode container's.

    Similar to ``docker inspect -f '{{.State.Pid}}' PROBE`` for a container run with
    ``--network host``; :func:`rules` reads the host's iptables in that namespace.

    Args:
        lab: a live :class:`~course_helpers.core.lab.Lab` (its host probe is started
            on first use).
    """
    return lab.with_host_probe(lambda probe: container_pid(lab.client, probe.id))


def container_pid(client, container_id: str) -> int:
    """A container's first process, as the engine host numbers it (0 when not running).

    Similar to ``docker inspect -f '{{.State.Pid}}' CONTAINER``.
    """
    return int(client.api.inspect_container(container_id)["State"].get("Pid") or 0)


def rules_in_netns(pid: int, table: str, chain: str) -> str:
    """``nsenter -t PID -n iptables -w -t TABLE -S CHAIN``: the rules of a process's network
    namespace (a container's, by its first process); empty when they cannot be read."""
    binary, nsenter = iptables_binary(), shutil.which("nsenter")
    if binary is None or nsenter is None or not pid:
        return ""
    done = subprocess.run([nsenter, "-t", str(pid), "-n", binary, "-w", "-t", table, "-S", chain],
                          capture_output=True, text=True, timeout=10, check=False)
    return done.stdout if done.returncode == 0 else ""
