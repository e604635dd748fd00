"""The course image: a static BusyBox, imported offline.

Introduced in chapter 00 (setup). Similar to::

    tar -C rootfs -c . | docker import -c 'CMD ["sh"]' - docker-networking-course/busybox:VERSION

No registry is needed: the root file system holds one static ``busybox``
binary from the host and a link per applet the chapters use. Pulling a pinned
busybox image is only a fallback for machines without a static busybox, and
only where the learner allows it (never in tests or CI).
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING

from .engine import translated
from .errors import ImageUnavailable

if TYPE_CHECKING:  # imported on first use (a replaying Lab never needs the SDK)
    import docker

REPOSITORY = "docker-networking-course/busybox"
#: Applets the chapters call inside course containers.
APPLETS = (
    "sh", "ip", "ping", "sleep", "nslookup", "hostname", "cat", "wget", "nc",
    "ls", "ps", "echo", "ifconfig", "route", "httpd", "true", "readlink", "stat",
)
#: Where a static busybox is looked for, in order.
BUSYBOX_CANDIDATES = ("/bin/busybox", "/usr/bin/busybox")
#: The fallback image, pinned by tag, for machines without a static busybox.
PINNED_FALLBACK = ("busybox", "1.36.1")
IMAGE_LABEL = "io.github.docker-networking-course.image"


def find_static_busybox() -> Path | None:
    """The first static busybox binary on this machine, or None."""
    override = os.environ.get("COURSE_BUSYBOX")
    for candidate in ((override,) if override else ()) + BUSYBOX_CANDIDATES:
        path = Path(candidate)
        if path.is_file() and _is_static(path):
            return path
    return None


def _is_static(path: Path) -> bool:
    """True when the ELF file has no program interpreter (no dynamic loader)."""
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    return head.startswith(b"\x7fELF") and b"ld-linux" not in head and b"ld-musl" not in head


def busybox_version(path: Path) -> str:
    """The version a busybox binary reports, e.g. ``1.35.0``."""
    out = subprocess.run([str(path)], capture_output=True, text=True, check=False).stdout
    match = re.search(r"BusyBox v(\d+\.\d+\.\d+)", out)
    if not match:
        raise ImageUnavailable(
            f"{path} does not say which BusyBox it is: install Debian's busybox-static "
            "(`apt-get install busybox-static`) and try again."
        )
    return match.group(1)


def rootfs_tar(busybox: Path) -> bytes:
    """A root file system, as a tar archive, holding busybox and its applet links."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for folder in ("bin", "etc", "tmp", "proc", "sys", "dev", "www"):
            info = tarfile.TarInfo(folder)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if folder == "tmp" else 0o755
            tar.addfile(info)
        data = busybox.read_bytes()
        info = tarfile.TarInfo("bin/busybox")
        info.size, info.mode = len(data), 0o755
        tar.addfile(info, io.BytesIO(data))
        for applet in APPLETS:
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link)
        for name, text in (
            ("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n"),
            ("etc/group", "root:x:0:\nnobody:x:65534:\n"),
            ("www/index.html", "hello from a course container\n"),
        ):
            blob = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(blob), 0o644
            tar.addfile(info, io.BytesIO(blob))
    return buf.getvalue()


def local_course_image(client: docker.DockerClient) -> str | None:
    """The tag of a course image already on the engine, or None."""
    with translated("list images"):
        images = client.images.list(name=REPOSITORY)
    tags = sorted(tag for image in images for tag in image.tags)
    return tags[-1] if tags else None


def ensure_image(client: docker.DockerClient, *, allow_pull: bool | None = None) -> str:
    """Make sure the course image exists and return its tag.

    Offline first: a local tag; else ``docker import`` of a static busybox;
    else, only when allowed, a pull of the pinned busybox image.

    Args:
        client: a connected client.
        allow_pull: permit the registry fallback. Defaults to False under CI
            or when ``COURSE_NO_PULL`` is set, True otherwise.

    Returns:
        The image reference to run, e.g. ``docker-networking-course/busybox:1.35.0``.

    Raises:
        ImageUnavailable: no image, no static busybox, and no pull allowed or possible.
    """
    import docker

    busybox = find_static_busybox()
    if busybox is not None:
        tag = f"{REPOSITORY}:{busybox_version(busybox)}"
        with translated("look up the course image"):
            try:
                client.images.get(tag)
                return tag
            except docker.errors.ImageNotFound:
                pass
        with translated("import the course image"):
            client.api.import_image_from_data(
                rootfs_tar(busybox), repository=REPOSITORY, tag=tag.split(":")[1],
                changes=['CMD ["sh"]', f"LABEL {IMAGE_LABEL}=busybox"],
            )
        return tag
    existing = local_course_image(client)
    if existing:
        return existing
    if allow_pull is None:
        allow_pull = not (os.environ.get("CI") or os.environ.get("COURSE_NO_PULL"))
    fix = "install a static busybox (`apt-get install busybox-static`, or set COURSE_BUSYBOX)"
    if not allow_pull:
        raise ImageUnavailable(f"The course image is missing and cannot be built here: {fix}.")
    repo, tag = PINNED_FALLBACK
    try:
        # Registry fallback for learners only: never reached in tests or CI.
        client.images.pull(repo, tag=tag)
    except docker.errors.DockerException:
        raise ImageUnavailable(
            f"The course image is missing, no static busybox was found and {repo}:{tag} "
            f"could not be pulled: {fix}."
        ) from None
    return f"{repo}:{tag}"
