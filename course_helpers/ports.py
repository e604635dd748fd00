"""Publishing a port: a course web server on 127.0.0.1, and the NAT rule behind it.

Introduced in chapter 05 (going further, beyond the source). Similar to::

    docker run -d -p 127.0.0.1::80 IMAGE httpd -f -p 80 -h /www
    docker port CONTAINER 80
    curl http://127.0.0.1:HOSTPORT/index.html
    iptables -t nat -S DOCKER          # on the engine's host, as root

The page is fetched over loopback only; the rules are only read.
"""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import firewall
from .architecture import read_proc
from .engine import translated
from .errors import BadInput, CourseError
from .replay import recorded, replayable

if TYPE_CHECKING:
    from .lab import Lab

#: The port busybox httpd listens on inside the container.
CONTAINER_PORT = 80
#: How long the first fetch may wait for httpd to be listening (seconds).
READY_WITHIN = 5.0


@replayable
@dataclass(frozen=True)
class Published:
    """A course web server and where Docker published it.

    Attributes:
        name / id: the container.
        container_port: ``80/tcp``.
        host_ip / host_port: where it is published (``127.0.0.1`` and a port Docker chose).
        container_ip: its address on the default bridge.
        cli: the equivalent ``docker run``.
    """

    name: str
    id: str
    container_port: str
    host_ip: str
    host_port: int
    container_ip: str
    cli: str


@replayable
@dataclass(frozen=True)
class Fetched:
    """One HTTP GET over loopback: status and body."""

    url_path: str
    status: int
    body: str


@replayable
@dataclass(frozen=True)
class NatView:
    """The NAT side of a published port, read on the engine's host.

    Attributes:
        readable: True when the rules could be read here (root, on the engine's host).
        reason: when not readable, why.
        dnat_rule: the ``DOCKER`` chain's DNAT rule for this port, with the port and
            addresses replaced by ``HOSTPORT``, ``HOSTIP`` and ``CONTAINERIP``.
        output_skips_loopback: the ``OUTPUT`` rule that sends local traffic to ``DOCKER``
            excludes ``127.0.0.0/8``.
        proxy_args: the userland ``docker-proxy`` for this port, if one runs (same
            replacements), else ``()``.
    """

    readable: bool
    reason: str = ""
    dnat_rule: str = ""
    output_skips_loopback: bool = False
    proxy_args: tuple[str, ...] = ()


def binding_from(ports: dict, container_port: str = f"{CONTAINER_PORT}/tcp") -> tuple[str, int]:
    """``(host ip, host port)`` of a port binding in ``docker inspect``'s ``NetworkSettings.Ports``.

    Raises:
        CourseError: the port is not published.
    """
    for binding in ports.get(container_port) or []:
        if binding.get("HostPort"):
            return binding.get("HostIp", ""), int(binding["HostPort"])
    raise CourseError(f"Port {container_port} is not published: start the web server with "
                      "ports={'80/tcp': ('127.0.0.1', None)}.")


@recorded
def start_web(lab: Lab) -> Published:
    """Start busybox httpd in a course container, published on 127.0.0.1 at a random port.

    Similar to ``docker run -d -p 127.0.0.1::80 IMAGE httpd -f -p 80 -h /www``.

    Args:
        lab: the session that owns the container.
    """
    ref = lab.start_container(
        "web", command=["httpd", "-f", "-p", str(CONTAINER_PORT), "-h", "/www"],
        ports={f"{CONTAINER_PORT}/tcp": ("127.0.0.1", None)})
    with translated(f"inspect {ref.name}"):
        settings = lab.client.api.inspect_container(ref.id)["NetworkSettings"]
    host_ip, host_port = binding_from(settings.get("Ports") or {})
    bridge = (settings.get("Networks") or {}).get("bridge") or {}
    return Published(ref.name, ref.id, f"{CONTAINER_PORT}/tcp", host_ip, host_port,
                     bridge.get("IPAddress", ""),
                     f"docker run -d -p 127.0.0.1::{CONTAINER_PORT} {lab.image} "
                     f"httpd -f -p {CONTAINER_PORT} -h /www")


@recorded
def fetch(lab: Lab, published: Published, path: str = "/index.html") -> Fetched:
    """GET a page from the published port over loopback. Similar to ``curl http://127.0.0.1:PORT/``.

    Until httpd listens (a fraction of a second after start) the connection is
    retried, for at most :data:`READY_WITHIN` seconds.

    Raises:
        BadInput: the port is not published on a loopback address.
        CourseError: nothing answered in time.
    """
    if published.host_ip not in ("127.0.0.1", "::1"):
        raise BadInput(f"{published.name} is published on {published.host_ip}: the course "
                       "only fetches over loopback (publish on 127.0.0.1).")
    deadline = time.monotonic() + READY_WITHIN
    while True:
        conn = http.client.HTTPConnection(published.host_ip, published.host_port, timeout=2)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return Fetched(path, response.status, response.read().decode(errors="replace"))
        except (ConnectionError, http.client.HTTPException, OSError) as exc:
            if time.monotonic() > deadline:
                raise CourseError(
                    f"Nothing answered at {published.host_ip}:{published.host_port} ({exc}): "
                    "if the engine runs on another machine, fetch the page there.") from None
            time.sleep(0.05)  # httpd is still starting: try again
        finally:
            conn.close()


def normalise(text: str, published: Published) -> str:
    """A rule or command line with this port's numbers replaced by placeholders."""
    return (text.replace(f"{published.container_ip}:", "CONTAINERIP:")
            .replace(published.container_ip, "CONTAINERIP")
            .replace(str(published.host_port), "HOSTPORT")
            .replace(published.host_ip, "HOSTIP"))


def nat_from(docker_chain: str, output_chain: str, published: Published,
             proxies: list[tuple[str, ...]]) -> NatView:
    """Pick this port's rule and proxy out of ``iptables -S`` text and process arguments.

    Args:
        docker_chain: ``iptables -t nat -S DOCKER``.
        output_chain: ``iptables -t nat -S OUTPUT``.
        published: the port.
        proxies: argument lists of the running ``docker-proxy`` processes.
    """
    target = f"--to-destination {published.container_ip}:{CONTAINER_PORT}"
    rule = next((line for line in docker_chain.splitlines()
                 if "DNAT" in line and f"--dport {published.host_port} " in line + " "
                 and target in line), "")
    skips = any("-j DOCKER" in line and "! -d 127.0.0.0/8" in line
                for line in output_chain.splitlines())
    if not rule:
        return NatView(False, "this host's iptables hold no DNAT rule for the port: the engine "
                              "may run rootless (its rules live in its own namespace) or with "
                              "iptables disabled")
    proxy = next((args for args in proxies
                  if str(published.host_port) in args and published.container_ip in args), ())
    return NatView(
        readable=True, dnat_rule=normalise(rule, published), output_skips_loopback=skips,
        proxy_args=tuple(normalise(a, published) for a in proxy[1:]),
    )


@recorded
def nat_rules(lab: Lab, published: Published) -> NatView:
    """Read the NAT rule (and userland proxy) behind a published port, when possible here.

    Similar to ``iptables -t nat -S DOCKER`` and ``ps -eo args | grep docker-proxy`` on
    the engine's host, as root.

    Returns:
        The view; ``readable=False`` with the reason when this notebook is not
        root on the engine's host (Docker Desktop, a remote or rootless engine).
    """
    with translated(f"inspect {published.name}"):
        pid = int(lab.client.api.inspect_container(published.id)["State"].get("Pid") or 0)
    reason = firewall.why_unreadable(pid, published.id)
    if reason:
        return NatView(False, reason)
    proxies = [p.argv for p in read_proc().values() if p.name == "docker-proxy"]
    return nat_from(firewall.rules("nat", "DOCKER"), firewall.rules("nat", "OUTPUT"),
                    published, proxies)
