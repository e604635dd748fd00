"""The mode explorer: pick a network mode, run a container in it, see its interfaces.

Introduced in chapter 03 (网络模式, network modes). As in the jupyter-widgets
tutorial, the logic (:class:`ModeExplorerModel`, :func:`interface_table_html`)
is kept apart from the widgets that show it, so it is tested without a browser.
Widgets carry stable CSS classes (``dnc-…``) for the browser tests.
"""

from __future__ import annotations

import html
import io
import json
import re
from types import SimpleNamespace
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import Image, display

from .core.errors import CourseError
from .core.replay import NotRecorded
from .figures import draw_topology, pngfile, stamp
from .modes import MODES, ModeSnapshot, check_mode

_WRONG = "#D55E00"  # Okabe-Ito vermillion


# -- the mode explorer: model ---------------------------------------------------
class ModeExplorerModel:
    """What the mode explorer does, without widgets: run a mode, remember the containers.

    Introduced in chapter 03. Similar to ``docker run --rm --network MODE IMAGE ip addr``.

    Args:
        lab: the session that starts the containers (anything with ``run_in_mode``).

    Attributes:
        history: the snapshots taken so far, oldest first.
    """

    def __init__(self, lab: Any) -> None:
        self.lab = lab
        self.history: list[ModeSnapshot] = []

    def _session(self) -> Any:
        """The Lab to use: a closed one (after "Run All" reached ``lab.close()``) is
        replaced by a fresh session of the same chapter and backend."""
        if getattr(self.lab, "closed", False):
            self.lab = type(self.lab)(self.lab.chapter, backend=self.lab.backend)
            self.history.clear()
        return self.lab

    @property
    def replaying(self) -> bool:
        """True when the Lab serves a recorded run instead of a live engine."""
        return getattr(self.lab, "backend", "live") == "replay"

    def recorded_calls(self) -> list[tuple[str, str | None]]:
        """In replay, the (mode, target) pairs the recording can answer, in recorded order."""
        recording = getattr(self.lab, "replay_from", None)
        found: list[tuple[str, str | None]] = []
        for key, _result in getattr(recording, "calls", []):
            name, args, kwargs = json.loads(key)
            if name == "run_in_mode":
                call = dict(zip(("mode", "target"), args, strict=False)) | kwargs
                found.append((call.get("mode"), call.get("target")))
        return list(dict.fromkeys(found))

    @property
    def modes(self) -> list[str]:
        """The modes offered: all four live; in replay, those the recording holds."""
        if not self.replaying:
            return list(MODES)
        recorded = {mode for mode, _target in self.recorded_calls()}
        return [m for m in MODES if m in recorded] or list(MODES)

    def _candidates(self) -> list[str]:
        lab = self.lab
        listed = list(getattr(lab, "container_names", []))
        ids = list(getattr(lab, "container_ids", [])) or listed  # a Lab that shows names only
        names = dict(zip(ids, listed, strict=False))
        own = [s.container for s in self.history]
        others = [name for cid, name in names.items()
                  if not _is(lab, "is_host_probe", cid, name)
                  and not _is(lab, "is_spare", cid, name)]
        return list(dict.fromkeys(own + others))

    @property
    def containers(self) -> list[str]:
        """Targets container mode can join, never the course's own probe or spares.

        Live: the containers this explorer started, then the other containers of its Lab
        (those the notebook's cells started), running now. Replay: the targets the
        recording holds an answer for.
        """
        if self.replaying:
            return [t for mode, t in self.recorded_calls() if mode == "container" and t]
        return [name for name in self._candidates() if self._running(name)]

    def _running(self, name: str) -> bool:
        check = getattr(self.lab, "running_container", None)
        if check is None:
            return True
        try:
            check(name)
        except CourseError:
            return False
        return True

    def run(self, mode: str, target: str | None = None) -> tuple[ModeSnapshot, list[dict]]:
        """Start a container in ``mode`` and read its interfaces.

        A target this explorer started that has expired since (its lifetime ended) is
        replaced: a new container of the same mode is started and joined instead.

        Args:
            mode: ``bridge``, ``host``, ``none`` or ``container``.
            target: for container mode, the container to join; ignored otherwise.

        Returns:
            The snapshot and its interface table (:meth:`ModeSnapshot.table`).

        Raises:
            BadInput: unknown mode, or container mode without a target.
            CourseError: whatever the Lab raises (engine refused, no such target …).
        """
        target = target.strip() if isinstance(target, str) else target
        mode, target = check_mode(mode, target or None)
        lab = self._session()
        self.replaced = None
        if mode == "container" and not self.replaying:
            own = {s.container: s.mode for s in self.history}
            if target in own and not self._running(target):
                fresh = lab.run_in_mode(own[target])
                self.history.append(fresh)
                self.replaced = (target, fresh.container)
                target = fresh.container
        snap = lab.run_in_mode(mode, target) if mode == "container" else lab.run_in_mode(mode)
        if not self.history and hasattr(lab, "keep_warm"):
            lab.keep_warm()  # the learner is exploring: have the next containers ready
        self.history.append(snap)
        return snap, snap.table()

    #: (expired target, its replacement) after a run that replaced one, else None.
    replaced: tuple[str, str] | None = None

    def recorded_on(self) -> str:
        """In replay, "recorded on Docker Engine X (DATE)" (the Lab's own mark); live, ""."""
        mark = getattr(self.lab, "recorded_on", None)
        return mark() if self.replaying and callable(mark) else ""


def _is(lab: Any, method: str, cid: str, name: str) -> bool:
    test = getattr(lab, method, None)
    return bool(test and test(SimpleNamespace(id=cid, name=name)))


def interface_table_html(rows: list[dict[str, Any]]) -> str:
    """An HTML table with one ``<tr>`` per interface, the name in its first ``<td>``.

    Introduced in chapter 03. The rows of :meth:`ModeSnapshot.table`; every
    cell says what it is, so the table needs no header row.
    """
    body = []
    for row in rows:
        cells = [
            ("name", f"<b>{html.escape(str(row['name']))}</b>"),
            ("index", f"ifindex {row['index']}"),
            ("peer", f"peer {html.escape(row['peer'])}" if row["peer"] else "no peer"),
            ("state", "UP" if row["up"] else "DOWN"),
            ("mac", html.escape(row["mac"]) or "no MAC"),
            ("addresses", html.escape(row["addresses"]) or "no address"),
        ]
        tds = "".join(f"<td class='dnc-col-{key}' style='padding:2px 10px'>{value}</td>"
                      for key, value in cells)
        body.append(f"<tr class='dnc-iface-row'>{tds}</tr>")
    return ("<table class='dnc-iface-table' style='border-collapse:collapse;font-family:monospace'>"
            f"{''.join(body)}</table>")


# -- the mode explorer: gui ---------------------------------------------------
def _one_sentence(err: Exception, model: ModeExplorerModel, mode: str = "",
                  target: str = "") -> str:
    if mode == "container" and not (target or "").strip():
        return ("Container mode joins another container's network: type or pick the one to "
                "join in the target box (the list offers the containers running now).")
    if isinstance(err, NotRecorded):
        return (f"This notebook is a replay of a run {model.recorded_on() or 'recorded elsewhere'}"
                ", so the explorer can show only the modes and containers that run used; to try "
                "anything else, run the course on a machine with Docker (make lab).")
    if isinstance(err, CourseError):
        return str(err)
    return f"Something unexpected went wrong ({type(err).__name__}: {err})."


def _inline(text: str) -> str:
    """Escape text; show `backticks` as code rather than as backticks."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def _figure_png(snap: ModeSnapshot, mark: str = "") -> bytes:
    fig = draw_topology(snap)
    stamp(fig, mark)  # no second mark when the figure carries the Lab's already
    try:
        buf = io.BytesIO()
        fig.savefig(buf, format=pngfile.FORMAT, dpi=fig.dpi)  # as the notebook shows it
        return buf.getvalue()
    finally:
        plt.close(fig)


def mode_explorer(lab: Any) -> widgets.VBox:
    """A small app: pick a network mode, run a container in it, see its interfaces.

    Introduced in chapter 03 (网络模式). Each "Run" is ``docker run --network MODE
    IMAGE ip addr``: the table lists the interfaces and the picture shows the
    topology. Container mode joins a container named in "target"; the names of
    the containers started earlier are offered there. Errors show as one
    sentence. CSS classes: ``dnc-explorer`` (the box), ``dnc-mode``,
    ``dnc-target``, ``dnc-run``, ``dnc-status``, ``dnc-cli``, ``dnc-table``
    (holding ``table.dnc-iface-table``) and ``dnc-figure`` (an Output with an ``<img>``).

    Args:
        lab: the session that starts the containers.

    Returns:
        The widget; display it as the cell's last expression.
    """
    model = ModeExplorerModel(lab)
    mode = widgets.Dropdown(options=model.modes, value=model.modes[0], description="mode")
    target = widgets.Combobox(placeholder="a running container's name", description="target",
                              options=tuple(model.containers), disabled=mode.value != "container",
                              ensure_option=False)
    run = widgets.Button(description="Run", button_style="primary", icon="play")
    status = widgets.HTML("Pick a mode and press Run."
                          + (f" This is a replay: every answer was {model.recorded_on()}."
                             if model.replaying else ""))
    cli = widgets.HTML("")
    table = widgets.HTML("")
    figure = widgets.Output()
    for widget, css in [(mode, "dnc-mode"), (target, "dnc-target"), (run, "dnc-run"),
                        (status, "dnc-status"), (cli, "dnc-cli"), (table, "dnc-table"),
                        (figure, "dnc-figure")]:
        widget.add_class(css)

    def offer_targets() -> None:
        try:
            target.options = tuple(model.containers)
        except Exception:  # noqa: BLE001 - the engine went away: keep the old list, Run says why
            return

    def on_mode(change: dict) -> None:
        target.disabled = change["new"] != "container"
        if not target.disabled:
            offer_targets()  # only containers running now

    def on_run(_button: widgets.Button) -> None:
        run.disabled = True
        status.value = f"Running a container in {html.escape(mode.value)} mode…"
        try:
            snap, rows = model.run(mode.value, target.value)
        except Exception as err:  # noqa: BLE001 - shown as one sentence, not a traceback
            said = _one_sentence(err, model, mode.value, target.value)
            status.value = (f"<span class='dnc-error' style='color:{_WRONG}'>"
                            f"{_inline(said)}</span>")
            cli.value = table.value = ""
            figure.clear_output()
            return
        finally:
            run.disabled = False
        offer_targets()
        said = [f"{snap.mode} mode: {snap.container} sees "
                f"{len(rows)} interface{'s' * (len(rows) != 1)}."]
        if model.replaced:
            said.append(f"({model.replaced[0]} had expired, so a new container took its place: "
                        f"{model.replaced[1]}.)")
            target.value = model.replaced[1]  # the box names a container that runs
        if model.replaying:
            said.append(f"This answer was {model.recorded_on()}, not run now.")
        status.value = html.escape(" ".join(said))
        cli.value = f"<code>{html.escape(snap.cli)}</code>"
        table.value = interface_table_html(rows)
        png = _figure_png(snap, model.recorded_on())
        with figure:
            figure.clear_output(wait=True)
            display(Image(data=png, format="png"))

    mode.observe(on_mode, names="value")
    run.on_click(on_run)
    box = _Explorer([widgets.HBox([mode, target, run]), status, cli, table, figure])
    box.add_class("dnc-explorer")
    return box


class _Explorer(widgets.VBox):
    """The explorer's box, whose text form says what it is instead of its widget tree."""

    def __repr__(self) -> str:
        return ("Mode explorer: pick a network mode (bridge, host, none or container), press "
                "Run, and see the container's interfaces and a drawing (run the cell in "
                "JupyterLab to use it).")

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        """The widget view, with this box's own text where widgets cannot show."""
        return {"text/plain": repr(self),
                "application/vnd.jupyter.widget-view+json": {
                    "version_major": 2, "version_minor": 0, "model_id": self.model_id}}
