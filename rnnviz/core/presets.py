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


def _preset_dir() -> Path:
    return Path(str(resources.files("rnnviz.resources") / "presets"))


def parse_preset(name: str, text: str, source: str = "") -> Preset:
    """A Preset from TOML text; errors name the preset and the field."""
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError) as exc:   # ValueError: an integer of thousands of digits
        raise ConfigError("preset", f"{source or name}: not valid TOML ({exc})") from None
    lesson = data.get("lesson", {})
    settings = data.get("settings", {})
    unknown = set(data) - {"lesson", "settings"}
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
                  tokens=tuple(str(t) for t in lesson.get("tokens", ())), source=source or name)


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
    return [p.name for p in list_presets()]


def load_preset(name: str) -> Preset:
    """The preset called ``name``; a clear ConfigError listing the known names otherwise."""
    path = _preset_dir() / f"{name}.toml"
    if not path.is_file():
        raise ConfigError("preset", f"unknown preset {name!r}; built-in presets: {', '.join(preset_names())}")
    return parse_preset(name, path.read_text(encoding="utf-8"), str(path))
