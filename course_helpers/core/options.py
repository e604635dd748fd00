"""What a course container or network may be asked for: pure checks, no engine.

Introduced in chapter 00 (setup): every course container is labelled, limited and
self-expiring, whatever a learner passes. :func:`container_request` builds what
``POST /containers/create`` is sent from an allow-list alone, so the safety of
every option can be tested without an engine.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from typing import Any

from . import sessions
from .errors import BadInput, shorten

#: Seconds a course container lives before it exits and removes itself.
DEFAULT_LIFETIME = 900
#: The longest lifetime a Lab accepts (one day): every course container expires.
MAX_LIFETIME = 24 * 3600
#: Seconds ``lab.exec`` waits for a command by default, and at most.
EXEC_TIMEOUT = 20
MAX_EXEC_TIMEOUT = 600
#: Names Docker accepts for containers and networks (and the course for ``name=``).
DOCKER_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}")
#: Host names (``hostname=``) and environment variable names (``environment=``).
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOSTNAME = re.compile(rf"{_LABEL}(\.{_LABEL})*")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
#: The options ``start_container`` accepts, and what each is for; every other is refused.
ALLOWED_OPTIONS = {
    "name": "your own name for it",
    "network_mode": "bridge, host, none, container:NAME or a network's name",
    "command": "what it runs, within its lifetime",
    "labels": "labels added to the course's",
    "ports": "ports published on 127.0.0.1",
    "hostname": "its host name",
    "environment": "environment variables",
}
#: The ``create_network`` options the course accepts; every other is refused.
NETWORK_OPTIONS = ("name", "driver", "internal", "labels", "ipam", "attachable",
                   "enable_ipv6", "check_duplicate")
#: Network drivers a course network may use (a bridge needs nothing of the host's NICs).
NETWORK_DRIVERS = ("bridge",)
#: PID 1 of every course container: runs the command in the background and ends when it
#: ends, or kills it (SIGKILL) once the lifetime is over, whichever comes first. PID 1
#: ending stops the container (its other processes with it), and ``--rm`` removes it.
#: A command cannot escape: it is never PID 1, and the entrypoint cannot be changed.
LIFETIME_SCRIPT = ('lifetime=$1; shift; "$@" & pid=$!; '
                   '(sleep "$lifetime"; kill -9 "$pid") 2>/dev/null & wait "$pid"')
#: Resource limits of every course container.
MEM_LIMIT = "32m"
PIDS_LIMIT = 64
#: How ``docker stop`` (and an engine shutting down) stops a course container: ``sleep``
#: as PID 1 ignores SIGTERM, so Docker's default would only wait 10 s before killing it.
STOP_SIGNAL = "SIGKILL"
#: The networks every engine starts with, and their drivers (``docker network ls``).
DEFAULT_NETWORKS = {"bridge": "bridge", "host": "host", "none": "null"}
#: Options fixed for every course container (limits, labels' safety net, expiry).
FIXED_OPTIONS = ("mem_limit", "pids_limit", "security_opt", "auto_remove", "image",
                 "entrypoint", "stop_signal")
#: What a role (the word in a name) may hold: what Docker allows in names.
ROLE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,40}")
#: Generated names tried before giving up when a learner's object holds the name.
NAME_ATTEMPTS = 20



def allowed_sentence() -> str:
    return ", ".join(f"{key} ({what})" for key, what in ALLOWED_OPTIONS.items())


def check_lifetime(lifetime: Any) -> int:
    """``lifetime`` as seconds, if it is a whole number from 1 to :data:`MAX_LIFETIME`.

    Raises:
        BadInput: anything else.
    """
    if isinstance(lifetime, bool) or not isinstance(lifetime, int) \
            or not 1 <= lifetime <= MAX_LIFETIME:
        raise BadInput(
            f"lifetime is {shorten(lifetime)}: pass a whole number of seconds from 1 to "
            f"{MAX_LIFETIME} (one day; the default is {DEFAULT_LIFETIME})."
        )
    return lifetime


def check_role(role: Any) -> str:
    """``role`` if it can go into a name.

    Raises:
        BadInput: it holds characters Docker does not allow in names.
    """
    if not isinstance(role, str) or not ROLE.fullmatch(role):
        raise BadInput(
            f"The role {shorten(role)} cannot go into a name: use letters, digits, '.', '_' "
            "or '-' (up to 41 characters), such as role='web'."
        )
    return role


def check_command(command: Any) -> list[str]:
    if isinstance(command, str):
        try:
            command = shlex.split(command)
        except ValueError:
            command = None
    if not isinstance(command, (list, tuple)) or not command \
            or not all(isinstance(part, str) and "\x00" not in part for part in command):
        raise BadInput(
            f"command is {shorten(command)}: pass a list of strings such as "
            "['sh', '-c', 'httpd -f -p 80'] (it runs within the container's lifetime)."
        )
    return list(command)


def check_ports(ports: Any) -> dict[str, list[tuple[str, int | None]]]:
    example = "ports={'80/tcp': ('127.0.0.1', None)}"
    if not isinstance(ports, dict) or not ports:
        raise BadInput(f"ports is {shorten(ports)}: pass a dict such as {example}.")
    bindings: dict[str, list[tuple[str, int | None]]] = {}
    for key, value in ports.items():
        match = re.fullmatch(r"(\d{1,5})(?:/(tcp|udp|sctp))?", str(key))
        if isinstance(key, bool) or not match or not 1 <= int(match[1]) <= 65535:
            raise BadInput(f"The port {shorten(key)} is not a container port: use a number "
                           f"with an optional /tcp or /udp, as in {example}.")
        values = value if isinstance(value, list) else [value]
        checked = []
        for binding in values:
            ok = isinstance(binding, tuple) and len(binding) == 2 \
                and isinstance(binding[0], str) \
                and (binding[1] is None or (isinstance(binding[1], int)
                                            and not isinstance(binding[1], bool)
                                            and 1 <= binding[1] <= 65535))
            try:
                loopback = ok and ipaddress.ip_address(binding[0]).is_loopback
            except ValueError:
                loopback = False
            if not loopback:
                raise BadInput(
                    f"The port {key} would be published as {shorten(binding)}: course "
                    f"containers publish on loopback only, as in {example} (None picks a "
                    "free host port)."
                )
            checked.append(binding)
        bindings[f"{match[1]}/{match[2] or 'tcp'}"] = checked
    return bindings


def check_network_mode(network_mode: Any) -> str | None:
    if network_mode is None:
        return None  # Docker's default: the default bridge, as `docker run` with no --network
    if isinstance(network_mode, str):
        mode = network_mode.strip()
        if mode in ("bridge", "host", "none", "default"):
            return mode
        if mode.startswith("container:"):
            target = mode.split(":", 1)[1].strip()
            if DOCKER_NAME.fullmatch(target.lstrip("/")):
                return f"container:{target.lstrip('/')}"
        elif DOCKER_NAME.fullmatch(mode):
            return mode
    raise BadInput(
        f"network_mode is {shorten(network_mode)}: pass bridge, host, none, "
        "container:NAME (a running container's name or full id) or a network's name or id."
    )


def check_container_options(network_mode: Any = None, command: Any = None,
                            **options: Any) -> dict[str, Any]:
    """Validate ``start_container``'s options against the allow-list, without an engine.

    Only :data:`ALLOWED_OPTIONS` pass; everything else (``privileged``,
    ``volumes``, ``mounts``, ``devices``, ``cap_add``, ``pid_mode``,
    ``entrypoint``, ``restart_policy`` …) is refused in one sentence that names
    what is allowed.

    Returns:
        The checked options: ``network_mode`` (None for Docker's default),
        ``command`` (a list, or None for ``sleep LIFETIME``), ``name``, ``labels``,
        ``ports`` (container port -> loopback bindings), ``hostname``, ``environment``.

    Raises:
        BadInput: an option outside the allow-list, or one of the wrong shape.
    """
    unknown = sorted(set(options) - set(ALLOWED_OPTIONS))
    if unknown:
        names = ", ".join(str(key) for key in unknown)
        if "privileged" in unknown and options.get("privileged"):
            lead = "Course containers never run privileged, so leave out privileged=True"
        elif set(unknown) & {"volumes", "mounts", "volumes_from", "devices"}:
            lead = (f"Course containers never get host paths, devices or the Docker socket, "
                    f"so leave out {names}")
        elif set(unknown) & set(FIXED_OPTIONS):
            lead = (f"{names} cannot be changed for course containers (they keep memory and pid "
                    "limits and remove themselves), so leave those options out")
        else:
            lead = f"start_container() does not take {shorten(names, 80)[1:-1]}"
        raise BadInput(f"{lead}: course containers take only {allowed_sentence()}.")
    checked: dict[str, Any] = {"network_mode": check_network_mode(network_mode),
                               "command": None if command is None else check_command(command)}
    name = options.get("name")
    if name is not None and (not isinstance(name, str) or not DOCKER_NAME.fullmatch(name)):
        raise BadInput(f"name is {shorten(name)}: use letters, digits, '.', '_' or '-' "
                       "(starting with a letter or digit), such as name='web1'.")
    checked["name"] = name
    labels = options.get("labels")
    if labels is not None:
        if not isinstance(labels, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
            raise BadInput(f"labels is {shorten(labels)}: pass a dict of strings such as "
                           "labels={'lesson': 'dns'}.")
        taken = sorted(k for k in labels if k.startswith(sessions.LABEL_PREFIX))
        if taken:
            raise BadInput(f"The label {shorten(taken[0])} is the course's own: choose a label "
                           f"outside {sessions.LABEL_PREFIX}.")
    checked["labels"] = dict(labels or {})
    checked["ports"] = check_ports(options["ports"]) if options.get("ports") is not None else {}
    hostname = options.get("hostname")
    if hostname is not None and (not isinstance(hostname, str) or len(hostname) > 253
                                 or not HOSTNAME.fullmatch(hostname)):
        raise BadInput(f"hostname is {shorten(hostname)}: use letters, digits, '-' and dots, "
                       "such as hostname='web'.")
    checked["hostname"] = hostname
    environment = options.get("environment")
    if environment is not None:
        pairs = (list(environment.items()) if isinstance(environment, dict)
                 else [tuple(e.split("=", 1)) if isinstance(e, str) and "=" in e else (e, None)
                       for e in environment] if isinstance(environment, (list, tuple)) else None)
        if pairs is None or not all(isinstance(k, str) and ENV_NAME.fullmatch(k)
                                    and isinstance(v, str) and "\x00" not in v
                                    for k, v in pairs):
            raise BadInput(f"environment is {shorten(environment)}: pass a dict of strings such "
                           "as environment={'GREETING': 'hello'}.")
        environment = dict(pairs)
    checked["environment"] = environment
    return checked


def container_request(name: str, image: str, lifetime: int, course_labels: dict[str, str],
                      network_mode: Any = None, command: Any = None,
                      **options: Any) -> dict[str, Any]:
    """What ``POST /containers/create`` is sent for a course container, built from the
    allow-list alone (a pure function: no engine is asked).

    Similar to ``docker run -d --rm --memory 32m --pids-limit 64 --security-opt
    no-new-privileges --entrypoint sh IMAGE -c LIFETIME_SCRIPT LIFETIME COMMAND…``:
    the lifetime is enforced by PID 1 whatever the command.

    Args:
        name: the container's name (its own, or the one chosen with ``name=``).
        image: the course image.
        lifetime: seconds before it is killed, whatever it runs (checked).
        course_labels: the course's labels; they override any of the learner's.
        network_mode: see :func:`check_container_options`.
        command: what to run; by default ``sleep LIFETIME``.
        **options: the rest of :data:`ALLOWED_OPTIONS`.

    Returns:
        ``{"create": kwargs of APIClient.create_container, "host_config": kwargs of
        create_host_config, "port_bindings": …}``.

    Raises:
        BadInput: what :func:`check_container_options` refuses, a lifetime out of
            bounds, or a container joining its own network namespace.
    """
    lifetime = check_lifetime(lifetime)
    checked = check_container_options(network_mode, command, name=name, **options)
    mode = checked["network_mode"]
    if mode in (f"container:{name}", f"container:/{name}"):
        raise BadInput(self_join_sentence(name))
    argv = checked["command"] or ["sleep", str(lifetime)]
    host_config: dict[str, Any] = {
        "mem_limit": MEM_LIMIT, "pids_limit": PIDS_LIMIT,
        "security_opt": ["no-new-privileges"], "auto_remove": True,
    }
    if mode is not None:
        host_config["network_mode"] = mode
    create: dict[str, Any] = {
        "image": image,
        "entrypoint": ["sh", "-c", LIFETIME_SCRIPT, "course-lifetime", str(lifetime)],
        "command": argv,
        "name": name,
        "labels": {**checked["labels"], **course_labels},
        "stop_signal": STOP_SIGNAL,
    }
    if checked["hostname"]:
        create["hostname"] = checked["hostname"]
    if checked["environment"]:
        create["environment"] = checked["environment"]
    if checked["ports"]:
        create["ports"] = [tuple(key.split("/")) for key in checked["ports"]]
    return {"create": create, "host_config": host_config, "port_bindings": checked["ports"]}


def self_join_sentence(name: str) -> str:
    return (f"Container {name} cannot join its own network namespace: pass another "
            "running container as the target (network_mode='container:OTHER').")


def check_start(lab: Any, role: Any, *, network_mode: Any = None, command: Any = None,
                 **options: Any) -> None:
    check_role(role)
    check_container_options(network_mode, command, **options)


def check_container_ref(container: Any) -> str:
    ref = container if isinstance(container, str) else getattr(container, "id", None)
    inner = getattr(container, "container", None)
    if ref is None and isinstance(inner, str):  # e.g. what run_in_mode returned
        raise BadInput(
            "That is a snapshot of a mode's run, not a container: pass its .container "
            "(for example lab.exec(joined.container, 'hostname'))."
        )
    if not isinstance(ref, str) or not ref.strip():
        raise BadInput(
            f"{shorten(container)} is not a container: pass what lab.start_container() "
            "returned, or a running container's name or full id."
        )
    return ref.strip()


def check_exec(lab: Any, container: Any, command: Any, *, timeout: Any = None) -> None:
    check_container_ref(container)
    if not (isinstance(command, str) and command.strip()) and not (
            isinstance(command, (list, tuple)) and command
            and all(isinstance(part, str) for part in command)):
        raise BadInput(
            f"The command {shorten(command)} cannot run: pass a string for `sh -c` such as "
            "'ip addr', or a list of strings such as ['ip', 'addr']."
        )
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                or not 0 < timeout <= MAX_EXEC_TIMEOUT):
        raise BadInput(f"timeout is {shorten(timeout)}: pass seconds, more than 0 and at most "
                       f"{MAX_EXEC_TIMEOUT}.")


def check_network_ref(lab: Any, network: Any) -> None:
    ref = network if isinstance(network, str) else getattr(network, "id", None)
    if not isinstance(ref, str) or not ref.strip():
        raise BadInput(
            f"{shorten(network)} does not name a network: pass a network's name or id, "
            "or what lab.create_network() returned."
        )


def check_network_options(role: Any = "net", **options: Any) -> None:
    """Validate ``create_network``'s options against :data:`NETWORK_OPTIONS`, without an engine.

    Raises:
        BadInput: an option outside the list, or a driver other than bridge.
    """
    check_role(role)
    unknown = sorted(set(options) - set(NETWORK_OPTIONS))
    if unknown:
        raise BadInput(
            f"create_network() does not take {shorten(', '.join(map(str, unknown)), 80)[1:-1]}: "
            f"course networks take only {', '.join(NETWORK_OPTIONS)}."
        )
    driver = options.get("driver")
    if driver is not None and driver not in NETWORK_DRIVERS:
        raise BadInput(
            f"The network driver {shorten(driver)} is not one the course uses: leave driver "
            "out or pass driver='bridge' (other drivers need a swarm or the host's own NICs)."
        )
    name = options.get("name")
    if name is not None and (not isinstance(name, str) or not DOCKER_NAME.fullmatch(name)):
        raise BadInput(f"name is {shorten(name)}: use letters, digits, '.', '_' or '-', "
                       "such as name='mynet'.")
    labels = options.get("labels")
    if labels is not None and (not isinstance(labels, dict) or any(
            not isinstance(k, str) or not isinstance(v, str)
            or k.startswith(sessions.LABEL_PREFIX) for k, v in labels.items())):
        raise BadInput(f"labels is {shorten(labels)}: pass a dict of strings outside "
                       f"{sessions.LABEL_PREFIX}, such as labels={{'lesson': 'dns'}}.")
    for flag in ("internal", "attachable", "enable_ipv6", "check_duplicate"):
        if flag in options and not isinstance(options[flag], bool):
            raise BadInput(f"{flag} is {shorten(options[flag])}: pass True or False.")


def check_create_network(lab: Any, role: Any = "net", **options: Any) -> None:
    check_network_options(role, **options)
