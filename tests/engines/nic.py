"""The engine host's network card: a tap device whose every frame is read and dropped.

Run inside the engine's network namespace. It creates ``eth0`` (a tap device,
not a veth: no peer shows up in ``ip addr``), gives it a TEST-NET-2 address and
a default route, prints ``ready`` and then reads and discards whatever the
namespace sends out, so nothing an engine does can reach another host. The
device goes away when this process ends.
"""

from __future__ import annotations

import fcntl
import os
import struct
import subprocess
import sys

TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI = 0x0002, 0x1000
ADDRESS, GATEWAY = "198.51.100.2/24", "198.51.100.1"


def main(name: str = "eth0") -> None:
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    for args in (["link", "set", "lo", "up"], ["addr", "add", ADDRESS, "dev", name],
                 ["link", "set", name, "up"], ["route", "add", "default", "via", GATEWAY]):
        subprocess.run(["ip", *args], check=True)
    print("ready", flush=True)
    while True:
        os.read(fd, 65536)  # a frame leaving the host: dropped here


if __name__ == "__main__":
    main(*sys.argv[1:])
