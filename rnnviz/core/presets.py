"""Built-in presets: a dataset with settings that learn, and the text a lesson shows.

Each preset is a TOML file in ``resources/presets`` (installed as ``rnnviz.resources``)::

    [lesson]
    title = "Sentiment with negation"
    description = "one line for `rnnviz presets`"
    text = "Two or three sentences shown in the window: what to do, what to watch."
    panels = ["loss", "hidden", "gradients", "confusion"]   # first; keys of the window's panel registry; the
                                                            # first is what the lesson is about: the big place
    tokens = ["not"]       # optional: words the text points at; the token axes always label them
    order = 1
    action = "open-file"   # optional: what opening the lesson does besides loading the settings
    controls = ["delay"]   # optional: lesson controls shown in the lesson bar (a slider for ``delay``)

    [settings]          # any Config field (may be empty: the lesson then keeps the Config defaults)
    dataset = "negation"
    cell = "rnn"

A preset may also fix the starting weights (``start_weights = "NAME"`` in any run's settings reads the
``[weights]`` table of preset NAME; ``nn.fixed_weights`` puts them in): a parameter is a list (b, c), a list of rows
(U, W, V), or a table that names the columns of U by input token and the rows of V (the entries of c) by class::

    [weights]
    U = { d = [0.6, 0.2, 0.9], o = [0.8, 0.2, 0.8] }    # the column U[:, x] of each token x
    W = [[0.1, 0.5, 0.1], [0.5, 0.9, 0.3], [0.3, 0.2, 0.1]]
    V = { d = [0.9, 0.8, 0.3], o = [0.2, 0.3, 0.4] }    # the row V[y, :] of each class y

``panels`` are checked by the window (``rnnviz.gui.panels.registry.order_for``) when it opens the preset: the
panels are the window's, and the core, which knows no window, reads them as plain names.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import tomllib

from rnnviz.core.config import Config, from_dict
from rnnviz.core.errors import ConfigError

DEFAULT_PRESET = "negation"
LESSON_ACTIONS = ("", "open-file")      # "open-file": the lesson asks for a data file of the user's own
LESSON_CONTROLS = ("delay",)             # settings a lesson may put on a slider in the lesson bar
# every [lesson] key and its type (add new lesson fields here: unknown keys are refused, typos included)
LESSON_KEYS = {"title": str, "description": str, "text": str, "panels": list, "order": int, "action": str,
               "controls": list, "tokens": list}


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    description: str
    text: str
    config: Config
    panels: tuple[str, ...] = field(default_factory=tuple)
    order: int = 100
    action: str = ""                 # "" or one of LESSON_ACTIONS
    controls: tuple[str, ...] = ()   # lesson-bar controls, names from LESSON_CONTROLS
    tokens: tuple[str, ...] = ()     # words the lesson text names (token axes always label them)
    source: str = ""                 # the file it was read from (errors name it)
    weights: dict = field(default_factory=dict)   # the [weights] table: parameter name -> list, rows or named table


def _preset_dir() -> Path:
    return Path(str(resources.files("rnnviz.resources") / "presets"))


def parse_preset(name: str, text: str, source: str = "") -> Preset:
    """A Preset from TOML text; errors name the preset and the field."""
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError) as exc:   # ValueError: an integer of thousands of digits
        raise ConfigError("preset", f"{source or name}: not valid TOML ({exc})") from None
    except RecursionError:                                  # arrays or tables nested a thousand deep
        raise ConfigError("preset", f"{source or name}: not a preset: its values are nested too deeply") from None
    lesson = data.get("lesson", {})
    settings = data.get("settings", {})
    weights = data.get("weights", {})
    _check_weights(weights, source or name)
    unknown = set(data) - {"lesson", "settings", "weights"}
    if unknown:
        raise ConfigError("preset", f"{source or name}: unknown section(s) {', '.join(sorted(unknown))}")
    _check_lesson(lesson, source or name)
    try:
        config = from_dict(settings)
    except ConfigError as exc:
        raise ConfigError(exc.field, f"{exc.what} (in {source or name}, [settings])") from None
    action = str(lesson.get("action", ""))
    if action not in LESSON_ACTIONS:
        raise ConfigError("preset", f"{source or name}: [lesson] action must be one of "
                                    f"{', '.join(repr(a) for a in LESSON_ACTIONS)}, got {action!r}")
    controls = tuple(str(c) for c in lesson.get("controls", ()))
    bad = [c for c in controls if c not in LESSON_CONTROLS]
    if bad:
        raise ConfigError("preset", f"{source or name}: [lesson] controls: unknown {', '.join(bad)}; "
                                    f"allowed: {', '.join(LESSON_CONTROLS)}")
    return Preset(name=name, title=str(lesson.get("title", name)), description=str(lesson.get("description", "")),
                  text=str(lesson.get("text", "")), config=config, panels=tuple(lesson.get("panels", ())),
                  order=int(lesson.get("order", 100)), action=action, controls=controls,
                  tokens=tuple(str(t) for t in lesson.get("tokens", ())), source=source or name,
                  weights=dict(weights))


def lesson_about(preset: Preset | None, dataset: str) -> bool:
    """Whether ``preset``'s lesson is about ``dataset``, so that its title and text apply to it (a lesson that asks
    for the user's own file is about none: its data are whatever file was opened)."""
    return (preset is not None and not preset.action
            and getattr(preset.config, "dataset", None) == dataset)


def _numbers(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)


def _check_weights(weights, where: str) -> None:
    """[weights]: each parameter a list of numbers, a list of such lists (rows), or a table of named lists/numbers."""
    if not isinstance(weights, dict):
        raise ConfigError("weights", f"{where}: [weights] must be a table, got {type(weights).__name__}")
    for key, value in weights.items():
        ok = (_numbers(value) or (isinstance(value, list) and value and all(_numbers(r) for r in value))
              or (isinstance(value, dict) and all(_numbers(v) or _numbers([v]) for v in value.values())))
        if not ok:
            raise ConfigError(f"weights.{key}", f"{where}: [weights] {key} must be numbers, rows of numbers or a "
                                                f"table of them, got {value!r:.60}")


def _check_lesson(lesson, where: str) -> None:
    """[lesson] must be a table of known keys with the right types (ConfigError naming the key otherwise)."""
    if not isinstance(lesson, dict):
        raise ConfigError("lesson", f"{where}: [lesson] must be a table, got {type(lesson).__name__}")
    for key, value in lesson.items():
        want = LESSON_KEYS.get(key)
        if want is None:
            raise ConfigError(f"lesson.{key}", f"{where}: unknown [lesson] key; known keys: "
                                               f"{', '.join(sorted(LESSON_KEYS))}")
        if not isinstance(value, want) or isinstance(value, bool) or (
                want is list and not all(isinstance(v, str) for v in value)):
            kind = {str: "text", int: "a whole number", list: "a list of texts"}[want]
            raise ConfigError(f"lesson.{key}", f"{where}: must be {kind}, got {value!r:.60}")
    if not -10**6 <= lesson.get("order", 0) <= 10**6:
        raise ConfigError("lesson.order", f"{where}: must be a whole number from -1000000 to 1000000")


def list_presets() -> list[Preset]:
    """Every built-in preset, in lesson order."""
    presets = [parse_preset(p.stem, p.read_text(encoding="utf-8"), str(p)) for p in _preset_dir().glob("*.toml")]
    return sorted(presets, key=lambda p: (p.order, p.name))


def preset_names() -> list[str]:
    """The built-in presets' names, in lesson order."""
    return [p.name for p in list_presets()]


def builtin_names() -> list[str]:
    """The names of the built-in presets (file names, without reading them)."""
    return sorted(p.stem for p in _preset_dir().glob("*.toml"))


def load_preset(name: str) -> Preset:
    """The built-in preset called ``name``; a clear ConfigError listing the known names otherwise. Only names of
    built-in presets are accepted (never a path): a file of one's own is read by ``load_preset_file``."""
    if not isinstance(name, str) or name not in builtin_names():
        hint = ("; for a preset file of your own use --preset-file PATH" if isinstance(name, str) and (
            "/" in name or "\\" in name or name.endswith(".toml")) else "")
        raise ConfigError("preset", f"unknown preset {str(name)[:80]!r}; built-in presets: "
                                    f"{', '.join(preset_names())}{hint}")
    path = _preset_dir() / f"{name}.toml"
    return parse_preset(name, path.read_text(encoding="utf-8"), str(path))


MAX_PRESET_BYTES = 2**20        # a preset file is a few lines; anything larger is not one


def load_preset_file(path: str | Path) -> Preset:
    """A preset from a TOML file of one's own (``--preset-file``): a regular file of at most MAX_PRESET_BYTES of
    UTF-8 TOML. Every problem is one ConfigError naming the file. Its name is the file's stem."""
    path = Path(path)
    try:
        if path.is_dir():
            raise ConfigError("preset", f"{path}: is a folder, not a preset file")
        if path.exists() and not path.is_file():        # a pipe would block the read; a device never ends
            raise ConfigError("preset", f"{path}: not a regular file (a device, pipe or socket)")
        with open(path, "rb") as fh:
            raw = fh.read(MAX_PRESET_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError("preset", f"{path}: no such file") from None
    except OSError as exc:
        raise ConfigError("preset", f"{path}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    if len(raw) > MAX_PRESET_BYTES:
        raise ConfigError("preset", f"{path}: larger than {MAX_PRESET_BYTES // 1024} KB; a preset is a few lines of "
                                    "TOML")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ConfigError("preset", f"{path}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the "
                                    "file as UTF-8") from None
    return parse_preset(path.stem or "preset", text, str(path))
