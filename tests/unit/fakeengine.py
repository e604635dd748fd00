"""One fake Docker engine for unit tests: docker-py's client methods the course calls,
answered from memory.

Modelled on docker-py's own ``tests/unit/fake_api_client.py``: a client object
whose methods return the engine's JSON shapes (``{"Id": …}``, ``{"State": …}``)
and raise docker-py's own ``APIError`` subclasses with the engine's status and
words, so the course's error translation runs unchanged. Unlike docker-py's
fake, it keeps state (containers and networks come and go), so a real
:class:`~course_helpers.Lab` can run on it without an engine:
``Lab("99_test", client=FakeDockerClient(), backend="live")``.

Every call is logged in ``api.calls`` as ``(method, first argument)``. A
container's ``exec`` answers come from ``api.exec_answers`` (the command joined
by spaces -> ``(exit code, output)``), by default ``(0, "")``.
"""

from __future__ import annotations

import itertools
import socket
import threading
from types import SimpleNamespace
from typing import Any

import docker.errors
import requests

#: The networks every engine starts with: name -> driver (``docker network ls``).
PREDEFINED = {"bridge": "bridge", "host": "host", "none": "null"}


def api_error(status: int, explanation: str) -> docker.errors.APIError:
    """The error docker-py raises for an HTTP ``status`` with the engine's words."""
    response = requests.Response()
    response.status_code = status
    cls = docker.errors.NotFound if status == 404 else docker.errors.APIError
    return cls(f"{status} Client Error", response=response, explanation=explanation)


def frame(data: bytes, stream: int = 1) -> bytes:
    """One frame of a multiplexed ``docker exec`` stream (stdout = 1, stderr = 2)."""
    return bytes([stream, 0, 0, 0]) + len(data).to_bytes(4, "big") + data


class FakeAPIClient:
    """The low-level client (``client.api``): containers, networks, execs in memory."""

    def __init__(self, version: str = "28.5.2", api_version: str = "1.51") -> None:
        self.version_info = {"Version": version, "ApiVersion": api_version,
                             "Os": "linux", "Arch": "amd64"}
        self.info_data = {"OperatingSystem": "Fake Linux", "Driver": "overlay2"}
        self.containers_by_id: dict[str, dict[str, Any]] = {}
        self.networks_by_id: dict[str, dict[str, Any]] = {
            f"{name}-id".ljust(64, "0"): {"Id": f"{name}-id".ljust(64, "0"), "Name": name,
                                          "Driver": driver, "Labels": {}}
            for name, driver in PREDEFINED.items()
        }
        self.execs: dict[str, tuple[int, str]] = {}
        self.exec_answers: dict[str, tuple[int, str]] = {}
        #: What a container prints as it starts, by the start of its ``sh -c`` script.
        self.start_answers: dict[str, str] = {}
        self.calls: list[tuple[str, Any]] = []
        self.hooks: dict[str, list] = {"response": []}
        self.timeout = 60
        self._ids = itertools.count(1)
        self._mutex = threading.Lock()

    # -- helpers -------------------------------------------------------------------
    def _new_id(self, kind: str) -> str:
        return f"{kind}{next(self._ids):04d}".ljust(64, "f")

    def log(self, method: str, arg: Any = None) -> None:
        with self._mutex:
            self.calls.append((method, arg))

    def _container(self, ref: str) -> dict[str, Any]:
        for cid, data in self.containers_by_id.items():
            if ref in (cid, data["Name"].lstrip("/")):
                return data
        raise api_error(404, f"No such container: {ref}")

    def respond(self, method: str, path: str, status: int) -> None:
        """Tell the response hooks (``client.api.hooks["response"]``) about one request."""
        response = SimpleNamespace(status_code=status, request=SimpleNamespace(
            method=method, path_url=f"/v{self.version_info['ApiVersion']}{path}"))
        for hook in list(self.hooks.get("response", [])):
            hook(response)

    def _network(self, ref: str) -> dict[str, Any]:
        for nid, data in self.networks_by_id.items():
            if ref in (nid, data["Name"]):
                return data
        raise api_error(404, f"network {ref} not found")

    @staticmethod
    def _matches(labels: dict[str, str], filters: dict[str, Any] | None) -> bool:
        for wanted in (filters or {}).get("label", []):
            key, _, value = wanted.partition("=")
            if key not in labels or (value and labels[key] != value):
                return False
        return True

    # -- the engine ----------------------------------------------------------------
    def version(self) -> dict[str, Any]:
        self.log("version")
        return dict(self.version_info)

    def info(self) -> dict[str, Any]:
        self.log("info")
        return dict(self.info_data)

    # -- containers ----------------------------------------------------------------
    def create_host_config(self, **options: Any) -> dict[str, Any]:
        return dict(options)

    def create_container(self, image: str, command: Any = None, *, name: str,
                         host_config: dict[str, Any], labels: dict[str, str] | None = None,
                         **options: Any) -> dict[str, str]:
        self.log("create_container", name)
        if any(c["Name"] == f"/{name}" for c in self.containers_by_id.values()):
            raise api_error(409, f'Conflict. The container name "/{name}" is already in use')
        cid = self._new_id("c")
        self.containers_by_id[cid] = {
            "Id": cid, "Name": f"/{name}", "Image": image, "Command": command,
            "Labels": dict(labels or {}), "HostConfig": host_config, "Options": options,
            "State": {"Status": "created"},
        }
        return {"Id": cid}

    def attach_socket(self, container: str, params: dict[str, Any] | None = None) -> Any:
        """``docker attach``: the container's output from its start on (see
        :attr:`start_answers`), then end of stream."""
        self.log("attach", container)
        ours, theirs = _socketpair()
        self._container(container)["Attached"] = ours
        return theirs

    def start(self, container: str) -> None:
        self.log("start", container)
        data = self._container(container)
        data["State"]["Status"] = "running"
        attached = data.pop("Attached", None)
        if attached is not None:
            script = (data["Command"] or ["", "", ""])[-1]
            printed = next((out for start, out in self.start_answers.items()
                            if script.startswith(start)), "")
            attached.sendall(frame(printed.encode()))
            attached.close()

    def inspect_container(self, container: str) -> dict[str, Any]:
        self.log("inspect_container", container)
        data = self._container(container)
        return {**data, "Config": {"Labels": data["Labels"]}}

    def containers(self, all: bool = False, filters: dict[str, Any] | None = None) -> list[dict]:
        self.log("containers", filters)
        return [{"Id": cid, "Names": [c["Name"]], "Labels": c["Labels"]}
                for cid, c in self.containers_by_id.items()
                if (all or c["State"]["Status"] == "running")
                and self._matches(c["Labels"], filters)]

    def remove_container(self, container: str, force: bool = False) -> None:
        self.log("remove_container", container)
        data = self._container(container)
        del self.containers_by_id[data["Id"]]

    def wait(self, container: str, timeout: int | None = None, condition: str = "") -> dict:
        self.log("wait", container)
        return {"StatusCode": 0}

    # -- exec ----------------------------------------------------------------------
    def exec_create(self, container: str, cmd: list[str]) -> dict[str, str]:
        self.log("exec_create", cmd)
        data = self._container(container)
        if data["State"]["Status"] != "running":
            raise api_error(409, f"Container {data['Id']} is not running")
        exec_id = self._new_id("e")
        self.execs[exec_id] = self.exec_answers.get(" ".join(cmd), (0, ""))
        return {"Id": exec_id}

    def exec_start(self, exec_id: str, socket: bool = False) -> Any:  # noqa: A002 - docker-py's name
        self.log("exec_start", exec_id)
        ours, theirs = _socketpair()
        ours.sendall(frame(self.execs[exec_id][1].encode()))
        ours.close()
        return theirs

    def exec_inspect(self, exec_id: str) -> dict[str, Any]:
        return {"ExitCode": self.execs[exec_id][0], "Running": False}

    # -- networks ------------------------------------------------------------------
    def networks(self, names: Any = None, ids: Any = None,
                 filters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        self.log("networks", filters)
        return [dict(n) for n in self.networks_by_id.values()
                if self._matches(n["Labels"], filters)]

    def create_network(self, name: str, driver: str | None = None, *,
                       labels: dict[str, str] | None = None, check_duplicate: bool = False,
                       **options: Any) -> dict[str, str]:
        self.log("create_network", name)
        if check_duplicate and any(n["Name"] == name for n in self.networks_by_id.values()):
            raise api_error(409, f"network with name {name} already exists")
        nid = self._new_id("n")
        self.networks_by_id[nid] = {"Id": nid, "Name": name, "Driver": driver or "bridge",
                                    "Labels": dict(labels or {}), "Options": options}
        return {"Id": nid}

    def inspect_network(self, net_id: str) -> dict[str, Any]:
        self.log("inspect_network", net_id)
        try:
            data = dict(self._network(net_id))
        except docker.errors.APIError as exc:
            self.respond("GET", f"/networks/{net_id}", exc.status_code)
            raise
        self.respond("GET", f"/networks/{net_id}", 200)
        return data

    def remove_network(self, net_id: str) -> None:
        self.log("remove_network", net_id)
        data = self._network(net_id)
        if data["Name"] in PREDEFINED:
            self.respond("DELETE", f"/networks/{net_id}", 403)
            raise api_error(403, f"{data['Name']} is a pre-defined network and cannot be removed")
        del self.networks_by_id[data["Id"]]
        self.respond("DELETE", f"/networks/{net_id}", 204)


def _socketpair() -> tuple[socket.socket, socket.socket]:
    return socket.socketpair()


class FakeImages:
    """``client.images``: the course image is always there (no import, no pull)."""

    def __init__(self, api: FakeAPIClient) -> None:
        self.api = api

    def get(self, name: str) -> SimpleNamespace:
        self.api.log("images.get", name)
        return SimpleNamespace(tags=[name])

    def list(self, name: str | None = None) -> list[SimpleNamespace]:
        return [SimpleNamespace(tags=[f"{name}:1.0"])] if name else []


class FakeDockerClient:
    """``docker.DockerClient`` with a :class:`FakeAPIClient` underneath."""

    def __init__(self, **engine: str) -> None:
        self.api = FakeAPIClient(**engine)
        self.images = FakeImages(self.api)

    def version(self) -> dict[str, Any]:
        return self.api.version()

    def info(self) -> dict[str, Any]:
        return self.api.info()
