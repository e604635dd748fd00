"""Property tests of ``parse_ip_addr`` (Hypothesis).

Whatever text it gets, the parser returns a list of interfaces or raises
:class:`ParseError` naming an existing line: never IndexError, ValueError and
the like. And what it returns, written back out in iproute2's format by the
small renderer below, parses back to the same interfaces.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course_helpers import ParseError
from course_helpers.ipaddr import ADDRESS_FLAGS, LINK_FLAG_BITS, Address, Interface, parse_ip_addr

SAMPLES = sorted((Path(__file__).with_name("samples")).glob("*.txt"))
SAMPLE_TEXTS = [path.read_text() for path in SAMPLES]
#: Every word of the samples, plus separators the grammar cares about.
VOCABULARY = sorted({w for text in SAMPLE_TEXTS for w in text.split()}
                    | {":", "@", "<", ">", "/", ",", "<>", "@if", "peer", "brd", "flags"})
#: Example counts follow the Hypothesis profile (tests/unit/conftest.py): full in CI.
FUZZ = settings(max_examples=examples(600), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def parse_or_error(text: str) -> list[Interface] | ParseError:
    """Parse; a ParseError must name a line of the text. Anything else propagates."""
    try:
        result = parse_ip_addr(text)
    except ParseError as err:
        lines = text.splitlines()
        assert 1 <= err.lineno <= len(lines), (err.lineno, len(lines))
        assert err.line == lines[err.lineno - 1]
        assert f"line {err.lineno}" in str(err)
        return err
    assert isinstance(result, list)
    assert all(isinstance(iface, Interface) for iface in result)
    return result


# -- any text --------------------------------------------------------------------

@FUZZ
@given(st.text())
def test_arbitrary_text(text):
    parse_or_error(text)


INDENT = st.sampled_from(["", " ", "    ", "       ", "\t"])
TOKEN = st.sampled_from(VOCABULARY) | st.text(max_size=6)
LINE = st.builds(lambda indent, words: indent + " ".join(words), INDENT,
                 st.lists(TOKEN, max_size=10))


@settings(FUZZ, max_examples=examples(400))
@given(st.lists(LINE, max_size=10).map("\n".join))
def test_token_soup(text):
    parse_or_error(text)


# -- mutations of real samples ----------------------------------------------------

@st.composite
def mutated_sample(draw) -> str:
    lines = draw(st.sampled_from(SAMPLE_TEXTS)).splitlines()
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            lines = [""]
        i = draw(st.integers(0, len(lines) - 1))
        words = lines[i].split(" ")  # keeps the indentation as empty words
        op = draw(st.sampled_from(
            ["drop", "duplicate", "move", "swap", "swap_across", "insert", "replace", "cut"]))
        if op == "drop":
            del lines[i]
            continue
        if op == "duplicate":
            lines.insert(draw(st.integers(0, len(lines))), lines[i])
            continue
        if op == "move":
            line = lines.pop(i)
            lines.insert(draw(st.integers(0, len(lines))), line)
            continue
        j = draw(st.integers(0, len(words) - 1))
        k = draw(st.integers(0, len(words) - 1))
        if op == "swap":
            words[j], words[k] = words[k], words[j]
        elif op == "swap_across":
            other_i = draw(st.integers(0, len(lines) - 1))
            other = lines[other_i].split(" ")
            m = draw(st.integers(0, len(other) - 1))
            words[j], other[m] = other[m], words[j]
            lines[other_i] = " ".join(other)
        elif op == "insert":
            words.insert(j, draw(TOKEN))
        elif op == "replace":
            words[j] = draw(TOKEN)
        else:
            words = words[:j]
        lines[i] = " ".join(words)
    return "\n".join(lines)


@settings(FUZZ, max_examples=examples(1000))
@given(mutated_sample())
def test_mutated_samples(text):
    parse_or_error(text)


def test_samples_parse_unmutated():
    """The mutations start from text that parses (so they test more than the first line)."""
    assert all(isinstance(parse_or_error(text), list) and parse_ip_addr(text)
               for text in SAMPLE_TEXTS)


# -- round trip: render in iproute2's format, parse back ---------------------------

def render(interfaces: list[Interface]) -> str:
    """Write interfaces the way iproute2's ``ip addr`` does."""
    out = []
    for iface in interfaces:
        name = iface.name
        if iface.peer_index is not None:
            name += f"@if{iface.peer_index}"
        elif iface.link is not None:
            name += f"@{iface.link}"
        head = f"{iface.index}: {name}: <{','.join(iface.flags)}> mtu {iface.mtu}"
        for key in ("qdisc", "master", "state", "group", "qlen"):
            if getattr(iface, key) is not None:
                head += f" {key} {getattr(iface, key)}"
        out.append(head + " ")
        if iface.link_type is not None:
            line = f"    link/{iface.link_type}"
            if iface.mac is not None:
                line += f" {iface.mac}"
            if iface.link_broadcast is not None:
                line += f" brd {iface.link_broadcast}"
            if iface.link_netnsid is not None:
                line += f" link-netnsid {iface.link_netnsid}"
            out.append(line + " ")
        out += [f"    altname {alt}" for alt in iface.altnames]
        for a in iface.addresses:
            line = f"    {a.family} "
            if a.peer is not None:
                line += f"{a.ip} peer {a.peer}"
            else:
                line += str(a.interface)
            if a.broadcast is not None:
                line += f" brd {a.broadcast}"
            if a.scope is not None:
                line += f" scope {a.scope}"
            line += "".join(f" {flag}" for flag in a.flags)
            if a.label is not None:
                line += f" {a.label}"
            out.append(line + " ")
            if a.valid_lft is not None:
                out.append(f"       valid_lft {a.valid_lft} preferred_lft {a.preferred_lft}")
    return "\n".join(out) + "\n"


#: Interface names end in a digit: never an address flag word, never "ifN" of a peer.
NAME = st.builds(lambda head, body, tail: head + body + tail,
                 st.sampled_from("abcdefghijklmnopqrstuvwxyz"),
                 st.text("abcdefghijklmnopqrstuvwxyz0123456789_.-", max_size=9),
                 st.sampled_from("0123456789"))
WORD = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
               min_size=1, max_size=10)
U32 = st.integers(0, 2**32 - 1)
MAC = st.lists(st.integers(0, 255), min_size=6, max_size=6).map(
    lambda octets: ":".join(f"{o:02x}" for o in octets)) | st.just("0.0.0.0")
LIFETIME = st.sampled_from(["forever", "0sec"]) | U32.map(lambda n: f"{n}sec")
IP = {4: U32.map(ipaddress.IPv4Address), 6: st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address)}


SCOPES = st.none() | st.sampled_from(["global", "link", "host", "site", "nowhere", "253"])
ADDRESS_FLAG_WORDS = st.lists(st.sampled_from(sorted(ADDRESS_FLAGS)), unique=True, max_size=4)
HEX_FLAGS = st.lists(st.integers(0, 0xFFF).map(lambda x: f"flags {x:02x}"), max_size=1)
LIFETIMES = st.none() | st.tuples(LIFETIME, LIFETIME)
#: An IPv4 label: none, the interface's name, or an alias of it (eth0:7).
LABEL = st.none() | st.just(-1) | st.integers(0, 99)
# Strategies are built once, here: building them inside @composite draws is slow.
OPTIONAL = {name: st.none() | strategy for name, strategy in {
    "word": WORD, "name": NAME, "u32": U32, "mac": MAC, "netnsid": st.integers(0, 2**31 - 1),
    "ip4": IP[4], "ip6": IP[6]}.items()}
PREFIXLEN = {4: st.integers(0, 32), 6: st.integers(0, 128)}


@st.composite
def address(draw) -> tuple[Address, int | None]:
    """An address without its label, and which label to give it (see LABEL)."""
    version = draw(st.sampled_from([4, 6]))
    prefixlen = draw(PREFIXLEN[version])
    local = ipaddress.ip_interface(f"{draw(IP[version])}/{prefixlen}")
    peer = draw(OPTIONAL[f"ip{version}"])
    lifetimes = draw(LIFETIMES)
    made = Address(
        family="inet" if version == 4 else "inet6",
        interface=local,
        scope=draw(SCOPES),
        broadcast=draw(OPTIONAL["ip4"]) if version == 4 else None,
        peer=ipaddress.ip_interface(f"{peer}/{prefixlen}") if peer is not None else None,
        flags=tuple(draw(ADDRESS_FLAG_WORDS) + draw(HEX_FLAGS)),
        valid_lft=lifetimes[0] if lifetimes else None,
        preferred_lft=lifetimes[1] if lifetimes else None,
    )
    return made, draw(LABEL) if version == 4 else None


LINK_FLAG_WORDS = st.lists(st.sampled_from([*LINK_FLAG_BITS, "NO-CARRIER", "M-DOWN"]),
                           unique=True, max_size=6)
LINK_TYPES = st.sampled_from(["ether", "loopback", "none", "ipip", "[65534]"])
PEER_LINK = st.just("NONE") | NAME
ADDRESSES = st.lists(address(), max_size=3)
ALTNAMES = st.lists(NAME, max_size=2)


@st.composite
def interface(draw) -> Interface:
    name = draw(NAME)
    peer = draw(st.sampled_from(["none", "index", "link"]))
    has_link_line = draw(st.booleans())
    addresses = []
    for made, label in draw(ADDRESSES):
        if label is not None:
            made = replace(made, label=name if label < 0 else f"{name}:{label}")
        addresses.append(made)
    return Interface(
        index=draw(U32),
        name=name,
        peer_index=draw(U32) if peer == "index" else None,
        link=draw(PEER_LINK) if peer == "link" else None,
        flags=tuple(draw(LINK_FLAG_WORDS)),
        mtu=draw(U32),
        qdisc=draw(OPTIONAL["word"]),
        state=draw(OPTIONAL["word"]),
        master=draw(OPTIONAL["name"]),
        group=draw(OPTIONAL["word"]),
        qlen=draw(OPTIONAL["u32"]),
        link_type=draw(LINK_TYPES) if has_link_line else None,
        mac=draw(OPTIONAL["mac"]) if has_link_line else None,
        link_broadcast=draw(OPTIONAL["mac"]) if has_link_line else None,
        link_netnsid=draw(OPTIONAL["netnsid"]) if has_link_line else None,
        altnames=tuple(draw(ALTNAMES)),
        addresses=tuple(addresses),
    )


@settings(FUZZ, max_examples=examples(400))
@given(st.lists(interface(), max_size=3))
def test_round_trip(interfaces):
    text = render(interfaces)
    assert parse_ip_addr(text) == interfaces, text


@pytest.mark.parametrize("path", SAMPLES, ids=lambda path: path.name)
def test_samples_round_trip(path):
    """Parsed real samples survive render → parse unchanged."""
    parsed = parse_ip_addr(path.read_text())
    assert parse_ip_addr(render(parsed)) == parsed
