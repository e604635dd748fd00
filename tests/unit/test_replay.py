"""The replay backend without an engine: the codec, call keys, replay order, errors, Lab in replay.

Nothing here needs a Docker engine; the engine is made unreachable on purpose
(``DOCKER_HOST`` pointing at a socket that does not exist).
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from course_helpers import Lab, modes, networks, parse_ip_addr
from course_helpers.core import lab as lab_module
from course_helpers.core.errors import BadInput, CommandFailed, DockerRefused, EngineUnavailable
from course_helpers.core.record import compare, stale_message, structure
from course_helpers.core.refs import ContainerRef, NetworkRef
from course_helpers.core.replay import (
    NoEngine,
    NotRecorded,
    Recording,
    call_key,
    decode,
    encode,
    recorded,
    replayable,
)
from course_helpers.ipaddr import Address, Interface
from course_helpers.modes import ModeSnapshot

ROOT = Path(__file__).resolve().parents[2]
NO_ENGINE = "unix:///nonexistent.sock"

BRIDGE_TEXT = """\
1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
    inet6 ::1/128 scope host
       valid_lft forever preferred_lft forever
7: eth0@if8: <BROADCAST,MULTICAST,UP,LOWER_UP,M-DOWN> mtu 1500 qdisc noqueue
    link/ether 02:42:ac:11:00:02 brd ff:ff:ff:ff:ff:ff
    inet 172.17.0.2/16 brd 172.17.255.255 scope global eth0
       valid_lft forever preferred_lft forever
"""


def roundtrip(value):
    """encode → JSON text → decode, as a recording file does."""
    return decode(json.loads(json.dumps(encode(value))))


def snapshot(mode="bridge", container="dnc-abcd1234-bridge-1", cid="a" * 64, netns="net:[1]",
             target=None, target_id=None, text=BRIDGE_TEXT) -> ModeSnapshot:
    ifaces = tuple(parse_ip_addr(text))
    return ModeSnapshot(mode=mode, container=container, container_id=cid, interfaces=ifaces,
                        netns=netns, hostname="h", cli=f"docker run --network {mode}",
                        target=target, target_id=target_id,
                        host_peer=ifaces[-1] if mode == "bridge" else None)


# -- the codec ----------------------------------------------------------------

def test_interface_round_trip_keeps_ip_objects_and_tuples():
    ifaces = parse_ip_addr(BRIDGE_TEXT)
    back = roundtrip(ifaces)
    assert back == ifaces
    eth0 = back[1]
    assert isinstance(eth0, Interface) and isinstance(eth0.addresses, tuple)
    addr = eth0.addresses[0]
    assert isinstance(addr, Address)
    assert isinstance(addr.interface, ipaddress.IPv4Interface)
    assert isinstance(addr.broadcast, ipaddress.IPv4Address)
    assert isinstance(back[0].addresses[1].interface, ipaddress.IPv6Interface)
    assert isinstance(eth0.flags, tuple)


def test_mode_snapshot_round_trip_with_nested_interfaces():
    snap = snapshot()
    back = roundtrip(snap)
    assert back == snap
    assert isinstance(back, ModeSnapshot)
    assert isinstance(back.interfaces, tuple) and isinstance(back.host_peer, Interface)
    assert back.names == ["lo", "eth0"]
    assert back.ipv4 == ["172.17.0.2/16"]


def test_plain_values_tuples_ip_objects_and_dicts_with_non_str_keys():
    value = {
        "tuple": (1, "a", None, (2.5, True)),
        "list_of_tuples": [("x", 1), ("y", 2)],
        "ips": [ipaddress.ip_address("10.0.0.1"), ipaddress.ip_address("fe80::1"),
                ipaddress.ip_network("172.17.0.0/16"), ipaddress.ip_network("fd00::/64"),
                ipaddress.ip_interface("fd00::2/64")],
        "by_index": {7: "eth0", 8: "veth0"},
        "by_pair": {(1, "lo"): [ContainerRef("c", "1" * 64)]},
        "by_ip": {ipaddress.ip_address("10.0.0.1"): "a"},
        "empty": {},
    }
    back = roundtrip(value)
    assert back == value
    assert isinstance(back["tuple"], tuple) and isinstance(back["tuple"][3], tuple)
    assert all(isinstance(x, tuple) for x in back["list_of_tuples"])
    assert list(back["by_index"]) == [7, 8]
    assert isinstance(next(iter(back["by_ip"])), ipaddress.IPv4Address)
    assert isinstance(back["ips"][2], ipaddress.IPv4Network)
    assert back["empty"] == {} and isinstance(back["empty"], dict)


def test_a_dict_that_looks_like_a_tag_survives():
    value = {"__tuple__": "not a tuple", "__ip__": 1}
    assert roundtrip(value) == value


def test_refs_round_trip_and_keep_their_properties():
    ref = ContainerRef("dnc-abcd1234-web-1", "0123456789ab" + "f" * 52)
    assert roundtrip(ref) == ref and roundtrip(ref).short_id == "0123456789ab"
    assert roundtrip(NetworkRef("n", "2" * 64)) == NetworkRef("n", "2" * 64)


def test_unregistered_dataclasses_and_sdk_objects_are_refused():
    @dataclass
    class Loose:
        x: int

    with pytest.raises(TypeError, match="not registered with @replayable"):
        encode(Loose(1))
    with pytest.raises(TypeError, match="cannot record a set"):
        encode({1, 2})
    with pytest.raises(TypeError, match="cannot record a object"):
        encode(object())


def test_unknown_tags_are_refused():
    with pytest.raises(ValueError, match="unknown recorded value"):
        decode({"__what__": 1})


def test_a_registered_dataclass_round_trips():
    @replayable
    @dataclass(frozen=True)
    class Pair:
        a: tuple[int, ...]
        b: dict

    assert roundtrip(Pair((1, 2), {3: "x"})) == Pair((1, 2), {3: "x"})


# -- call keys ----------------------------------------------------------------

def test_call_key_names_refs_and_snapshots_by_name():
    ref = ContainerRef("dnc-s-web-1", "9" * 64)
    snap = snapshot(container="dnc-s-bridge-1")
    assert call_key("exec", (ref, ["ip", "addr"]), {}) == \
        json.dumps(["exec", ["dnc-s-web-1", ["ip", "addr"]], {}], sort_keys=True)
    # A snapshot or a reference is the same call as its container's name written out,
    # so the explorer's typed target replays what the notebook recorded with a snapshot.
    assert call_key("run_in_mode", ("container",), {"target": snap}) == \
        call_key("run_in_mode", ("container",), {"target": "dnc-s-bridge-1"})
    assert call_key("exec", (ref, "date"), {}) == call_key("exec", ("dnc-s-web-1", "date"), {})


def test_call_key_ignores_dict_and_set_order():
    a = call_key("f", ({"b": 1, "a": 2},), {"x": {"q", "p", "r"}})
    b = call_key("f", ({"a": 2, "b": 1},), {"x": {"r", "p", "q"}})
    assert a == b
    assert call_key("f", (1,), {}) != call_key("f", (2,), {})
    assert call_key("f", (), {}) != call_key("g", (), {})


# -- Recording: order, fall-backs, files ------------------------------------

def test_nth_call_gets_nth_answer_then_the_last_one_again():
    rec = Recording()
    k1, k2 = call_key("exec", ("c", "date"), {}), call_key("exec", ("c", "uptime"), {})
    for key, answer in ((k1, "one"), (k2, "other"), (k1, "two"), (k1, "three")):
        rec.add(key, answer)
    assert [rec.replay(k1) for _ in range(3)] == ["one", "two", "three"]
    assert rec.replay(k1) == "three" and rec.replay(k1) == "three"
    assert rec.replay(k2) == "other" and rec.replay(k2) == "other"


def test_each_replay_returns_a_fresh_object():
    rec = Recording()
    key = call_key("f", (), {})
    rec.add(key, [1, 2])
    first = rec.replay(key)
    first.append(3)
    assert rec.replay(key) == [1, 2]


def test_missing_call_says_it_needs_a_live_engine():
    rec = Recording()
    rec.add(call_key("f", (1,), {}), 1)
    with pytest.raises(NotRecorded) as err:
        rec.replay(call_key("f", (2,), {}))
    text = str(err.value)
    assert "live Docker engine" in text and "python -m course_helpers record" in text
    assert "\n" not in text


def test_any_args_calls_fall_back_to_any_recorded_answer():
    @recorded(any_args=True)
    def facts_for_test(lab, detail=None):
        raise AssertionError("replay must not run the function")

    lab = FakeLab("replay")
    lab.replay_from.add(call_key("facts_for_test", ("a",), {}), {"v": 1})
    assert facts_for_test(lab, "b") == {"v": 1}
    assert facts_for_test(lab) == {"v": 1}
    with pytest.raises(NotRecorded):
        lab.replay_from.replay(call_key("never_recorded", (), {}))


def test_save_and_load_keep_meta_and_order(tmp_path):
    rec = Recording({"engine": "20.10.24", "os": "Debian", "date": "2026-01-01", "session": "s"})
    for i in range(5):
        rec.add(call_key("f", (i % 2,), {}), (i, ipaddress.ip_address(f"10.0.0.{i}")))
    path = tmp_path / "sub" / "ch.json"
    rec.save(path)
    back = Recording.load(path)
    assert back.meta == rec.meta and back.calls == rec.calls
    assert back.names == ["f"] * 5
    assert [back.replay(call_key("f", (0,), {}))[0] for _ in range(3)] == [0, 2, 4]


# -- @recorded on a stand-in Lab ---------------------------------------------

class FakeLab:
    """The attributes @recorded uses: backend, replay_from, record_into."""

    def __init__(self, backend: str, recorder: Recording | None = None) -> None:
        self.backend = backend
        self.replay_from = Recording() if backend == "replay" else None
        self.record_into = recorder
        self.ran: list[str] = []


@recorded
def inner_for_test(lab, x):
    lab.ran.append(f"inner {x}")
    return x * 2


@recorded
def outer_for_test(lab, x):
    lab.ran.append(f"outer {x}")
    return (inner_for_test(lab, x), ipaddress.ip_interface("10.1.0.2/24"))


@recorded
def modes_for_test(lab, mode, target=None, **options):
    lab.ran.append(f"modes {mode} {target} {options}")
    return f"{mode}:{target}:{sorted(options.items())}"


def test_calls_are_keyed_by_their_bound_arguments_with_defaults():
    """run_in_mode("bridge"), run_in_mode("bridge", None) and run_in_mode(mode="bridge")
    are one call: a recording of one answers the others."""
    recorder = Recording()
    live = FakeLab("live", recorder)
    assert modes_for_test(live, "bridge") == "bridge:None:[]"
    modes_for_test(live, "none", name="x")
    replay = FakeLab("replay")
    replay.replay_from = Recording(recorder.meta, recorder.calls)
    assert modes_for_test(replay, "bridge", None) == "bridge:None:[]"
    assert modes_for_test(replay, mode="bridge") == "bridge:None:[]"
    assert modes_for_test(replay, "none", None, name="x") == "none:None:[('name', 'x')]"
    with pytest.raises(NotRecorded):
        modes_for_test(replay, "bridge", "web")
    assert replay.ran == []


@recorded
def refused_for_test(lab, what):
    raise DockerRefused(f"Docker refused to remove {what}: it is in use (HTTP 403); stop it.",
                        status=403, reason="it is in use")


@recorded
def failing_command_for_test(lab):
    raise CommandFailed("`false` failed in c (exit 1): ", exit_code=1, output="")


def test_live_with_recording_stores_only_top_level_calls():
    rec = Recording()
    lab = FakeLab("live", rec)
    assert outer_for_test(lab, 3) == (6, ipaddress.ip_interface("10.1.0.2/24"))
    assert lab.ran == ["outer 3", "inner 3"]
    assert rec.names == ["outer_for_test"]


def test_live_without_recording_just_runs():
    lab = FakeLab("live")
    assert inner_for_test(lab, 2) == 4 and lab.ran == ["inner 2"]


def test_replay_serves_recorded_results_without_running_anything():
    rec = Recording()
    live = FakeLab("live", rec)
    outer_for_test(live, 1)
    outer_for_test(live, 2)
    replay = FakeLab("replay")
    replay.replay_from = Recording({}, json.loads(json.dumps(rec.calls)))
    assert outer_for_test(replay, 2) == (4, ipaddress.ip_interface("10.1.0.2/24"))
    assert outer_for_test(replay, 1) == (2, ipaddress.ip_interface("10.1.0.2/24"))
    assert replay.ran == []
    with pytest.raises(NotRecorded):
        outer_for_test(replay, 5)


def test_recorded_refusals_are_raised_again_with_class_sentence_and_attributes():
    rec = Recording()
    live = FakeLab("live", rec)
    with pytest.raises(DockerRefused) as first:
        refused_for_test(live, "bridge")
    with pytest.raises(CommandFailed):
        failing_command_for_test(live)
    replay = FakeLab("replay")
    replay.replay_from = Recording({}, json.loads(json.dumps(rec.calls)))
    with pytest.raises(DockerRefused) as again:
        refused_for_test(replay, "bridge")
    assert str(again.value) == str(first.value)
    assert (again.value.status, again.value.reason) == (403, "it is in use")
    with pytest.raises(CommandFailed) as cmd:
        failing_command_for_test(replay)
    assert cmd.value.exit_code == 1


# -- Lab in replay ------------------------------------------------------------

@pytest.fixture
def recordings(tmp_path, monkeypatch):
    """A recordings folder holding one small chapter, used by Lab in place of the package's."""
    rec = Recording({"chapter": "99_test", "session": "feedc0de", "image": "dnc-busybox:1",
                     "engine": "20.10.24+dfsg1", "os": "Debian GNU/Linux 12 (bookworm)",
                     "date": "2026-01-02", "host": "somewhere"})
    rec.add(call_key("run_in_mode", (), {"mode": "none", "target": None}),
            snapshot("none", "dnc-feedc0de-none-1", text=BRIDGE_TEXT.split("7:")[0]))
    rec.save(tmp_path / "99_test.json")
    monkeypatch.setattr(lab_module, "RECORDINGS", tmp_path)
    return tmp_path


def test_replaying_lab_says_replay_and_never_live(recordings, capsys):
    lab = Lab("99_test", backend="replay")
    text = lab.describe()
    assert text.startswith("REPLAY")
    assert "LIVE" not in text
    for fact in ("20.10.24+dfsg1", "Debian GNU/Linux 12", "2026-01-02"):
        assert fact in text
    assert lab.is_live is False and lab.backend == "replay"
    assert lab.session == "feedc0de"
    assert "replay" in repr(lab)
    assert lab.run_in_mode("none").names == ["lo"]
    assert lab.require_live("Pinging the outside container") is False
    said = capsys.readouterr().out
    assert "needs a live Docker engine" in said and "replay" in said
    lab.close()
    lab.close()


def test_auto_without_an_engine_chooses_replay(recordings, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)
    monkeypatch.delenv("COURSE_BACKEND", raising=False)
    assert Lab("99_test").backend == "replay"
    monkeypatch.setenv("COURSE_BACKEND", "replay")
    assert Lab("99_test").backend == "replay"


def test_unrecorded_call_in_replay_is_one_sentence(recordings):
    lab = Lab("99_test", backend="replay")
    with pytest.raises(NotRecorded) as err:
        lab.run_in_mode("bridge")
    assert "needs a live Docker engine" in str(err.value) and "\n" not in str(err.value)


def test_missing_recording_names_the_fix(recordings):
    with pytest.raises(BadInput, match="python -m course_helpers record"):
        Lab("98_nothing", backend="replay")


def test_forced_live_without_an_engine_is_one_clear_sentence(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)
    monkeypatch.setenv("COURSE_BACKEND", "live")
    with pytest.raises(EngineUnavailable) as err:
        Lab("00_setup")
    text = str(err.value)
    assert "\n" not in text and text.endswith(".")
    assert NO_ENGINE in text and "DOCKER_HOST" in text
    assert err.value._render_traceback_() == [f"EngineUnavailable: {text}"]


def test_unknown_backend_is_refused(monkeypatch):
    monkeypatch.setenv("COURSE_BACKEND", "sometimes")
    with pytest.raises(BadInput, match="live, replay or auto"):
        Lab("00_setup")


def test_no_engine_stand_in_explains_itself():
    client = NoEngine()
    assert not client
    with pytest.raises(NotRecorded, match="needs a live Docker engine"):
        client.containers.list()


def test_record_command_without_an_engine_fails_in_one_sentence(tmp_path):
    env = {"DOCKER_HOST": NO_ENGINE, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "course_helpers", "record", "--out",
                           str(tmp_path / "out")], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 1
    err = done.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert "live Docker engine" in err and NO_ENGINE in err
    assert not (tmp_path / "out").exists()


# -- stale recordings ---------------------------------------------------------

def two_runs() -> tuple[Recording, Recording]:
    runs = []
    for session, veth in (("aaaa1111", 8), ("bbbb2222", 12)):
        rec = Recording({"session": session})
        bridge = snapshot("bridge", f"dnc-{session}-bridge-1", cid=session * 8, netns="net:[5]",
                          text=BRIDGE_TEXT.replace("@if8", f"@if{veth}"))
        rec.add(call_key("run_in_mode", ("bridge",), {}), bridge)
        rec.add(call_key("run_in_mode", ("container",), {"target": bridge}),
                snapshot("container", f"dnc-{session}-container-2", cid="c" * 64,
                         netns="net:[5]", target=bridge.container, target_id=bridge.container_id))
        rec.add(call_key("list_networks", (), {}),
                [{"Name": n, "Driver": n if n != "none" else "null"} for n in ("bridge", "host",
                                                                               "none")])
        runs.append(rec)
    return runs[0], runs[1]


def test_two_runs_that_differ_only_in_machine_details_agree():
    shipped, fresh = two_runs()
    assert compare(shipped, fresh) == []
    shape = structure(shipped)
    assert shape["modes"] == {"bridge": [["lo", "eth0"]], "container": [["lo", "eth0"]]}
    assert shape["default_networks"] == ["bridge", "host", "none"]
    assert shape["calls"] == ["run_in_mode", "run_in_mode", "list_networks"]
    assert shape["problems"] == []


def test_a_changed_notebook_makes_the_recording_stale():
    shipped, fresh = two_runs()
    fresh.add(call_key("run_in_mode", ("none",), {}),
              snapshot("none", "n", text=BRIDGE_TEXT.split("7:")[0]))
    diffs = compare(shipped, fresh)
    assert any("other engine calls" in d for d in diffs)
    assert any(d.startswith("none mode") for d in diffs)
    message = stale_message("03_network_modes", diffs)
    assert "03_network_modes.json is stale" in message
    assert "`python -m course_helpers record`" in message


def test_container_mode_not_sharing_its_target_namespace_is_a_problem():
    shipped, _ = two_runs()
    bad = Recording({}, [list(c) for c in shipped.calls])
    snap = decode(bad.calls[1][1])
    bad.calls[1][1] = encode(ModeSnapshot(**{**snap.__dict__, "netns": "net:[6]"}))
    assert any("does not share" in p for p in structure(bad)["problems"])


def test_a_recording_naming_an_unknown_type_says_so():
    with pytest.raises(ValueError, match="no course module defines"):
        decode({"__type__": "NoSuchSnapshot", "fields": {}})


def test_the_missing_call_is_named_as_code_a_learner_wrote():
    rec = Recording()
    rec.add(call_key("run_in_mode", ("bridge",), {}), 1)
    with pytest.raises(NotRecorded) as err:
        rec.replay(call_key("run_in_mode", ("none",), {"target": "web"}))
    assert "run_in_mode('none', target='web')" in str(err.value)


# -- bad input in replay gets the live sentence (issue 11) -------------------------------
REPLAY_BAD_INPUT = [
    (lambda lab: lab.run_in_mode("bogus"), "Unknown network mode 'bogus'"),
    (lambda lab: lab.run_in_mode(None), "Unknown network mode None"),
    (lambda lab: lab.run_in_mode("container"), "say which one, with target="),
    (lambda lab: lab.run_in_mode("container", target=42), "cannot be a target"),
    (lambda lab: modes.run_all_modes(lab, target=42), "cannot be a target"),
    (lambda lab: lab.start_container("a;b"), "cannot go into a name"),
    (lambda lab: lab.start_container("x", foo=1), "start_container() does not take foo"),
    (lambda lab: lab.start_container("x", privileged=True), "never run privileged"),
    (lambda lab: lab.start_container("x", network_mode=123), "network_mode is 123"),
    (lambda lab: lab.exec("c", None), "The command None cannot run"),
    (lambda lab: lab.exec("c", 123), "The command 123 cannot run"),
    (lambda lab: lab.exec("c", [1, 2]), "The command [1, 2] cannot run"),
    (lambda lab: lab.exec(None, "true"), "None is not a container"),
    (lambda lab: lab.create_network(foo=1), "create_network() does not take foo"),
    (lambda lab: lab.create_network(driver="bogus"), "driver='bridge'"),
    (lambda lab: lab.remove_network(123), "123 does not name a network"),
    (lambda lab: networks.try_remove_network(lab, None), "None does not name a network"),
]


@pytest.mark.parametrize(("call", "words"), REPLAY_BAD_INPUT)
def test_replay_validates_input_before_looking_for_a_recording(recordings, call, words):
    lab = Lab("99_test", backend="replay")
    with pytest.raises(BadInput) as err:
        call(lab)
    assert words in str(err.value) and "\n" not in str(err.value)
    assert "recorded answer" not in str(err.value)


def test_a_closed_replay_lab_refuses_work(recordings):
    lab = Lab("99_test", backend="replay")
    assert lab.run_in_mode("none").names == ["lo"]
    lab.close()
    for call in (lambda: lab.run_in_mode("none"), lambda: lab.start_container("x"),
                 lambda: lab.exec("c", "true"), lab.host_interfaces):
        with pytest.raises(BadInput, match="This Lab is closed") as refused:
            call()
        assert "removed its containers" not in str(refused.value), "a replay made none"


@pytest.mark.parametrize("chapter", ["../../../../tmp/evil", "/tmp/evil", "..", "a/b", "",
                                     "x" * 200, 7, None])
def test_a_chapter_name_cannot_point_outside_the_recordings(recordings, tmp_path, chapter):
    (tmp_path.parent / "evil.json").write_text('{"meta": {}, "calls": []}')
    with pytest.raises(BadInput) as err:
        Lab(chapter, backend="replay")
    assert "cannot name a recording" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("backend", [123, ["live"], b"live"])
def test_a_backend_that_is_not_a_word(recordings, backend):
    with pytest.raises(BadInput) as err:
        Lab("99_test", backend=backend)
    assert "pass 'live', 'replay' or 'auto'" in str(err.value)


def test_a_result_said_in_replay_says_which_recorded_run_it_comes_from(recordings, capsys):
    lab = Lab("99_test", backend="replay")
    lab.say("one", "two")
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["one", "two"]
    engine, date = lab.replay_from.meta["engine"], lab.replay_from.meta["date"]
    assert out[2] == f"(recorded on Docker Engine {engine} ({date}))"
