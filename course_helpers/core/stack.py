"""The engine's stack, parsed once from ``GET /version`` and ``GET /info``.

Introduced in chapter 00 (setup: the engine's facts); chapter 04 draws it (the
architecture, then and now). Similar to ``docker version`` plus ``docker info``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .replay import replayable

#: The storage "driver-type" ``docker info`` reports when containerd's image store is in use.
SNAPSHOTTER_TYPE = "io.containerd.snapshotter.v1"


@replayable
@dataclass(frozen=True)
class EngineStack:
    """The layers of the engine, as ``docker version`` and ``docker info`` report them.

    Attributes:
        engine_version: dockerd's version; api_version / min_api_version: the REST API's range.
        os / kernel / arch: the engine host (``Docker Desktop`` as os on Desktop).
        storage_driver: the graph driver (``overlay2`` …); backing_fs: what it sits on.
        containerd_snapshotter: True when images live in containerd's image store.
        network_plugins: the network drivers built in (``bridge``, ``host``, ``null`` …).
        volume_plugins: the volume drivers.
        runtimes: the OCI runtimes dockerd knows; default_runtime: the one ``docker run`` uses.
        containerd_version / runc_version / init_version: the components' versions.
        cgroup_driver / cgroup_version: how resources are limited.
        rootless: the daemon runs without root.
        live_restore: containers keep running while dockerd is stopped or upgraded
            (``"live-restore": true`` in ``daemon.json``; off by default).
        registry: the host of the default registry ``docker pull`` would use
            (``index.docker.io``); the course never contacts it.
    """

    engine_version: str
    api_version: str
    min_api_version: str
    os: str
    kernel: str
    arch: str
    storage_driver: str
    backing_fs: str
    containerd_snapshotter: bool
    network_plugins: tuple[str, ...]
    volume_plugins: tuple[str, ...]
    runtimes: tuple[str, ...]
    default_runtime: str
    containerd_version: str
    runc_version: str
    init_version: str
    cgroup_driver: str
    cgroup_version: str
    rootless: bool
    live_restore: bool = False
    registry: str = ""

    @property
    def docker_desktop(self) -> bool:
        """True on Docker Desktop (the engine then runs in a Linux VM)."""
        return "docker desktop" in self.os.lower()

    def rows(self) -> list[tuple[str, str]]:
        """(layer, what the engine reports) rows, top to bottom."""
        return [
            ("REST API", f"{self.api_version} (oldest accepted {self.min_api_version})"),
            ("dockerd", f"Docker Engine {self.engine_version}, live-restore "
                        f"{'on' if self.live_restore else 'off'}"),
            ("storage driver", f"{self.storage_driver} on {self.backing_fs or '?'}"
             + (" (containerd image store)" if self.containerd_snapshotter else "")),
            ("network drivers", ", ".join(self.network_plugins)),
            ("containerd", self.containerd_version),
            ("runtimes", f"{', '.join(self.runtimes)} (default {self.default_runtime})"),
            ("runc", self.runc_version),
            ("kernel", f"{self.kernel}, cgroup v{self.cgroup_version} ({self.cgroup_driver})"),
            ("registry", f"{self.registry or '?'} (default for pulls; not contacted here)"),
        ]


def stack_from(version: dict[str, Any], info: dict[str, Any]) -> EngineStack:
    """Build an :class:`EngineStack` from ``GET /version`` and ``GET /info`` answers.

    Args:
        version: what ``docker version --format '{{json .Server}}'`` returns.
        info: what ``docker info --format '{{json .}}'`` returns.
    """
    components = {c.get("Name", ""): c.get("Version", "")
                  for c in version.get("Components") or []}
    status = {k: v for k, v in (info.get("DriverStatus") or []) if isinstance(k, str)}
    plugins = info.get("Plugins") or {}
    security = " ".join(info.get("SecurityOptions") or [])
    return EngineStack(
        engine_version=str(version.get("Version", "")),
        api_version=str(version.get("ApiVersion", "")),
        min_api_version=str(version.get("MinAPIVersion", "")),
        os=str(info.get("OperatingSystem", "")),
        kernel=str(info.get("KernelVersion", version.get("KernelVersion", ""))),
        arch=str(info.get("Architecture", version.get("Arch", ""))),
        storage_driver=str(info.get("Driver", "")),
        backing_fs=str(status.get("Backing Filesystem", "")),
        containerd_snapshotter=status.get("driver-type") == SNAPSHOTTER_TYPE,
        network_plugins=tuple(plugins.get("Network") or ()),
        volume_plugins=tuple(plugins.get("Volume") or ()),
        runtimes=tuple(sorted(info.get("Runtimes") or {})),
        default_runtime=str(info.get("DefaultRuntime", "")),
        containerd_version=str(components.get("containerd")
                               or (info.get("ContainerdCommit") or {}).get("ID", "")),
        runc_version=str(components.get("runc")
                         or (info.get("RuncCommit") or {}).get("ID", "")),
        init_version=str(components.get("docker-init", "")),
        cgroup_driver=str(info.get("CgroupDriver", "")),
        cgroup_version=str(info.get("CgroupVersion", "")),
        rootless="rootless" in security,
        live_restore=bool(info.get("LiveRestoreEnabled")),
        registry=urlsplit(str(info.get("IndexServerAddress") or "")).hostname or "",
    )
