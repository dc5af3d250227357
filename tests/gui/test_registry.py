"""The one panel registry (``rnnviz.gui.panels.registry.SPECS``): every spec names a Panel class, the Snapshot fields
it declares are exactly the ones its ``render`` reads, every panel draws real Snapshots (hand-made and from a real
Trainer) in the light and dark themes and in presentation mode, no other list of panels hides in ``rnnviz/gui``,
and a preset naming a panel the registry does not know is refused with one line naming its file."""
from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtWidgets
from PySide6.QtGui import QImage

from rnnviz.core.config import Config
from rnnviz.core.errors import ConfigError
from rnnviz.core.explore.capture import build_snapshot
from rnnviz.core.explore.state_space import StateSpaceView
from rnnviz.core.presets import list_presets, parse_preset
from rnnviz.core.snapshot import Snapshot
from rnnviz.gui import style
from rnnviz.gui.panels import PANEL_CLASSES, colormaps, plotting
from rnnviz.gui.panels.base import Panel
from rnnviz.gui.panels.registry import (
    FIXED_PLACES,
    PANELS,
    PROJECTOR_CHANGES,
    SPECS,
    order_for,
    preset_order,
    spec_of,
)

from helpers import REPO, trainer_for
from qt_helpers import no_leaks, open_window  # noqa: F401  (no_leaks is a fixture)
from snapshot_factory import make_dataset, make_snapshot

SIZE = (700, 450)
FIELDS = {f.name for f in dataclasses.fields(Snapshot)}
IDS = [spec.key for spec in SPECS]


def show(qtbot, spec):
    panel = spec.load()()
    qtbot.addWidget(panel)
    panel.resize(*SIZE)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def picture(panel) -> np.ndarray:
    """The panel's pixels once settled (drawing defers some layout to later event-loop turns: grab until two grabs
    agree), with no text cursor in them."""
    last = None
    for _ in range(6):
        QtWidgets.QApplication.processEvents()
        focus = QtWidgets.QApplication.focusWidget()
        if focus is not None:
            focus.clearFocus()
        image = panel.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
        bits = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
        pixels = bits.reshape(image.height(), image.bytesPerLine()).copy()
        if last is not None and np.array_equal(pixels, last):
            break
        last = pixels
    return pixels


# ------------------------------------------------------------------------------------------------ the specs
def test_every_spec_names_a_panel_class_its_snapshot_fields_and_help():
    assert len(set(IDS)) == len(SPECS) and len({(s.module, s.cls) for s in SPECS}) == len(SPECS)
    assert len({s.title for s in SPECS}) == len(SPECS) and all(s.title for s in SPECS)
    assert list(PANELS) == IDS and all(PANELS[s.key] is s for s in SPECS)
    for spec in SPECS:
        cls = spec.load()
        assert issubclass(cls, Panel) and cls.__name__ == spec.cls, spec.key
        assert spec_of(cls) is spec
        assert set(spec.reads) <= FIELDS, (spec.key, set(spec.reads) - FIELDS)
        assert len(set(spec.reads)) == len(spec.reads), spec.key
        assert spec.projector in PROJECTOR_CHANGES, spec.key
        for cfg in (Config(), Config(cell="lstm"), Config(dataset="chars", task="generation", tokenize="char")):
            text = spec.help(cfg)
            assert text.startswith(f"<b>{spec.title.split()[0]}"), (spec.key, text[:40])
    assert PANEL_CLASSES == tuple(spec.load() for spec in SPECS)
    assert 0 < FIXED_PLACES < len(SPECS)


def test_a_panels_title_is_its_specs(qtbot):
    for spec in SPECS:
        panel = spec.load()()
        qtbot.addWidget(panel)
        assert panel.title == spec.title and panel.spec is spec

    class Local(spec.load()):      # a subclass (the race window's kind of use) keeps its parent's registration
        pass

    assert spec_of(Local) is spec
    with pytest.raises(KeyError, match="Panel is not in"):
        spec_of(Panel)


# ------------------------------------------------------------------------------------------------ Snapshot fields
class Untouched(AssertionError):
    pass


class Untouchable:
    """Stands in for a Snapshot field a panel's spec does not list: any use of it raises ``Untouched``."""

    def __init__(self, name: str):
        object.__setattr__(self, "_name", name)

    def _fail(self, *args, **kwargs):
        raise Untouched(f"Snapshot.{object.__getattribute__(self, '_name')} is read but not in the spec's reads")

    def __repr__(self) -> str:
        return f"<untouchable Snapshot.{object.__getattribute__(self, '_name')}>"

    __getattr__ = __setattr__ = __bool__ = __len__ = __iter__ = __getitem__ = __contains__ = _fail
    __array__ = __float__ = __int__ = __index__ = __complex__ = __str__ = __format__ = _fail
    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __hash__ = _fail
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = __neg__ = _fail


def only(snap: Snapshot, keep) -> Snapshot:
    """``snap`` with every field not in ``keep`` made untouchable."""
    return dataclasses.replace(snap, **{name: Untouchable(name) for name in FIELDS - set(keep)})


SNAPSHOTS = {
    "classification": dict(task="classification", k=4, cell="rnn"),
    "labelling-lstm-bidirectional": dict(task="labelling", cell="lstm", bidirectional=True, d=8),
    "generation-gru": dict(task="generation", cell="gru", T=20),
}


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_a_panel_draws_the_same_from_only_the_fields_its_spec_lists(qtbot, spec):
    """Every other field of the Snapshot explodes when touched, and the panel draws the same picture."""
    for name, kw in SNAPSHOTS.items():
        snap = make_snapshot(**kw)
        full, partial = show(qtbot, spec), show(qtbot, spec)
        full.render(snap)
        partial.render(only(snap, spec.reads))
        assert np.array_equal(picture(full), picture(partial)), (spec.key, name)
        full.close()
        partial.close()


@pytest.mark.parametrize("spec", [s for s in SPECS if s.reads], ids=[s.key for s in SPECS if s.reads])
def test_every_field_a_spec_lists_is_read(qtbot, spec):
    """No stale entry: each listed field, made untouchable alone, breaks the render of at least one task."""
    snaps = [make_snapshot(**kw) for kw in SNAPSHOTS.values()]
    for field in spec.reads:
        broke = 0
        for snap in snaps:
            panel = spec.load()()
            qtbot.addWidget(panel)
            try:
                panel.render(dataclasses.replace(snap, **{field: Untouchable(field)}))
            except Untouched:
                broke += 1
            panel.close()
        assert broke, f"{spec.key} lists Snapshot.{field} but never reads it"


# ------------------------------------------------------------------------------------------------ real Snapshots
@pytest.fixture(scope="module")
def trained():
    """Real Snapshots a few steps in, with the slow-motion BPTT trace, the who-reaches-whom matrix and the state
    space (the views computed only while shown), and their datasets."""
    out = {}
    for preset, cell in (("negation", "rnn"), ("pos", "lstm"), ("chars", "gru")):
        trainer = trainer_for(preset, steps=12, cell=cell)
        out[f"trainer-{preset}-{cell}"] = (build_snapshot(trainer, bptt=True, reach=True,
                                                          state_space=StateSpaceView()), trainer.dataset)
    return out


def real_snapshots(trained):
    made = {f"factory-{name}": (make_snapshot(**kw), make_dataset("labelling" if kw["task"] == "labelling"
                                                                  else "classification"))
            for name, kw in SNAPSHOTS.items()}
    return {**made, **trained}


@pytest.mark.parametrize("look", ["light", "dark", "presentation"])
def test_every_panel_draws_real_snapshots_in_each_look(qtbot, trained, look):
    theme = "dark" if look == "dark" else "light"
    assert all(s.probe.bptt is not None for s, _ in trained.values())
    snapshots = real_snapshots(trained)
    for spec in SPECS:
        blank = None
        for name, (snap, dataset) in snapshots.items():
            panel = show(qtbot, spec)
            panel.set_theme(theme)
            panel.set_projector(look == "presentation")
            if blank is None:
                blank = picture(panel)
            if spec.reads:
                panel.render(snap)
            else:                                    # the data panel shows the Dataset, not the Snapshot
                panel.set_dataset(dataset)
                panel.render(snap)
            for view in panel._views:
                assert view.backgroundBrush().color().name() == style.theme(theme).background, (spec.key, name)
            drawn = picture(panel)
            assert not np.array_equal(drawn, blank), f"{spec.key} drew nothing of {name} ({look})"
            if spec.projector:
                strong = colormaps.heatmap_cmap(spec.projector, look == "presentation", theme)
                assert panel.cmap.name == strong.name, (spec.key, look)
            panel.grab().save(f"/tmp/registry_{spec.key}_{name}_{look}.png")
            panel.close()


def test_set_projector_swaps_the_maps_the_specs_name_and_back(qtbot):
    snap = make_snapshot("classification", k=3, cell="lstm")      # an LSTM: the gates panel has heatmaps too
    for spec in SPECS:
        panel = show(qtbot, spec)
        panel.render(snap)
        before = picture(panel)
        panel.set_projector(True)
        assert panel.projector
        if spec.projector:
            assert panel.cmap.name == colormaps.heatmap_cmap(spec.projector, True).name
            assert not np.array_equal(picture(panel), before), spec.key
        else:
            assert np.array_equal(picture(panel), before), spec.key   # "nothing of its own"
        panel.set_projector(False)
        assert np.array_equal(picture(panel), before), spec.key
        panel.close()


def test_confusion_ink_follows_the_projector_map(qtbot):
    """The counts take black or white, whichever reads better on their cell's colour in the map shown: on the
    strong map cells of 30-40 % are dark enough to need white ink, on the normal one they are pale."""
    panel = show(qtbot, PANELS["confusion"])
    conf = np.array([[6, 3, 1], [3, 6, 1], [0, 4, 6]])
    snap = dataclasses.replace(make_snapshot("classification", k=3), confusion=conf,
                               per_class_accuracy=np.diag(conf) / conf.sum(axis=1))
    panel.render(snap)

    def inks():
        return [[item.color.name() for item in row] for row in panel.cell_text]

    def expected(projector):
        cmap = colormaps.heatmap_cmap("sequential", projector)
        return [[colormaps.text_colour_on(cmap, round(255 * conf[i, j] / conf[i].sum()) / 255).name()
                 for j in range(3)] for i in range(3)]

    assert inks() == expected(False)
    panel.set_projector(True)
    assert inks() == expected(True) != expected(False)
    panel.set_projector(False)
    assert inks() == expected(False)


# ------------------------------------------------------------------------------------------------ one list
def _panel_names(node: ast.AST, names: set[str]) -> list[str]:
    elts = node.keys if isinstance(node, ast.Dict) else node.elts
    found = []
    for e in elts:
        if isinstance(e, ast.Constant) and isinstance(e.value, str) and e.value in names:
            found.append(e.value)
        elif isinstance(e, ast.Name) and e.id in names:
            found.append(e.id)
    return found


# the race window shows its own two panels side by side (A and B); it names which, it does not list the panels
ALLOWED = {("windows/race.py", ("gradients", "hidden"))}


def test_the_registry_is_the_only_list_of_panels():
    """No list, tuple, set or dict in rnnviz/gui made of two or more panel keys or class names (a dict of settings
    whose keys include "hidden" and "bptt" is not one: its other keys are no panels)."""
    keys, classes = set(PANELS), {s.cls for s in SPECS}
    gui = REPO / "rnnviz" / "gui"
    found = []
    for path in sorted(gui.rglob("*.py")):
        rel = path.relative_to(gui).as_posix()
        if rel == "panels/registry.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
                named = _panel_names(node, keys) + _panel_names(node, classes)
                strings = [e for e in (node.keys if isinstance(node, ast.Dict) else node.elts)
                           if isinstance(e, ast.Constant) and isinstance(e.value, str)]
                if len(set(named)) >= 2 and len(named) >= len(strings) and (rel, tuple(named)) not in ALLOWED:
                    found.append(f"{rel}:{node.lineno}: {named}")
    assert not found, "panels listed outside registry.SPECS:\n" + "\n".join(found)


# ------------------------------------------------------------------------------------------------ presets
def test_every_built_in_preset_names_known_panels():
    presets = list_presets()
    assert presets
    for preset in presets:
        order = preset_order(preset)
        assert order[:len(preset.panels)] == list(preset.panels) and sorted(order) == sorted(PANELS), preset.name


def _bad_preset(tmp_path: Path, panels: str) -> Path:
    path = tmp_path / "mine.toml"
    path.write_text(f'[lesson]\ntitle = "Mine"\ntext = "A. B."\npanels = {panels}\n[settings]\n'
                    'dataset = "negation"\nhidden = 8\nn_examples = 120\n', encoding="utf-8")
    return path


@pytest.mark.parametrize("panels, words", [('["loss", "lss"]', "unknown panel 'lss'; known panels: "
                                                              + ", ".join(PANELS)),
                                           ('["loss", "hidden", "loss"]', "panel 'loss' is listed twice")])
def test_an_unknown_panel_in_a_preset_is_one_line_naming_the_file(tmp_path, panels, words):
    path = _bad_preset(tmp_path, panels)
    preset = parse_preset("mine", path.read_text(encoding="utf-8"), str(path))   # the core reads names only
    with pytest.raises(ConfigError) as info:
        preset_order(preset)
    message = str(info.value)
    assert "\n" not in message and str(path) in message and words in message
    assert message.startswith("setting 'lesson.panels': ")
    with pytest.raises(ConfigError, match="known panels|listed twice"):
        order_for(("weights", "nope"))


def test_the_window_refuses_such_a_preset_before_it_starts(qtbot, tmp_path):
    from rnnviz.gui.main_window import MainWindow

    path = _bad_preset(tmp_path, '["loss", "lss"]')
    preset = parse_preset("mine", path.read_text(encoding="utf-8"), str(path))
    with pytest.raises(ConfigError, match=f"{path}: unknown panel 'lss'"):
        MainWindow(preset=preset, backend="thread")


def test_rnnviz_render_with_such_a_preset_prints_one_line(tmp_path, monkeypatch, capsys):
    from rnnviz import cli
    from rnnviz.core import presets

    _bad_preset(tmp_path, '["loss", "lss"]')
    monkeypatch.setattr(presets, "_preset_dir", lambda: tmp_path)
    out = tmp_path / "x.png"
    code = cli.main(["render", "--preset", "mine", "--steps", "5", "--out", str(out)])
    _, err = capsys.readouterr()
    assert code == 2 and not out.exists()
    assert err.count("\n") == 1 and str(tmp_path / "mine.toml") in err and "known panels: loss, hidden" in err


def test_a_lesson_with_such_a_preset_is_not_opened(qtbot, tmp_path, no_leaks):
    win = open_window(qtbot)
    try:
        path = _bad_preset(tmp_path, '["gradients", "lss"]')
        preset = parse_preset("mine", path.read_text(encoding="utf-8"), str(path))
        errors, order, config = [], list(win.order), win.controller.config
        win.show_error = lambda title, message: errors.append((title, message))
        assert win.lessons.open(preset) is False
        assert errors and errors[0][0] == "Could not open the lesson" and str(path) in errors[0][1]
        assert win.order == order and win.controller.config == config and win.preset is not preset
    finally:
        win.close()


def test_text_colours_on_is_text_colour_on_for_each_fraction(qapp):
    """The confusion matrix's 256 inks come from one lookup: the same colours as one lookup per fraction."""
    import pyqtgraph as pg

    from rnnviz.gui.panels import plotting

    fractions = [i / 255 for i in range(256)] + [-0.5, 1.5]
    for name in ("viridis", "inferno", "CET-L1"):
        cmap = pg.colormap.get(name)
        one_by_one = [colormaps.text_colour_on(cmap, f).name() for f in fractions]
        assert [c.name() for c in colormaps.text_colours_on(cmap, fractions)] == one_by_one
        assert {"#000000", "#ffffff"} == set(one_by_one)
