"""What each panel draws, as the "?" button shows it: the equation in the seed notation and what to look for.

Each text is a function of the settings in force (the cell's equations, the task's output), because the equation
of a hidden state or of the loss depends on them. The registry (``registry.SPECS``) names each panel's function;
``features.help`` shows it. Plain text, no Qt: the texts are checked without a window.
"""
from __future__ import annotations

from typing import Any

from rnnviz.core.data.batch import IGNORE
from rnnviz.core.snapshot import EQUATION_MAX_NUMBERS

CELL_EQUATIONS = {
    "rnn": "s<sub>t</sub> = g(U x<sub>t</sub> + W s<sub>t-1</sub> + b), &nbsp; g = {activation}",
    "lstm": ("[a<sub>i</sub>, a<sub>f</sub>, a<sub>g</sub>, a<sub>o</sub>] = U x<sub>t</sub> + W s<sub>t-1</sub> + b "
             "(gate order i, f, g, o)<br>i = &sigma;(a<sub>i</sub>), f = &sigma;(a<sub>f</sub>), "
             "g = tanh(a<sub>g</sub>), o = &sigma;(a<sub>o</sub>)<br>"
             "c<sub>t</sub> = f &#8857; c<sub>t-1</sub> + i &#8857; g, &nbsp; s<sub>t</sub> = o &#8857; tanh(c<sub>t</sub>)"),
    "gru": ("r = &sigma;(U<sub>r</sub> x<sub>t</sub> + b<sub>r</sub> + W<sub>r</sub> s<sub>t-1</sub>), "
            "z = &sigma;(U<sub>z</sub> x<sub>t</sub> + b<sub>z</sub> + W<sub>z</sub> s<sub>t-1</sub>) "
            "(gate order r, z, n)<br>"
            "n = tanh(U<sub>n</sub> x<sub>t</sub> + b<sub>n</sub> + r &#8857; (W<sub>n</sub> s<sub>t-1</sub> + b<sub>hn</sub>)), "
            "&nbsp; s<sub>t</sub> = (1 &minus; z) &#8857; n + z &#8857; s<sub>t-1</sub>"),
}

OUTPUTS = {
    "classification": ("y = softmax(V s<sub>T</sub> + c), read at each sequence's <i>true</i> last step T "
                       "(its length), never at padding"),
    "labelling": "y<sub>t</sub> = softmax(V s<sub>t</sub> + c) at every real step t (padding masked out)",
    "generation": ("y<sub>t</sub> = softmax(V s<sub>t</sub> + c): the distribution of the next token "
                   "x<sub>t+1</sub>"),
}


def _cell(config: Any) -> str:
    text = CELL_EQUATIONS.get(config.cell, CELL_EQUATIONS["rnn"]).format(activation=config.activation)
    if config.bidirectional:
        text += "<br>Bidirectional: a second cell reads the sequence backwards; s<sub>t</sub> = [forward; backward]."
    return text


def loss(config: Any) -> str:
    metric = ("perplexity = exp(mean loss per token): about the number of tokens the model hesitates between"
              if config.task == "generation" else
              "accuracy = correct predictions / all predictions on the validation split")
    return (f"<b>Loss</b><br>L = (1/B) &Sigma;<sub>examples</sub> &Sigma;<sub>t</sub> &minus;log "
            f"y<sub>t</sub>[target<sub>t</sub>] &nbsp; with {OUTPUTS[config.task]}.<br>"
            "The faint curve is L of each training batch, the bold one its exponential moving average; the dots are "
            f"the validation loss per sequence at each evaluation, and the lower plot the validation {metric}."
            "<br><b>Look for:</b> a falling curve; validation loss rising while training loss falls (overfitting); "
            "sudden spikes (exploding gradients: try clipping); a flat line at the start (the learning rate or the "
            "task is too hard).<br>The axes follow the data. The mouse wheel zooms a plot (it then stays put); a "
            "double-click, or Reset, makes it follow the data again.")


def hidden(config: Any) -> str:
    gates = {"lstm": " The LSTM's s<sub>t</sub> = o &#8857; tanh(c<sub>t</sub>) lies in [&minus;1, 1].",
             "gru": " The GRU's s<sub>t</sub> mixes n (in [&minus;1, 1]) and s<sub>t-1</sub>, so it stays in [&minus;1, 1]."}
    return (f"<b>Hidden states</b><br>{_cell(config)}<br>"
            "Each column is one timestep t of the probe sequence (its tokens under the axis), each row one hidden "
            "unit of s<sub>t</sub> (d rows, 2d when bidirectional); the colour is the unit's value on a fixed scale: blue negative, white 0, "
            f"red positive.{gates.get(config.cell, '')}<br>"
            "<b>Look for:</b> units that change colour at an important token (after 'not', at a name) and keep it "
            "- that is memory; units stuck at the ends of the scale are saturated and pass little gradient back.")


def gradients(config: Any) -> str:
    if config.cell == "rnn":
        chain = ("&part;L/&part;s<sub>t-1</sub> = W<sup>T</sup> diag(g&prime;(a<sub>t</sub>)) &part;L/&part;s<sub>t</sub>"
                 " + (the output's own term at t-1), with a<sub>t</sub> = U x<sub>t</sub> + W s<sub>t-1</sub> + b")
    else:
        chain = ("&part;L/&part;s<sub>t-1</sub> = (&part;s<sub>t</sub>/&part;s<sub>t-1</sub>)<sup>T</sup> "
                 "&part;L/&part;s<sub>t</sub> + ..., where the "
                 + ("cell state c<sub>t</sub> = f &#8857; c<sub>t-1</sub> + ... passes the gradient on through f"
                    if config.cell == "lstm" else "z &#8857; s<sub>t-1</sub> term passes the gradient on through z"))
    clip = (f"clipped to a global norm of {config.clip:g}" if config.clip > 0 else "not clipped (Clip gradients is off)")
    return ("<b>Gradient flow</b><br>||&part;L/&part;s<sub>t</sub>||: the length of the gradient of the loss with "
            "respect to the hidden states s<sub>t</sub> of a fixed validation batch, one point per timestep t (first "
            f"step on the left, log scale).<br>{chain}.<br>"
            "The heatmap stacks these curves over training (a row per recorded step; colour = log<sub>10</sub> of the "
            "norm). The last plot is ||&part;L/&part;&theta;|| of each parameter &theta; (U, W, b, V, c, ...) at every "
            f"training step, {clip}.<br>"
            "<b>Look for:</b> the curve falling towards t = 1 by powers of ten: vanishing gradients, the early tokens "
            "barely teach the network; rising towards t = 1 or huge ||&part;L/&part;&theta;||: exploding gradients.")


def confusion(config: Any) -> str:
    unit = "validation tokens" if config.task == "labelling" else "validation sequences"
    return ("<b>Confusion matrix</b><br>C[i, j] = the number of " + unit + " whose true class is i (row) and whose "
            "predicted class argmax<sub>j</sub> y[j] is j (column). Row-normalised: C[i, j] / &Sigma;<sub>j</sub> C[i, j]. "
            "Per-class accuracy = C[i, i] / &Sigma;<sub>j</sub> C[i, j]; accuracy = &Sigma;<sub>i</sub> C[i, i] / "
            "&Sigma;<sub>i,j</sub> C[i, j]. It is counted at each evaluation (the end of an epoch).<br>"
            "<b>Look for:</b> the mass moving onto the diagonal; the off-diagonal cells that stay bright are the "
            "classes the network confuses (e.g. nouns and verbs spelt the same)."
            + ("<br>Generation has no classes to confuse: see the Predictions panel." if config.task == "generation"
               else ""))


def weights(config: Any) -> str:
    blocks = {"lstm": "four d&times;d blocks, one per gate i, f, g, o", "gru": "three d&times;d blocks, r, z, n"}
    return ("<b>Weights</b><br>W, the hidden-to-hidden matrix in s<sub>t</sub> = g(U x<sub>t</sub> + W s<sub>t-1</sub> + b)"
            + (f" ({blocks[config.cell]}, stacked)" if config.cell in blocks else "") +
            ", as a heatmap (blue negative, red positive).<br>Right: the eigenvalues &lambda; of W (of each block) in "
            "the complex plane, the unit circle |&lambda;| = 1, and the spectral radius &rho; = max |&lambda;|.<br>"
            "<b>Look for:</b> &rho; well above 1: repeated multiplication by W makes signals and gradients grow "
            "(explode); &rho; well below 1: they shrink (vanish). For a tanh RNN (tanh' &le; 1) the gradient must "
            "shrink at every step once even the largest singular value of W (never below &rho;) is under 1.")


def predictions(config: Any) -> str:
    if config.task == "generation":
        body = ("Sampling: x<sub>t+1</sub> ~ softmax((V s<sub>t</sub> + c) / &tau;), &tau; = the temperature; "
                "&tau; = 0 takes the most likely token. The text is sampled at each evaluation (and when &tau; "
                "changes), starting from a prompt it is given: the first characters or words of validation example "
                "0, underlined in purple; the caption names the step it was sampled at.<br>"
                "<b>Look for:</b> noise turning into words; low &tau; repeats itself, high &tau; invents.")
    elif config.task == "labelling":
        body = (f"{OUTPUTS['labelling']}: a row per token of the probe sentence with its true tag and the predicted "
                "tag argmax y<sub>t</sub> (wrong ones highlighted).<br><b>Look for:</b> which words are still tagged wrongly, and "
                "whether the context fixes them.")
    else:
        body = (f"{OUTPUTS['classification']}: the probe sequence's class probabilities, the true class outlined."
                "<br><b>Look for:</b> the probability mass moving onto the true class as training goes on.")
    return f"<b>Predictions</b><br>{body}"


def data(config: Any) -> str:
    head = ("<b>Data</b><br>Each token gets an id from the vocabulary; the input x<sub>t</sub> is the one-hot vector of "
            "that id, so U x<sub>t</sub> is just the column U[:, id].<br><b>Padding:</b> the sequences of a batch have "
            "different lengths; shorter ones are filled with &lt;pad&gt; up to the longest, T, so the batch is one "
            "B&times;T array of ids. The lengths vector says where each sequence really ends.<br>")
    if getattr(config, "task", "classification") == "classification":
        return head + ("<b>Why the output is taken at the true last step:</b> a sequence's answer is y = softmax(V "
                       "s<sub>T</sub> + c) at T = its own length. s at a padded step has read &lt;pad&gt; tokens that "
                       "are not part of the text, so reading the output there would change the answer with the amount "
                       "of padding; the loss of padded steps is masked out for the same reason.")
    what = "its tag" if config.task == "labelling" else "the next token"
    return head + (f"<b>Why padded steps are skipped:</b> every real step t has a loss, &minus;log y<sub>t</sub>"
                   f"[target<sub>t</sub>], with y<sub>t</sub> = softmax(V s<sub>t</sub> + c) and the target {what}. "
                   f"A padded step has no target: its target id is {IGNORE}, and the loss and the accuracy skip it, "
                   "so the amount of padding never changes them (the true last step is where the lengths vector "
                   "says the sequence ends).")


def bptt(config: Any) -> str:
    gate = {"lstm": "the gates i, f, g, o", "gru": "the gates r, z, n"}.get(config.cell, "the pre-activation "
                                                                              "a<sub>t</sub> = U x<sub>t</sub> + W s<sub>t-1</sub> + b")
    return ("<b>Slow-motion BPTT</b><br>The probe's forward pass, t = 1 ... T: " + _cell(config) + "<br>then its "
            "backward pass, t = T ... 1: &part;L/&part;s<sub>t-1</sub> = (&part;s<sub>t</sub>/&part;s<sub>t-1</sub>)"
            "<sup>T</sup> &part;L/&part;s<sub>t</sub> + (the output's own term at t-1).<br>"
            "Left: s<sub>t</sub> and &part;L/&part;s<sub>t</sub> as heatmaps (units &times; timesteps), filled in as each "
            "pass reaches a step, the current column framed; below, ||&part;L/&part;s<sub>t</sub>|| and the one-step "
            "factor ||&part;s<sub>t</sub>/&part;s<sub>t-1</sub>|| on a log axis. Right: the current step's vectors, "
            f"s<sub>t</sub> or &part;L/&part;s<sub>t</sub>, and {gate}.<br>"
            "<b>Look for:</b> a one-step factor below 1 at every step multiplies into a gradient that vanishes "
            "on its way back; above 1, one that explodes.")


def state_space(config: Any) -> str:
    colour = {"classification": "the true class of each sequence; the large dot is its last state "
                                "s<sub>T</sub>, where the class is read by y = softmax(V s<sub>T</sub> + c)",
              "labelling": "the true tag of each step",
              "generation": "the next token (the most frequent ones in colour, the others grey)"}.get(config.task, "")
    both = (" Bidirectional: s<sub>t</sub> = [forward; backward], both directions' states concatenated."
            if config.bidirectional else "")
    return ("<b>State space</b><br>" + _cell(config) + "<br>The states s<sub>t</sub> of many validation examples "
            "(every step; the line under the plot says how many) are projected to 2-D by PCA fitted on the current states: with the states as "
            "rows of X and &mu; their mean, X &minus; &mu; = U S V<sup>T</sup>; a state s is drawn at "
            "((s &minus; &mu;)&middot;v<sub>1</sub>, (s &minus; &mu;)&middot;v<sub>2</sub>). Each axis says which "
            "component it is and its share S<sub>i</sub><sup>2</sup> / &Sigma; S<sub>j</sub><sup>2</sup> of the "
            "variance (each axis is scaled to fill the panel: read its ticks). Each example is a path from s<sub>1</sub> to its last state; "
            f"colour: {colour}. The thick path (thinner for a long probe) is the probe, its tokens written at its points.{both}<br>"
            "The picture does not flip between frames: each component keeps the sign (and the axis) it had in the "
            "previous frame.<br><b>Look for:</b> the classes pulling apart while the model learns; in the negation "
            "lesson, a word read after \"not\" moves the state the opposite way to the same word without it.")


def gates(config: Any) -> str:
    intro = ""
    if config.cell == "rnn":
        intro = ("The vanilla RNN has no gates: " + _cell(config) + ". Set the Cell to LSTM or GRU to see the gates "
                 "that decide what is kept, written and read. With an LSTM:<br>")
        config = config.replace(cell="lstm", bidirectional=False)
    if config.cell == "lstm":
        body = ("Heatmaps of the probe (units &times; timesteps): the input gate i, the forget gate f and the output "
                "gate o on fixed levels [0, 1], and the cell state c<sub>t</sub> on symmetric levels &plusmn;L (L: a "
                "round number above the largest |c<sub>t</sub>| seen, it only grows while the model trains).<br>"
                "<b>Look for:</b> f near 1: c<sub>t</sub> = f &#8857; c<sub>t-1</sub> + ... carries the memory "
                "&mdash; and &part;L/&part;c<sub>t-1</sub> = f &#8857; &part;L/&part;c<sub>t</sub> + ... carries the "
                "gradient &mdash; from step to step almost unchanged: the memory highway. The Gradient flow panel "
                "shows ||&part;L/&part;c<sub>t</sub>|| next to ||&part;L/&part;s<sub>t</sub>||.")
    else:
        body = ("Heatmaps of the probe (units &times; timesteps): the reset gate r and the update gate z, on fixed "
                "levels [0, 1].<br><b>Look for:</b> z near 1: s<sub>t</sub> &asymp; s<sub>t-1</sub>, the state "
                "and its gradient pass through the step almost unchanged.")
    return (f"<b>Gates</b><br>{intro}{_cell(config)}<br>{body}<br>Below: the share of each gate's values below 0.05 or "
            "above 0.95 (saturated: the gate passes almost nothing or almost everything, and its own derivative "
            "&sigma;(1 &minus; &sigma;) is below 0.0475), on the fixed monitor batch, over training.")


def reach(config: Any) -> str:
    return ("<b>Who reaches whom</b><br>With a loss at every step, L = &Sigma;<sub>t&prime;</sub> "
            "L<sub>t&prime;</sub>. Each row follows one step's loss L<sub>t&prime;</sub> back through time on its own: "
            "the colour of cell (t&prime;, t) is ||&part;L<sub>t&prime;</sub>/&part;s<sub>t</sub>|| for the probe "
            "sequence, on a log scale (the colour bar). A loss cannot reach a later state, so only t &le; t&prime; "
            "is drawn (bidirectional models: the whole row).<br>"
            "<b>Look for:</b> a narrow band along the diagonal: each loss only teaches the last few states, the "
            "gradient vanishes (tanh RNN); a wide triangle: the loss still reaches far back (LSTM, GRU).<br>"
            "Classification has one loss, at the last step: one row. Cost: one backward pass per row, only while "
            "the panel is on screen.")


def equation(config: Any) -> str:
    return ("<b>Equation</b><br>" + _cell(config) + "<br>" + OUTPUTS[config.task] + "<br>Click a cell of the "
            "Hidden states heatmap: this panel writes the equation of that unit j at that step t with the probe's "
            "real numbers: the input column U[j, x<sub>t</sub>], the largest terms W[j,k] s<sub>t-1</sub>[k] of the "
            "sum (the others added up), the bias, the activation; for the LSTM and GRU each gate the same way; "
            "then the output y<sub>t</sub> (the most probable classes) and, when the probe has a target, "
            "&part;L/&part;s<sub>t</sub>[j] of its own loss.<br><b>Look for:</b> which term of the sum decides the "
            "unit (the input's column or the memory W s<sub>t-1</sub>); a pre-activation far from 0 saturates tanh "
            "and passes little gradient back.<br>The numbers are those of the snapshot shown; the "
            f"parameters are copied only for models with at most {EQUATION_MAX_NUMBERS:,} numbers in "
            "U x<sub>t</sub>, W and V, and one layer (bidirectional: the forward units).")
