"""Engine 28's changes, read from the shipped recordings of two engines."""

from course_helpers import engine_changes
from course_helpers.core.replay import Recording


def test_the_shipped_runs_show_a_bridge_container_on_an_old_and_a_new_engine():
    bridges = engine_changes.recorded_bridges()
    versions = [b.version for b in bridges]
    assert versions == sorted(versions), "oldest engine first"
    assert any(v < engine_changes.CHANGED_IN for v in versions), versions
    assert any(v >= engine_changes.CHANGED_IN for v in versions), versions


def test_macs_follow_the_ipv4_address_before_engine_28_and_are_random_after():
    for b in engine_changes.recorded_bridges():
        assert b.mac_from_ipv4 == (b.version < engine_changes.CHANGED_IN), b


def test_eth0_is_interface_2_from_engine_28_and_its_host_end_points_at_it():
    for b in engine_changes.recorded_bridges():
        if b.version >= engine_changes.CHANGED_IN:
            assert b.eth0_index == 2, b
        else:
            assert b.eth0_index != 2 and b.host_index is not None, b


def test_the_mac_rule_reads_the_address_octets_in_hex():
    b = engine_changes.RecordedBridge("20.10.24", "2026-01-01", "172.17.0.10",
                                      "02:42:AC:11:00:0A", 7, 8)
    assert b.mac_from_ipv4
    assert not engine_changes.RecordedBridge("28.5.2", "", "172.17.0.10",
                                             "02:42:ac:11:00:0b", 2, 8).mac_from_ipv4


def test_a_recording_without_a_bridge_run_gives_nothing(tmp_path):
    (tmp_path / "28.5").mkdir()
    Recording({"engine": "28.5.2"}).save(tmp_path / "28.5" / f"{engine_changes.CHAPTER}.json")
    assert engine_changes.recorded_bridges(tmp_path) == []
    assert "recorded on Engine" in engine_changes.table([])
