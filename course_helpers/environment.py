"""What the course runs on: the engine, the image, live or replay.

Introduced in chapter 00 (setup). Similar to ``docker version`` and
``docker info`` reduced to the facts the chapters depend on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .core.engine import translated
from .core.replay import recorded, replayable
from .core.stack import stack_from

if TYPE_CHECKING:
    from .core.lab import Lab


@replayable
@dataclass(frozen=True)
class EngineFacts:
    """The engine facts the chapters depend on.

    Attributes:
        version: the engine's version, e.g. ``20.10.24+dfsg1``.
        api_version: the API version the engine speaks.
        os: the engine host's operating system (``Docker Desktop`` on Desktop).
        kernel: the engine host's kernel version.
        storage_driver: ``overlay2`` …
        cgroup_version: ``1`` or ``2``.
        rootless: True when the engine runs rootless.
        image: the course image the chapters run.
        memory_limit: whether the engine can enforce ``--memory`` (rootless
            engines without cgroup delegation cannot).
        pids_limit: whether the engine can enforce ``--pids-limit``.
    """

    version: str
    api_version: str
    os: str
    kernel: str
    storage_driver: str
    cgroup_version: str
    rootless: bool
    image: str
    memory_limit: bool = True
    pids_limit: bool = True

    @property
    def major(self) -> int:
        """The engine's major version number (20 for 20.10.24)."""
        match = re.match(r"(\d+)", self.version)
        return int(match.group(1)) if match else 0

    @property
    def docker_desktop(self) -> bool:
        """True when the engine is Docker Desktop's (the 'host' is then a VM)."""
        return "docker desktop" in self.os.lower()

    @property
    def mac_from_ip(self) -> bool:
        """True for engines that derive a bridge container's MAC from its IPv4 (before 28)."""
        return self.major < 28

    def rows(self) -> list[tuple[str, str]]:
        """(fact, value) rows for a table."""
        return [
            ("engine version", self.version),
            ("API version", self.api_version),
            ("operating system", self.os),
            ("kernel", self.kernel),
            ("storage driver", self.storage_driver),
            ("cgroup version", self.cgroup_version),
            ("rootless", "yes" if self.rootless else "no"),
            ("Docker Desktop", "yes" if self.docker_desktop else "no"),
            ("course image", self.image),
        ]


@recorded
def engine_facts(lab: Lab) -> EngineFacts:
    """The engine's facts. Similar to ``docker version`` plus ``docker info``.

    Args:
        lab: a live or replaying session.

    Returns:
        The facts, read live (or from the recording in replay).
    """
    with translated("ask for the engine's version and info"):
        version = lab.client.version()
        info = lab.client.info()
    stack = stack_from(version, info)  # one reading of /version and /info for every chapter
    return EngineFacts(
        version=stack.engine_version,
        api_version=stack.api_version,
        os=stack.os,
        kernel=stack.kernel,
        storage_driver=stack.storage_driver,
        cgroup_version=stack.cgroup_version,
        rootless=stack.rootless,
        image=lab.image,
        memory_limit=bool(info.get("MemoryLimit", True)),
        pids_limit=bool(info.get("PidsLimit", True)),
    )


@replayable
@dataclass(frozen=True)
class ImageFacts:
    """The course image as the engine knows it. Similar to ``docker image inspect IMAGE``.

    Attributes:
        id: the image id.
        tags: its repository:tag names.
        built_offline: True when it carries the label the course's ``docker import``
            gave it (False for a pulled busybox).
        size: its size in bytes.
        imported: True when the engine's own history of the image says ``docker
            import`` made it (``docker history`` comment ``Imported from -``).
        layers: how many file-system layers the engine stores for it.
    """

    id: str
    tags: tuple[str, ...]
    built_offline: bool
    size: int
    imported: bool = False
    layers: int = 0


def imported_by_history(history: list[dict]) -> bool:
    """Whether ``docker history`` entries say ``docker import`` made the image.

    The engine writes the comment ``Imported from -`` (``-``: the tar came on stdin;
    a URL or file name otherwise) on the one layer ``docker import`` creates; a
    pulled image carries its build steps instead.

    >>> imported_by_history([{"Comment": "Imported from -", "CreatedBy": ""}])
    True
    >>> imported_by_history([{"Comment": "", "CreatedBy": '/bin/sh -c #(nop)  CMD ["sh"]'}])
    False
    """
    return any(str(h.get("Comment") or "").startswith("Imported from") for h in history)


@recorded
def course_image(lab: Lab) -> ImageFacts:
    """The course image, read from the engine.

    Similar to ``docker image inspect IMAGE`` plus ``docker history IMAGE``.
    """
    from .core.image import IMAGE_LABEL

    with translated("inspect the course image"):
        data = lab.client.api.inspect_image(lab.image)
        history = lab.client.api.history(lab.image)
    labels = (data.get("Config") or {}).get("Labels") or {}
    return ImageFacts(
        id=str(data.get("Id", "")),
        tags=tuple(data.get("RepoTags") or ()),
        built_offline=labels.get(IMAGE_LABEL) == "busybox",
        size=int(data.get("Size") or 0),
        imported=imported_by_history(history),
        layers=len((data.get("RootFS") or {}).get("Layers") or ()),
    )


@recorded
def session_containers(lab: Lab) -> list[str]:
    """Names of the containers the engine finds under this session's label.

    Similar to ``docker ps -a --filter label=io.github.docker-networking-course.session=ID
    --format '{{.Names}}'``: the engine itself matches the labels it stored, which is
    what the course's clean-up relies on.

    Args:
        lab: a live or replaying session.

    Returns:
        The names, sorted.
    """
    from .core.sessions import course_selector

    with translated("list this session's containers"):
        found = lab.client.api.containers(all=True, filters=course_selector(lab.session))
    return sorted(name.lstrip("/") for c in found for name in (c.get("Names") or ())[:1])


def mac_for_ipv4(ip: str) -> str:
    """The MAC Engines before 28 give a bridge container: ``02:42:`` + the IPv4 in hex.

    >>> mac_for_ipv4("172.17.0.2")
    '02:42:ac:11:00:02'
    """
    return "02:42:" + ":".join(f"{int(part):02x}" for part in ip.split("."))


@replayable
@dataclass(frozen=True)
class ContainerSettings:
    """How a container was started: what ``docker inspect`` says about its limits.

    Attributes:
        memory: the memory limit in bytes (0 for none).
        pids_limit: the process limit (0 or None for none).
        privileged: whether it runs privileged.
        auto_remove: whether Docker removes it when it exits (``--rm``).
        command: the command it runs.
        mounts: the host paths mounted into it.
        security_opt: security options (``no-new-privileges`` …).
    """

    memory: int
    pids_limit: int | None
    privileged: bool
    auto_remove: bool
    command: tuple[str, ...]
    mounts: tuple[str, ...]
    security_opt: tuple[str, ...]


@recorded
def container_settings(lab: Lab, container: object) -> ContainerSettings:
    """A container's limits and start options. Similar to ``docker inspect CONTAINER``.

    Args:
        lab: a live or replaying session.
        container: a ContainerRef, name or id.
    """
    ref = getattr(container, "id", container)
    with translated(f"inspect container {ref}"):
        data = lab.client.api.inspect_container(ref)
    host = data.get("HostConfig") or {}
    config = data.get("Config") or {}
    return ContainerSettings(
        memory=int(host.get("Memory") or 0),
        pids_limit=host.get("PidsLimit"),
        privileged=bool(host.get("Privileged")),
        auto_remove=bool(host.get("AutoRemove")),
        command=tuple(config.get("Cmd") or ()),
        mounts=tuple(m.get("Source", "") for m in data.get("Mounts") or ()),
        security_opt=tuple(host.get("SecurityOpt") or ()),
    )


#: CAP_SYS_ADMIN's bit in a capability mask: set for ``--privileged`` containers.
CAP_SYS_ADMIN = 21

#: Run inside a container: its cgroup limits (v2 paths, then v1), PID 1's status, every
#: process's command line, and whether a Docker socket is there. One ``key value`` line each.
INSIDE_SCRIPT = (
    "for f in memory.max memory/memory.limit_in_bytes; do "
    '[ -r /sys/fs/cgroup/$f ] && echo "memory $(cat /sys/fs/cgroup/$f)" && break; done; '
    "for f in pids.max pids/pids.max; do "
    '[ -r /sys/fs/cgroup/$f ] && echo "pids $(cat /sys/fs/cgroup/$f)" && break; done; '
    "grep -E '^(CapEff|NoNewPrivs):' /proc/1/status; "
    "for p in /proc/[0-9]*; do echo \"proc $(tr '\\0' ' ' < $p/cmdline)\"; done 2>/dev/null; "
    "for s in /var/run/docker.sock /run/docker.sock; do [ -e $s ] && echo \"socket $s\"; done; "
    "true"
)

#: cgroup v1 reports "no memory limit" as a huge number near 2**63.
_V1_UNLIMITED = 2**62


@replayable
@dataclass(frozen=True)
class InsideView:
    """What the kernel enforces on a container, read from inside it.

    Attributes:
        memory_max: the cgroup's memory limit in bytes (None: no limit, or no file).
        pids_max: the cgroup's process limit (None: no limit, or no file).
        cap_eff: PID 1's effective capabilities (``CapEff`` in /proc/1/status).
        no_new_privs: PID 1's ``NoNewPrivs`` flag.
        processes: every process's command line (the ``docker exec`` shell that read
            them included).
        sockets: Docker socket paths present in its file system.
    """

    memory_max: int | None
    pids_max: int | None
    cap_eff: int
    no_new_privs: bool
    processes: tuple[str, ...]
    sockets: tuple[str, ...] = ()

    @property
    def sleeps(self) -> list[int]:
        """The seconds of every ``sleep N`` process: the timers that end the container."""
        argvs = [p.split() for p in self.processes]
        return [int(a[1]) for a in argvs if len(a) == 2 and a[0].rsplit("/", 1)[-1] == "sleep"
                and a[1].isdigit()]

    @property
    def sys_admin(self) -> bool:
        """True when PID 1 holds CAP_SYS_ADMIN (as a ``--privileged`` container's does)."""
        return bool(self.cap_eff >> CAP_SYS_ADMIN & 1)


def _limit(value: str) -> int | None:
    number = int(value) if value.isdigit() else None
    return None if number is None or number >= _V1_UNLIMITED else number


def parse_inside(text: str) -> InsideView:
    r"""Read what :data:`INSIDE_SCRIPT` printed.

    >>> v = parse_inside("memory 33554432\npids 64\nCapEff:\t00000000a80425fb\n"
    ...                  "NoNewPrivs:\t1\nproc sleep 900 \nproc sh -c ip addr \n")
    >>> (v.memory_max, v.pids_max, v.no_new_privs, v.sys_admin, v.sleeps, v.sockets)
    (33554432, 64, True, False, [900], ())
    >>> v = parse_inside("memory max\npids 9223372036854771712\nsocket /run/docker.sock\n")
    >>> (v.memory_max, v.pids_max, v.sockets)
    (None, None, ('/run/docker.sock',))
    """
    found: dict[str, str] = {}
    sockets, processes = [], []
    for line in text.splitlines():
        match = re.match(r"([\w]+):?\s*(.*)", line)  # "memory 33554432", "CapEff:\t00…"
        if match and match[1] == "socket":
            sockets.append(match[2].strip())
        elif match and match[1] == "proc":
            processes.append(match[2].strip())
        elif match:
            found[match[1]] = match[2].strip()
    return InsideView(
        memory_max=_limit(found.get("memory", "")),
        pids_max=_limit(found.get("pids", "")),
        cap_eff=int(found.get("CapEff", "0") or "0", 16),
        no_new_privs=found.get("NoNewPrivs") == "1",
        processes=tuple(processes),
        sockets=tuple(sockets),
    )


@recorded
def seen_inside(lab: Lab, container: object) -> InsideView:
    """The limits the kernel enforces on a container, read from inside it.

    Similar to ``docker exec CONTAINER cat /sys/fs/cgroup/memory.max /proc/1/status``
    (cgroup v1: ``memory/memory.limit_in_bytes`` and ``pids/pids.max``): the kernel's
    side of what ``docker inspect`` says Docker was asked for.

    Args:
        lab: a live or replaying session.
        container: a ContainerRef, name or id of a running container.
    """
    return parse_inside(lab.exec(container, INSIDE_SCRIPT))
