"""``parse_ip_addr`` against iproute2's own JSON (``ip -j addr``), live.

For one network namespace at a time, the text of ``ip addr`` (iproute2, or
BusyBox's) and ``ip -j addr`` are read back to back, and every field the
parser returns is compared with the JSON: the host's namespace (with a
short-lived veth pair made richer with labels, lifetimes, peers, an altname …)
and the namespace of a bridge-mode course container, entered with the host's
``nsenter``. The comparison itself (and the model of what BusyBox prints) lives
in ``tests/unit/test_ipaddr.py``, which checks it on stored samples too.

Needs root (``nsenter``, ``ip link add``) and ``/bin/busybox`` on the host.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from course_helpers import Lab
from course_helpers.ipaddr import (
    IP_ADDR_WITH_LINKS,
    by_index,
    by_name,
    parse_ip_addr,
    parse_ip_addr_with_links,
)

pytestmark = pytest.mark.live

_spec = importlib.util.spec_from_file_location(
    "ipaddr_json_oracle", Path(__file__).parents[1] / "unit" / "test_ipaddr.py")
oracle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(oracle)

BUSYBOX = "/bin/busybox"
#: text, JSON, text again: how many tries before the namespace holds still.
ATTEMPTS = 10


def run(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"{' '.join(argv)} failed: {done.stderr.strip()}"
    return done.stdout


def read_consistent(read_text: Callable[[], str], read_json: Callable[[], str]):
    """The text and the JSON of one moment: text, JSON, text; the two texts must agree.

    Other sessions start and stop containers (so veths come and go) and IPv6
    DAD or lifetimes change flags and numbers between two reads; when the
    texts differ, read again.
    """
    for _ in range(ATTEMPTS):
        before = read_text()
        data = json.loads(read_json())
        if read_text() == before:
            return before, data
    pytest.fail(f"the namespace kept changing across {ATTEMPTS} reads of ip addr")


def features(data: list[dict]) -> set[str]:
    """Which of the interesting forms ``ip -j addr`` shows, so a comparison is not vacuous."""
    found = set()
    for j in data:
        flags = set(j["flags"])
        found |= {"same-namespace peer"} if isinstance(j.get("link"), str) else set()
        found |= {"peer in another namespace"} if {"link_index", "link_netnsid"} <= set(j) \
            else set()
        found |= {"master"} if j.get("master") else set()
        found |= {"altname"} if j.get("altnames") else set()
        found |= {"group"} if j.get("group") not in (None, "default") else set()
        found |= {"promisc"} if {"PROMISC", "ALLMULTI"} <= flags else set()
        found |= {"M-DOWN"} & flags
        for a in j.get("addr_info", []):
            found |= {f"{a['family']} peer"} if "address" in a else set()
            found |= {"label"} if a.get("label") not in (None, j["ifname"]) else set()
            found |= {f for f in ("secondary", "dynamic", "noprefixroute", "nodad", "tentative")
                      if a.get(f) is True}
            if a.get("valid_life_time", oracle.FOREVER) != oracle.FOREVER:
                found.add("finite lifetime")
    return found


def named_peer_netns(text: str) -> set[int]:
    """Indexes whose link line names the peer's namespace (``link-netns NAME``) instead of
    its id: iproute2 prints the name when the namespace is named under /run/netns (the
    matrix engines' namespaces are), so the text carries no ``link-netnsid``."""
    found, index = set(), None
    for line in text.splitlines():
        head = re.match(r"(\d+): ", line)
        if head:
            index = int(head.group(1))
        elif index is not None and re.search(r"\slink-netns\s", line):
            found.add(index)
    return found


def compare(text: str, data: list[dict], dialect: str) -> None:
    assert not oracle.unknown_json_keys(data), "ip -j prints keys the oracle does not know"
    busybox = dialect == "busybox"
    parsed = oracle.parsed_view(parse_ip_addr(text), sort_flags=busybox)
    expected = oracle.busybox_view(data) if busybox else oracle.iproute2_view(data)
    named = named_peer_netns(text)
    expected = [{**e, "link_netnsid": None} if e["index"] in named else e for e in expected]
    assert oracle.view_differences(parsed, expected) == [], text


# -- what the namespaces hold -----------------------------------------------------

@pytest.fixture(scope="module")
def host_veths():
    """A veth pair in the host namespace, both ends given unusual addresses; removed after.

    Nothing leaves it: one end is down (so the other has no carrier), IPv4
    addresses come from TEST-NET-2 without prefix routes, IPv6 ones from the
    documentation and unique-local ranges.
    """
    tag = os.getpid() % 100000
    a, b = f"dnct{tag}a", f"dnct{tag}b"
    existing = {j["ifname"] for j in json.loads(run(["ip", "-j", "link"]))}
    if {a, b} & existing:
        pytest.fail(f"{a} or {b} already exists; remove the pair with `ip link del {a}`")
    run(["ip", "link", "add", a, "type", "veth", "peer", "name", b])
    try:
        for argv in (
            ["ip", "link", "set", a, "up"],
            ["ip", "link", "property", "add", "dev", a, "altname", f"dnct{tag}alt"],
            ["ip", "link", "set", b, "group", "7", "promisc", "on", "allmulticast", "on"],
            ["ip", "addr", "add", "198.51.100.7/24", "dev", a, "noprefixroute",
             "valid_lft", "3000", "preferred_lft", "2000", "label", f"{a}:1"],
            ["ip", "addr", "add", "198.51.100.8/24", "dev", a, "noprefixroute"],
            ["ip", "addr", "add", "198.51.100.9", "peer", "198.51.100.10/32", "dev", b],
            ["ip", "-6", "addr", "add", "2001:db8:dc::1/64", "dev", a, "nodad", "noprefixroute"],
            ["ip", "-6", "addr", "add", "2001:db8:dc::2", "peer", "2001:db8:dc::3/64", "dev", b],
            ["ip", "-6", "addr", "add", "fd00:dc::4", "peer", "fd01:dc::5/64", "dev", b],
        ):
            run(argv)
        yield a, b
    finally:
        run(["ip", "link", "del", a])


@pytest.fixture(scope="module")
def container(docker_client):
    """A bridge-mode course container: (lab, ref, the PID of its process)."""
    with Lab("test", client=docker_client, backend="live") as lab:
        ref = lab.start_container("oracle")
        pid = lab.client.api.inspect_container(ref.id)["State"]["Pid"]
        assert pid > 0
        yield lab, ref, pid
    assert not docker_client.containers.list(all=True, filters={"id": ref.id})


def in_container(pid: int, argv: list[str]) -> Callable[[], str]:
    return lambda: run(["nsenter", "-t", str(pid), "-n", *argv])


def host(argv: list[str]) -> Callable[[], str]:
    return lambda: run(argv)


HOST_FEATURES = {
    "same-namespace peer", "peer in another namespace", "master", "altname", "group",
    "promisc", "M-DOWN", "inet peer", "inet6 peer", "label", "secondary", "dynamic",
    "noprefixroute", "nodad", "tentative", "finite lifetime",
}


# -- iproute2 ---------------------------------------------------------------------

def test_host_namespace(host_veths, container):
    a, b = host_veths
    text, data = read_consistent(host(["ip", "addr"]), host(["ip", "-j", "addr"]))
    compare(text, data, "iproute2")
    missing = HOST_FEATURES - features(data)
    assert not missing, f"ip -j addr did not show {missing}"
    parsed = by_name(parse_ip_addr(text))
    assert (parsed[a].link, parsed[b].link) == (b, a)


def test_container_namespace(container):
    _, _, pid = container
    text, data = read_consistent(in_container(pid, ["ip", "addr"]),
                                 in_container(pid, ["ip", "-j", "addr"]))
    compare(text, data, "iproute2")
    assert "peer in another namespace" in features(data)


def test_veth_ends_name_each_other(container):
    """The container's eth0@ifN: N is the host end's ifindex, whose @ifM is eth0's."""
    _, _, pid = container
    inside = by_name(parse_ip_addr(in_container(pid, ["ip", "addr"])()))["eth0"]
    outside = by_index(parse_ip_addr(run(["ip", "addr"])))[inside.peer_index]
    assert outside.peer_index == inside.index
    assert outside.master == "docker0"


# -- BusyBox ----------------------------------------------------------------------

def test_host_namespace_busybox(host_veths, container):
    text, data = read_consistent(host([BUSYBOX, "ip", "addr"]), host(["ip", "-j", "addr"]))
    compare(text, data, "busybox")
    assert not {"promisc", "nodad", "inet6 peer", "M-DOWN"} - features(data)
    assert "flags 02" in text  # nodad, as BusyBox prints it


def test_container_namespace_busybox(container):
    lab, ref, pid = container
    text, data = read_consistent(lambda: lab.exec(ref, ["ip", "addr"]),
                                 in_container(pid, ["ip", "-j", "addr"]))
    compare(text, data, "busybox")
    (eth0,) = [i for i in parse_ip_addr(text) if i.peer_index is not None]
    assert "M-DOWN" in eth0.flags  # BusyBox cannot see the host end from inside


def test_kernel_links_name_the_peers_iproute2_names(host_veths, container):
    """BusyBox's ``@…`` corrected from sysfs iflink agrees with ``ip -j addr``'s peers.

    BusyBox looks a peer's index up in its own namespace: on Engine 28 every
    container's eth0 is ifindex 2, so where the host's own index 2 exists the host
    veths print ``vethX@<that name>``. A private sysfs mount shows this namespace's
    interfaces (the inherited one may belong to another namespace; in the namespace
    that mounted it, a second mount is refused and the first one is right).
    """
    script = IP_ADDR_WITH_LINKS[-1].replace("ip addr", f"{BUSYBOX} ip addr", 1)
    read = host(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                 f"mount -t sysfs sysfs /sys 2>/dev/null; {script}"])
    text, data = read_consistent(read, host(["ip", "-j", "addr"]))
    parsed = by_index(parse_ip_addr_with_links(text))
    elsewhere = [j for j in data if "link_index" in j]
    assert elsewhere, "expected a veth whose peer is in another namespace (the container's)"
    for j in data:
        got = parsed[j["ifindex"]]
        if "link_index" in j:
            assert (got.peer_index, got.link) == (j["link_index"], None), j["ifname"]
        elif isinstance(j.get("link"), str):
            assert (got.peer_index, got.link) == (None, j["link"]), j["ifname"]
