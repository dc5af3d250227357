"""Data panel: how text becomes numbers. A small padded batch as tokens and as ids, the lengths vector, the
vocabulary, and the one-hot vector of a clicked token (and why ``U x_t`` is just the column ``U[:, id]``).

Driven by ``set_dataset(dataset)``, not by snapshots.
"""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from rnnviz.core.data.batch import IGNORE, make_batch
from rnnviz.gui import style
from rnnviz.gui.panels import base, plotting
from rnnviz.gui.panels.base import Panel

BATCH = 4
NARROW_BELOW = 520      # panel width (px, at the normal font) below which the vocabulary goes under the batch
CONTENT_HEIGHT = {False: 440, True: 760}   # (narrow) below this height the panel scrolls instead of squashing
SPECIALS = ("<pad>", "<unk>", "<sos>", "<eos>")
READ_OUT = {       # where the loss reads the outputs, per task (how the lengths vector is used)
    "classification": "the class is read at each sequence's true last step and padding adds nothing to the loss.",
    "labelling": (f"every real step's output is compared with its tag, and the padded steps' targets are {IGNORE}: "
                  "the loss skips them."),
    "generation": (f"every real step predicts the next token, and the padded steps' targets are {IGNORE}: the loss "
                   "skips them."),
}


def vocab_tokens(vocab) -> list[str]:
    """The vocabulary's tokens, index = id (``vocab.tokens``, or ``vocab.itos``)."""
    for name in ("tokens", "itos", "id_to_token"):
        toks = getattr(vocab, name, None)
        if toks is not None:
            return list(toks)
    return [str(i) for i in range(len(vocab))]


def vocab_counts(vocab, tokens: list[str]) -> list[int] | None:
    """Training-split counts per id when the vocabulary keeps them (``counts`` / ``freqs``: list or dict)."""
    for name in ("counts", "freqs", "frequencies", "freq"):
        c = getattr(vocab, name, None)
        if c is None:
            continue
        if isinstance(c, dict):
            return [int(c.get(t, 0)) for t in tokens]
        try:
            c = list(c)
        except TypeError:
            continue
        if len(c) == len(tokens):
            return [int(x) for x in c]
    return None


class VocabModel(QtCore.QAbstractTableModel):
    """id | token | count, cheap for any vocabulary size (no item per cell)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.tokens: list[str] = []
        self.counts: list[int] | None = None

    def set_vocab(self, tokens: list[str], counts: list[int] | None) -> None:
        self.beginResetModel()
        self.tokens, self.counts = tokens, counts
        self.endResetModel()

    def rowCount(self, parent=QtCore.QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.tokens)

    def columnCount(self, parent=QtCore.QModelIndex()) -> int:
        return 0 if parent.isValid() else (3 if self.counts is not None else 2)

    def data(self, index, role=QtCore.Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r, c = index.row(), index.column()
        if role == QtCore.Qt.ItemDataRole.DisplayRole:
            if c == 0:
                return str(r)
            if c == 1:
                return plotting.display_token(self.tokens[r])
            return str(self.counts[r]) if self.counts is not None else None
        if role == QtCore.Qt.ItemDataRole.TextAlignmentRole and c != 1:
            return int(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
        if role == QtCore.Qt.ItemDataRole.ForegroundRole and self.tokens[r] in SPECIALS:
            return QtGui.QBrush(QtGui.QColor(style.colour(0)))
        return None

    def headerData(self, section, orientation, role=QtCore.Qt.ItemDataRole.DisplayRole):
        if role == QtCore.Qt.ItemDataRole.DisplayRole and orientation == QtCore.Qt.Orientation.Horizontal:
            return ("id", "token", "count (train)")[section]
        return None


def _table(font_pt: float = style.FONT_PT + 1) -> QtWidgets.QTableWidget:
    t = QtWidgets.QTableWidget()
    t.setFont(style.font(font_pt))
    t.horizontalHeader().setFont(style.font(style.SMALL_PT))
    t.verticalHeader().setFont(style.font(style.SMALL_PT))
    t.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
    t.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
    t.verticalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
    return t


class DataPanel(Panel):
    """Public API: ``set_dataset(dataset)``, ``show_batch(start)``, ``next_batch()``, ``select_token(id)``,
    ``render(snapshot)`` (no-op), ``reset()``, ``set_theme(name)``.

    Widgets (for tests): ``token_table`` (B rows x T columns of tokens, plus a "class" column for
    classification), ``id_table`` (the same as ids, plus a "length" column), ``lengths_label``, ``vocab_view`` /
    ``vocab_model``, ``onehot_label``, ``batch`` (the rnnviz.core.data.batch.Batch shown).
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.dataset = None
        self.batch = None
        self._start = 0
        self._tokens: list[str] = []

        self.heading = style.label("How text becomes numbers", style.TITLE_PT, bold=True, wrap=True)
        self.explain = style.label("", style.FONT_PT, wrap=True)
        self.explain.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.token_table = _table()
        self.id_table = _table()
        self.lengths_label = style.label("", style.FONT_PT + 1, wrap=True)
        self.lengths_label.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.next_button = QtWidgets.QPushButton("Another batch \u25b6")
        self.next_button.setFont(style.font())
        self.next_button.clicked.connect(self.next_batch)
        self.vocab_model = VocabModel(self)
        self.vocab_view = QtWidgets.QTableView()
        self.vocab_view.setModel(self.vocab_model)
        self.vocab_view.setFont(style.font(style.FONT_PT))
        self.vocab_view.verticalHeader().setVisible(False)
        self.vocab_view.verticalHeader().setDefaultSectionSize(22)
        self.vocab_view.horizontalHeader().setStretchLastSection(True)
        self.vocab_view.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.vocab_view.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.vocab_title = style.label("Vocabulary", style.FONT_PT, bold=True, wrap=True)
        self.onehot_label = style.label("", style.FONT_PT, wrap=True)
        self.onehot_label.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.onehot_label.setMinimumHeight(64)
        self.onehot_label.setAlignment(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop)

        self.token_table.cellClicked.connect(self._cell_clicked)
        self.id_table.cellClicked.connect(self._cell_clicked)
        self.vocab_view.clicked.connect(self._vocab_clicked)     # a method, not a lambda: no cycle via a closure

        left = QtWidgets.QWidget()
        ll = QtWidgets.QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        self._head = head = QtWidgets.QBoxLayout(QtWidgets.QBoxLayout.Direction.LeftToRight)
        self.batch_title = style.label("", style.FONT_PT, bold=True, wrap=True)
        head.addWidget(self.batch_title, 1)
        head.addWidget(self.next_button)
        ll.addLayout(head)
        ll.addWidget(self.token_table, 1)
        ll.addWidget(style.label("\u2026 the same batch as ids (what the model reads)", style.FONT_PT, bold=True))
        ll.addWidget(self.id_table, 1)
        ll.addWidget(self.lengths_label)
        right = QtWidgets.QWidget()
        rl = QtWidgets.QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.vocab_title)
        rl.addWidget(self.vocab_view, 1)
        self.splitter = splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        left.setMinimumWidth(200)
        right.setMinimumWidth(120)
        self.vocab_view.setMinimumWidth(120)
        self._content = content = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(content)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.heading)
        layout.addWidget(self.explain)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.onehot_label)
        self.narrow: bool | None = None
        self._set_narrow(False)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(content)
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.reset()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """A narrow panel (the side place of a small window) stacks its parts instead of cutting them."""
        super().resizeEvent(event)
        self._set_narrow(self.width() < NARROW_BELOW * style.FONT_PT / style.BASE_POINT_SIZE)

    def _set_narrow(self, narrow: bool) -> None:
        """Narrow: the button under the batch's title and the vocabulary under the batch; wide: side by side."""
        if narrow == self.narrow:
            return
        self.narrow = narrow
        Direction = QtWidgets.QBoxLayout.Direction
        self._head.setDirection(Direction.TopToBottom if narrow else Direction.LeftToRight)
        self._head.setAlignment(self.next_button, QtCore.Qt.AlignmentFlag.AlignLeft if narrow
                                else QtCore.Qt.AlignmentFlag(0))
        self.splitter.setOrientation(QtCore.Qt.Orientation.Vertical if narrow else QtCore.Qt.Orientation.Horizontal)
        self.splitter.setSizes([460, 240] if narrow else [560, 220])
        self._content.setMinimumHeight(int(CONTENT_HEIGHT[narrow] * style.FONT_PT / style.BASE_POINT_SIZE))

    # ------------------------------------------------------------------------------------------ API
    def render(self, snapshot) -> None:
        """Nothing to do: this panel shows the dataset, not the training."""

    def reset(self) -> None:
        self.dataset = None
        self.batch = None
        self._tokens = []
        self.token_table.clear()
        self.token_table.setRowCount(0)
        self.token_table.setColumnCount(0)
        self.id_table.clear()
        self.id_table.setRowCount(0)
        self.id_table.setColumnCount(0)
        self.vocab_model.set_vocab([], None)
        self.batch_title.setText("A padded batch")
        self.explain.setText("No dataset loaded yet.")
        self.lengths_label.setText("")
        self.onehot_label.setText("")
        self.next_button.setEnabled(False)

    def set_dataset(self, dataset) -> None:
        """Show ``dataset`` (an rnnviz.core.data.batch.Dataset): a batch of validation examples and the vocabulary."""
        self.reset()
        self.dataset = dataset
        vocab = dataset.vocab
        self._tokens = vocab_tokens(vocab)
        counts = vocab_counts(vocab, self._tokens)
        self.vocab_model.set_vocab(self._tokens, counts)
        self.vocab_view.resizeColumnsToContents()
        self.vocab_title.setText(f"Vocabulary: {len(self._tokens)} tokens ({dataset.tokenizer} level)")
        pad = self._pad_id()
        pad_tok = self._tokens[pad] if 0 <= pad < len(self._tokens) else "<pad>"
        self.explain.setText(
            f"Each token becomes its id in the vocabulary. A batch pads shorter sequences with "
            f"{_html(pad_tok)} (id {pad}) up to the longest; the lengths vector says where each one really ends, so "
            f"{READ_OUT[dataset.task]} Click a token to see its one-hot vector.")
        self.show_batch(0)

    def next_batch(self) -> None:
        self.show_batch(self._start + BATCH)

    def show_batch(self, start: int) -> None:
        """Show validation examples ``start`` .. ``start + 3`` (wrapping around) as a padded batch."""
        ds = self.dataset
        if ds is None:
            return
        split = ds.val if len(ds.val) else ds.train
        name = "validation" if split is ds.val else "training"
        n = len(split)
        if n == 0:
            self.batch_title.setText("The dataset has no examples.")
            return
        self._start = start % n
        index = [(self._start + i) % n for i in range(min(BATCH, n))]
        self.next_button.setEnabled(n > BATCH)
        batch = make_batch(split, index, self._pad_id(), ds.task)
        self.batch = batch
        B, T = batch.ids.shape
        self.batch_title.setText(f"A padded batch ({B} {name} examples): the tokens \u2026")
        classify = ds.task == base.TASK_CLASSIFICATION
        pad_tok = self._token(self._pad_id())
        faint = QtGui.QColor("#9aa0a6")
        special = QtGui.QColor(style.colour(0))
        extra = 1 if classify else 0
        self.token_table.setRowCount(B)
        self.token_table.setColumnCount(T + extra)
        self.id_table.setRowCount(B)
        self.id_table.setColumnCount(T + 1)
        headers = [str(t + 1) for t in range(T)]
        self.token_table.setHorizontalHeaderLabels(headers + (["class"] if classify else []))
        self.id_table.setHorizontalHeaderLabels(headers + ["length"])
        rows = [f"#{i}" for i in index]
        self.token_table.setVerticalHeaderLabels(rows)
        self.id_table.setVerticalHeaderLabels(rows)
        for r in range(B):
            L = int(batch.lengths[r])
            shown = split.tokens[index[r]]
            for t in range(T):
                padded = t >= L
                tok = pad_tok if padded else (shown[t] if t < len(shown) else self._token(int(batch.ids[r, t])))
                ti = QtWidgets.QTableWidgetItem(plotting.display_token(tok))
                ii = QtWidgets.QTableWidgetItem(str(int(batch.ids[r, t])))
                for item in (ti, ii):
                    item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
                    item.setData(QtCore.Qt.ItemDataRole.UserRole, int(batch.ids[r, t]))
                    if padded:
                        item.setForeground(faint)
                        f = item.font()
                        f.setItalic(True)
                        item.setFont(f)
                    elif tok in SPECIALS:
                        item.setForeground(special)
                self.token_table.setItem(r, t, ti)
                self.id_table.setItem(r, t, ii)
            length = QtWidgets.QTableWidgetItem(str(L))
            length.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
            f = length.font()
            f.setBold(True)
            length.setFont(f)
            self.id_table.setItem(r, T, length)
            if classify:
                cls = int(batch.targets[r])
                item = QtWidgets.QTableWidgetItem(ds.classes[cls] if 0 <= cls < len(ds.classes) else str(cls))
                item.setFont(f)
                self.token_table.setItem(r, T, item)
        for table in (self.token_table, self.id_table):
            _fit_height(table)
        lengths = ", ".join(str(int(x)) for x in batch.lengths)
        target_note = ""
        if not classify:
            n_ignored = int((batch.targets == IGNORE).sum())
            target_note = (f" &nbsp; Targets at padded positions are {IGNORE} (ignored by the loss): "
                           f"{n_ignored} of {batch.targets.size}.")
        self.lengths_label.setText(f"ids: shape ({B}, {T}) &nbsp; lengths = <b>[{lengths}]</b>{target_note}")
        row0 = [int(x) for x in batch.ids[0, : int(batch.lengths[0])]]
        plain = [x for x in row0 if self._token(x) not in SPECIALS]
        self.select_token((plain or row0)[0])

    def select_token(self, token_id: int, from_vocab: bool = False) -> None:
        """Show the one-hot vector of ``token_id`` and highlight it in the vocabulary."""
        V = len(self._tokens)
        if not 0 <= token_id < V:
            return
        if not from_vocab:
            index = self.vocab_model.index(token_id, 0)
            self.vocab_view.selectRow(token_id)
            self.vocab_view.scrollTo(index, QtWidgets.QAbstractItemView.ScrollHint.PositionAtCenter)
        tok = plotting.display_token(self._tokens[token_id])
        self.onehot_label.setText(
            f"One-hot x\u209c for \u201c<b>{_html(tok)}</b>\u201d (id {token_id}): a vector of {V} numbers, "
            f"all 0 except a single 1 at position {token_id}:<br>"
            f"<span style='font-family:monospace; font-size:{style.FONT_PT + 1}pt'>{onehot_html(token_id, V)}</span>"
            f"<br>So U x\u209c = U[:, {token_id}]: multiplying by a one-hot vector just picks column {token_id} of U "
            f"\u2013 the model looks the column up instead of multiplying.")

    # ------------------------------------------------------------------------------------------ helpers
    def _pad_id(self) -> int:
        return int(getattr(self.dataset.vocab, "pad_id", 0)) if self.dataset is not None else 0

    def _token(self, i: int) -> str:
        return self._tokens[i] if 0 <= i < len(self._tokens) else "?"

    def _vocab_clicked(self, index: QtCore.QModelIndex) -> None:
        self.select_token(index.row(), from_vocab=True)

    def _cell_clicked(self, row: int, col: int) -> None:
        table = self.sender()
        item = table.item(row, col) if isinstance(table, QtWidgets.QTableWidget) else None
        if item is None:
            return
        token_id = item.data(QtCore.Qt.ItemDataRole.UserRole)
        if token_id is not None:
            self.select_token(int(token_id))


def _fit_height(table: QtWidgets.QTableWidget) -> None:
    """Exactly as tall as its rows (plus header and scroll bar), so spare space goes elsewhere."""
    table.resizeRowsToContents()
    h = table.horizontalHeader().height() + 2 * table.frameWidth()
    h += sum(table.rowHeight(r) for r in range(table.rowCount()))
    h += table.horizontalScrollBar().sizeHint().height()
    table.setFixedHeight(h + 2)


def onehot_html(i: int, V: int, context: int = 2) -> str:
    """``[0 0 … 0 1 0 … 0]`` with the 1 highlighted and the positions around it numbered."""
    if V <= 16:
        shown = list(range(V))
    else:
        shown = sorted({0, 1} | set(range(max(0, i - context), min(V, i + context + 1))) | {V - 1})
    parts, prev = [], -1
    for j in shown:
        if j - prev > 1:
            parts.append("\u2026")
        parts.append("<b style='color:#c62828'>1</b>" if j == i else "0")
        prev = j
    if prev < V - 1:
        parts.append("\u2026")
    return "[" + " ".join(parts) + f"] &nbsp; (positions 0 \u2026 {V - 1})"


def _html(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
