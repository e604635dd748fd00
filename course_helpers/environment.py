"""What the course runs on: the engine, the image, live or replay.

Introduced in chapter 00 (setup). Similar to ``docker version`` and
``docker info`` reduced to the facts the chapters depend on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .replay import recorded, replayable

if TYPE_CHECKING:
    from .lab import Lab


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
    version = lab.client.version()
    info = lab.client.info()
    security = " ".join(info.get("SecurityOptions") or [])
    return EngineFacts(
        version=str(version.get("Version", "")),
        api_version=str(version.get("ApiVersion", "")),
        os=str(info.get("OperatingSystem", "")),
        kernel=str(info.get("KernelVersion", "")),
        storage_driver=str(info.get("Driver", "")),
        cgroup_version=str(info.get("CgroupVersion", "")),
        rootless="rootless" in security,
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
        built_offline: True when it carries the label ``docker import`` gave it
            (False for a pulled busybox).
        size: its size in bytes.
    """

    id: str
    tags: tuple[str, ...]
    built_offline: bool
    size: int


@recorded
def course_image(lab: Lab) -> ImageFacts:
    """The course image, read from the engine. Similar to ``docker image inspect IMAGE``."""
    from .image import IMAGE_LABEL

    data = lab.client.api.inspect_image(lab.image)
    labels = (data.get("Config") or {}).get("Labels") or {}
    return ImageFacts(
        id=str(data.get("Id", "")),
        tags=tuple(data.get("RepoTags") or ()),
        built_offline=labels.get(IMAGE_LABEL) == "busybox",
        size=int(data.get("Size") or 0),
    )


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
