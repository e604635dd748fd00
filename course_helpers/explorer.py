"""The mode explorer: pick a network mode, run a container in it, see its interfaces.

Introduced in chapter 03 (网络模式, network modes). As in the jupyter-widgets
tutorial, the logic (:class:`ModeExplorerModel`, :func:`interface_table_html`)
is kept apart from the widgets that show it, so it is tested without a browser.
Widgets carry stable CSS classes (``dnc-…``) for the browser tests.
"""

from __future__ import annotations

import html
import io
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import Image, display

from .core.errors import CourseError
from .figures import draw_topology
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
    def containers(self) -> list[str]:
        """Targets container mode can join: the containers this explorer started, then
        the other containers of its Lab (those the notebook's cells started)."""
        own = [s.container for s in self.history]
        return list(dict.fromkeys(own + list(getattr(self.lab, "container_names", []))))

    def run(self, mode: str, target: str | None = None) -> tuple[ModeSnapshot, list[dict]]:
        """Start a container in ``mode`` and read its interfaces.

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
        snap = lab.run_in_mode(mode, target) if mode == "container" else lab.run_in_mode(mode)
        if not self.history and hasattr(lab, "keep_warm"):
            lab.keep_warm()  # the learner is exploring: have the next containers ready
        self.history.append(snap)
        return snap, snap.table()


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
def _one_sentence(err: Exception) -> str:
    if isinstance(err, CourseError):
        return str(err)
    return f"Something unexpected went wrong ({type(err).__name__}: {err})."


def _figure_png(snap: ModeSnapshot) -> bytes:
    fig = draw_topology(snap)
    try:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90)
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
    mode = widgets.Dropdown(options=list(MODES), value="bridge", description="mode")
    target = widgets.Combobox(placeholder="a running container's name", description="target",
                              options=tuple(model.containers), disabled=True,
                              ensure_option=False)
    run = widgets.Button(description="Run", button_style="primary", icon="play")
    status = widgets.HTML("Pick a mode and press Run.")
    cli = widgets.HTML("")
    table = widgets.HTML("")
    figure = widgets.Output()
    for widget, css in [(mode, "dnc-mode"), (target, "dnc-target"), (run, "dnc-run"),
                        (status, "dnc-status"), (cli, "dnc-cli"), (table, "dnc-table"),
                        (figure, "dnc-figure")]:
        widget.add_class(css)

    def on_mode(change: dict) -> None:
        target.disabled = change["new"] != "container"

    def on_run(_button: widgets.Button) -> None:
        run.disabled = True
        status.value = f"Running a container in {html.escape(mode.value)} mode…"
        try:
            snap, rows = model.run(mode.value, target.value)
        except Exception as err:  # noqa: BLE001 - shown as one sentence, not a traceback
            status.value = (f"<span class='dnc-error' style='color:{_WRONG}'>"
                            f"{html.escape(_one_sentence(err))}</span>")
            cli.value = table.value = ""
            figure.clear_output()
            return
        finally:
            run.disabled = False
        target.options = tuple(model.containers)
        status.value = html.escape(f"{snap.mode} mode: {snap.container} sees "
                                   f"{len(rows)} interface{'s' * (len(rows) != 1)}.")
        cli.value = f"<code>{html.escape(snap.cli)}</code>"
        table.value = interface_table_html(rows)
        png = _figure_png(snap)
        with figure:
            figure.clear_output(wait=True)
            display(Image(data=png, format="png"))

    mode.observe(on_mode, names="value")
    run.on_click(on_run)
    box = widgets.VBox([widgets.HBox([mode, target, run]), status, cli, table, figure])
    box.add_class("dnc-explorer")
    return box
