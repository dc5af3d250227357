"""Cheap live redraws: axis ranges that follow the data in steps, and titles and ticks set only when they change.

Why: pyqtgraph's auto-range sets a plot's range to the exact data bounds on every redraw. While training, the
bounds move a little every frame, so every frame re-ran the auto-range pass, rebuilt each axis's ticks and text
(about 0.7 ms per axis), and re-laid the curves; with 2-3 plots per panel this was most of a 15-20 ms refresh.
``FollowRange`` fits the range to the data (with a small margin), and later moves a side only when the data
crosses it, then with some headroom, or refits when the data fills less than ``refit_below`` of the range. So
most frames repaint the curves and nothing else, and a still picture (a render, a paused run) has no empty
headroom beyond its data until the data grows.

The user keeps control: zooming or panning a plot (pyqtgraph then switches its auto-range off and the range is no
longer the one set here) stops the following; a double-click anywhere on the panel's plots (``resume()``), or
Reset (the panel's ``reset()`` calls ``clear()``: an empty default range until the new run's data come), starts it
again.
"""
from __future__ import annotations

import weakref
from typing import Iterable

import numpy as np
import pyqtgraph as pg

HEADROOM = 0.12      # room added beyond the data on a side it crossed, as a share of the data's span
PAD = 0.03           # margin on both sides at a refit, as a share of the span
REFIT_BELOW = 0.55   # refit when the data spans less than this share of the range (it shrank a lot)


def view_bounds(arrays: Iterable, log: bool = False) -> tuple[float, float] | None:
    """(min, max) of the finite values of ``arrays`` in view coordinates (log10 of the positive values on a
    log axis, as pyqtgraph draws them); None when there is none."""
    lo, hi = np.inf, -np.inf
    for a in arrays:
        a = np.asarray(a, dtype=np.float64).ravel()
        if log:
            a = a[a > 0]
            if a.size == 0:
                continue
            with np.errstate(divide="ignore"):
                a = np.log10(a)
        a = a[np.isfinite(a)]
        if a.size:
            lo, hi = min(lo, float(a.min())), max(hi, float(a.max()))
    return (lo, hi) if lo <= hi else None


class FollowRange:
    """One axis ("x" or "y") of a plot that follows the data in steps (see the module docstring).

    ``follow(*arrays)`` after each ``setData``: returns True when it changed the range.
    """

    def __init__(self, plot: pg.PlotItem, axis: str, min_span: float = 1e-6, headroom: float = HEADROOM,
                 pad: float = PAD, refit_below: float = REFIT_BELOW):
        self.vb = plot.vb
        self.axis = axis
        self.index = 0 if axis == "x" else 1
        self.min_span = min_span
        self.headroom, self.pad, self.refit_below = headroom, pad, refit_below
        self.shown: tuple[float, float] | None = None     # the range this object last set
        self._listening = False

    def resume(self) -> None:
        """Follow the data again (after the user zoomed or panned), from the next ``follow`` on."""
        if self.shown is not None:
            self.vb.enableAutoRange(axis=self.axis, enable=True)

    def clear(self) -> None:
        """A new run with no data yet: an empty default range (not the last run's), and follow the data again from
        its first point."""
        self.shown = None
        if self.log:
            lo, hi = -2.0, 0.0                                 # 0.01 .. 1 on a log axis
        else:
            lo, hi = (0.0, max(self.min_span, 1.0)) if self.axis == "x" else (0.0, 1.0)
        if self.axis == "x":
            self.vb.setXRange(lo, hi, padding=0)
        else:
            self.vb.setYRange(lo, hi, padding=0)
        self.vb.enableAutoRange(axis=self.axis, enable=True)

    def forget(self) -> None:
        """The axis is no longer this object's (the panel fixed it): ``resume`` leaves it alone."""
        self.shown = None

    def _listen(self) -> None:
        """Once the plot is in a scene: a double-click on that scene resumes every FollowRange of it (weak
        references: the scene's signal must not keep the panel alive)."""
        scene = self.vb.scene()
        if self._listening or scene is None:
            return
        self._listening = True
        ranges = getattr(scene, "_rnnviz_follow", None)
        if ranges is None:
            ranges = scene._rnnviz_follow = []
            scene.sigMouseClicked.connect(lambda ev, ranges=ranges: _double_clicked(ev, ranges))
        ranges.append(weakref.ref(self))

    @property
    def log(self) -> bool:
        return bool(self.vb.state["logMode"][self.index])

    def following(self) -> bool:
        """True when the range is this object's to set: auto-range is on, or the range is still the one set
        here (nobody zoomed, panned or fixed it since)."""
        if self.vb.state["autoRange"][self.index] is not False:
            return True
        if self.shown is None:
            return False
        current = self.vb.viewRange()[self.index]
        return bool(np.allclose(current, self.shown, rtol=1e-9, atol=1e-12))

    def follow(self, *arrays) -> bool:
        self._listen()
        if not self.following():
            return False
        bounds = view_bounds(arrays, self.log)
        if bounds is None:
            return False
        lo, hi = bounds
        # a sensible least span: one point (the first step) must not give an axis of 0.68930 / 0.68935
        span = max(hi - lo, self.min_span, abs(hi) * 0.05 if not self.log else 0.5)
        if hi - lo < span:                                     # too little data to span it: centre it
            mid = 0.5 * (lo + hi)
            lo, hi = mid - 0.5 * span, mid + 0.5 * span
        auto = self.vb.state["autoRange"][self.index] is not False
        if not auto and self.shown is not None:
            shown_lo, shown_hi = self.shown
            inside = shown_lo <= lo and hi <= shown_hi
            if inside and (hi - lo) >= self.refit_below * (shown_hi - shown_lo):
                return False                                   # the common case: nothing to do
            if not inside and (hi - lo) >= self.refit_below * (max(hi, shown_hi) - min(lo, shown_lo)):
                # the data crossed a side: move only that side, with headroom
                new_lo = lo - self.headroom * span if lo < shown_lo else shown_lo
                new_hi = hi + self.headroom * span if hi > shown_hi else shown_hi
                return self._set(new_lo, new_hi)
        return self._set(lo - self.pad * span, hi + self.pad * span)     # a (re)fit: the data and a margin

    def _set(self, lo: float, hi: float) -> bool:
        if self.vb.state["autoRange"][self.index] is not False:
            self.vb.enableAutoRange(axis=self.axis, enable=False)
        if self.axis == "x":
            self.vb.setXRange(lo, hi, padding=0)
        else:
            self.vb.setYRange(lo, hi, padding=0)
        self.shown = tuple(float(v) for v in self.vb.viewRange()[self.index])
        return True


def _double_clicked(event, ranges: list) -> None:
    if event.double():
        for ref in ranges:
            follow = ref()
            if follow is not None:
                follow.resume()


def set_title_once(plot: pg.PlotItem, html: str, **style) -> bool:
    """``plot.setTitle(html, **style)`` unless that exact title is already shown (a title change re-lays the
    plot out). True when it was set. A title whose style was changed by someone else since (presentation mode
    scales the titles of a panel made while it is on) is set again."""
    key = (html, tuple(sorted(style.items())))
    label = plot.titleLabel
    if getattr(plot, "_rnnviz_title", None) == key and all(label.opts.get(k) == v for k, v in style.items()):
        return False
    plot.setTitle(html, **style)
    plot._rnnviz_title = key
    return True


def set_ticks_once(axis: pg.AxisItem, ticks) -> bool:
    """``axis.setTicks(ticks)`` unless the same ticks are set already (setTicks rebuilds the axis picture)."""
    key = None if ticks is None else tuple(tuple((float(v), str(s)) for v, s in level) for level in ticks)
    if getattr(axis, "_rnnviz_ticks", ()) == key:
        return False
    axis.setTicks(ticks)
    axis._rnnviz_ticks = key
    return True
