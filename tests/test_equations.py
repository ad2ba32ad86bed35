"""Every display equation of every lesson page is evaluated numerically on the lesson's values.

For each `$$ ... $$` block of an English page (tests/test_math.py checks that the 中文 page has
the same LaTeX), each relation (each line of an `aligned` block, each part between `\\qquad`s,
each link of an `=` chain) is parsed with sympy's LaTeX grammar (its lark backend, the parse
tree only) and evaluated here with NumPy, in float64: each symbol is the code variable the
notation names (the home page's table, plus the small table on the lesson page), taken from
one real step of the lesson's own sections. Both sides must agree to a relative error below
1e-9. For an update (`\\leftarrow`) the left side is read after the `update` section, the
right side before it.

What our notation needs beyond the grammar is one small table, `REWRITES`, and the rules of
`Evaluate`: juxtaposition of two matrices is a matrix product in order, `\\odot` elementwise,
`^\\top` a transpose, `\\mathbb{1}[h \\ge 0]` an indicator, `x_{ij}` an entry (an array with
named axes; `\\sum_i` sums the axis named i), `\\frac{\\partial L}{\\partial w_2}` one symbol.

An equation that is a definition or not numeric carries, on the line right before its `$$`,
`<!-- equation not checked: <why> -->` (the same in both languages). Any other equation that
can't be evaluated fails, naming the page and the equation. `pytest -s -k coverage` prints,
per page, the display equations checked / total.
"""

import contextlib
import functools
import io
import re
from pathlib import Path

import numpy as np
import pytest

import lessons
from conftest import DOCS, LESSONS, run_section, section_names, setup_namespace, uses_torch

RTOL = 1e-9
DISPLAY = re.compile(r"^[ \t]*\$\$[ \t]*\n(?P<tex>.*?)\n[ \t]*\$\$[ \t]*$", re.S | re.M)
MARKER = re.compile(r"<!--\s*equation not checked:\s*(?P<why>.*?)\s*-->\s*$")
ROW = re.compile(
    r"^\|\s*\$(?P<symbol>[^$]+)\$\s*\|\s*`(?P<code>[^`]+)`\s*\|\s*(?P<shape>[^|]+?)\s*\|\s*$", re.M
)
PAGES = sorted(p for p in DOCS.glob("*.en.md") if DISPLAY.search(p.read_text(encoding="utf-8")))


def slug(page: Path) -> str:
    return page.name.removesuffix(".en.md").removesuffix(".md")


def display_equations(page: Path):
    """(number, LaTeX, marker reason or None) of each display equation on the page."""
    text = page.read_text(encoding="utf-8")
    for i, m in enumerate(DISPLAY.finditer(text), 1):
        before = text[: m.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marked = MARKER.search(before)
        yield i, m["tex"], marked["why"] if marked else None


# --- tokens and the notation ------------------------------------------------------------------------

TOKEN = re.compile(r"Z_\{[a-z]+\}|\\[A-Za-z]+|\\.|[^\s]")
SPACING = {r"\,", r"\;", r"\!", r"\quad", r"\left", r"\right", r"\:"}


def tokens(tex: str) -> list[str]:
    return [t for t in TOKEN.findall(tex) if t not in SPACING]


def notation_rows(page: Path) -> list[tuple[str, str, str]]:
    """(symbol, code, shape) of each row of the page's notation table; 'h = x w_1' -> 'h'."""
    rows = []
    for m in ROW.finditer(page.read_text(encoding="utf-8")):
        rows.append((m["symbol"].split("=")[0].strip(), m["code"].strip(), m["shape"].strip("$ ")))
    return rows


HOME = notation_rows(DOCS / "index.en.md")


def notation(page: Path) -> dict[tuple[str, ...], str]:
    """Symbol (as tokens) -> Python code, the home page's table overridden by the page's own,
    plus the sizes the shapes name (D_{in} -> D_in)."""
    table = {}
    for symbol, code, shape in HOME + (notation_rows(page) if page.name != "index.en.md" else []):
        table[tuple(tokens(symbol))] = code
        for dim in shape.split("\\times") if "\\times" in shape else ():
            dim = dim.strip()
            table.setdefault(tuple(tokens(dim)), dim.replace("{", "").replace("}", ""))
    return table


# --- the small table: our notation -> the grammar -------------------------------------------------
# Applied in order to a relation's side before symbols become placeholders.
REWRITES = [
    # \frac{\partial L}{\partial \hat{y}_{ij}} is an entry of the symbol \frac{\partial L}{\partial \hat{y}}
    (
        r"\\frac\s*\{\s*\\partial\s+L\s*\}\s*\{\s*\\partial\s*\(?(?P<x>[^{}]*?(?:\{[^{}]*\}[^{}]*?)*?)\)?"
        r"\s*_\s*(?P<i>\{[a-z\\cdot ]+\}|[a-z])\s*\}",
        r"\\left(\\frac{\\partial L}{\\partial \g<x>}\\right)_\g<i>",
    ),
    (r"\\odot", "*"),  # elementwise product
    # \frac{\partial \hat{y}_{ij}}{\partial (b_2)_j}: the entry ijj of the Jacobian
    # \frac{\partial \hat{y}}{\partial b_2}
    (
        r"\\frac\s*\{\s*\\partial\s*(?P<y>\\hat\{[a-z]\}|[a-z])_\{(?P<i>[a-z]+)\}\s*\}"
        r"\s*\{\s*\\partial\s*\((?P<b>[^()]+)\)_\{?(?P<j>[a-z]+)\}?\s*\}",
        r"\\left(\\frac{\\partial \g<y>}{\\partial \g<b>}\\right)_{\g<i>\g<j>}",
    ),
    # a Taylor series is checked on a cubic (taylor_rule), whose remainder is exactly 0
    (r"\\cdots", "0"),
    # \underbrace{...}_{\text{forward}}: only a label
    (r"\\underbrace\s*\{((?:[^{}]|\{[^{}]*\})*)\}\s*_\s*\{\s*\\text\{[^{}]*\}\s*\}", r"{\1}"),
    # p_{i y_i}, the entry of row i in the column the label y_i names: \sum_q p_{iq} \mathbb{1}[q = y_i]
    (
        r"(?P<x>[A-Za-z])_\{\s*(?P<i>[a-z])\s*(?P<y>[A-Za-z])_(?P=i)\s*\}",
        r"\\left(\\sum_{q} \g<x>_{\g<i>q} \\cdot \\mathbb{1}[q = \g<y>_\g<i>]\\right)",
    ),
    # a sum over an index's whole range
    (r"\\sum_\{([a-z]),([a-z])\}", r"\\sum_{\1=1}^{\\infty}\\sum_{\2=1}^{\\infty}"),
    (r"\\sum_\{?([a-z])\}?(?![=\w,])", r"\\sum_{\1=1}^{\\infty}"),
]
# h_{\text{relu},k}, w_{2,kj}: the entry k of h_{\text{relu}}, the entry kj of w_2
COMMA_ENTRY = re.compile(
    r"(?<![A-Za-z\\])(?P<x>[A-Za-z])_\{(?P<sub>(?:[^{},]|\{[^{}]*\})+),\s*(?P<ix>[a-z]+)\}"
)


def comma_entry(m) -> str:
    sub, ix = m["sub"].strip(), m["ix"]
    return f"({m['x']}_{sub if len(sub) == 1 else '{' + sub + '}'})_{ix if len(ix) == 1 else '{' + ix + '}'}"


INDICATOR = re.compile(r"\\mathbb\{1\}\s*\[(?P<arg>[^\]]*?)\s*(?P<op>\\ge|>)\s*0\s*\]")
# \mathbb{1}[j = y_i]: 1 where the index j is the label y_i (a one-hot row per i)
ONE_HOT = re.compile(r"\\mathbb\{1\}\s*\[\s*(?P<j>[a-z])\s*=\s*(?P<y>[A-Za-z])_(?P<i>[a-z])\s*\]")


class Ones:
    """\\mathbf{1}^\\top: a row of ones as long as what it multiplies."""


class OneHot:
    """\\mathbb{1}[j = y_i]: Labeled with axes (i, j) once the length of axis j is known, from
    what it is combined with (the class scores p_{ij})."""

    def __init__(self, labels, i, j):
        self.labels, self.i, self.j = np.asarray(labels), i, j

    def like(self, other):
        assert isinstance(other, Labeled) and self.j in other.ix, (
            f"1[{self.j} = y_{self.i}] beside no axis {self.j}"
        )
        n = other.a.shape[other.ix.index(self.j)]
        assert (
            np.all(self.labels == np.round(self.labels)) and 0 <= self.labels.min() and self.labels.max() < n
        )
        return Labeled(np.arange(n)[None, :] == self.labels[:, None], (self.i, self.j))


class WithoutSample(Exception):
    """Entries written without the sample index (\\hat{y}_j, one sample): not the batch's; the
    relation is evaluated on a run of the lesson with N = 1 instead (runs(page, one_sample=True))."""


class Labeled:
    """An array whose axes are named by indices (x_{ij}); None names a free axis (\\cdot)."""

    def __init__(self, a, ix):
        self.a, self.ix = np.asarray(a, dtype=float), tuple(ix)
        assert self.a.ndim == len(self.ix), f"{len(self.ix)} indices on an array of shape {self.a.shape}"


def combine(a, b, op):
    a, b = (a.like(b) if isinstance(a, OneHot) else a), (b.like(a) if isinstance(b, OneHot) else b)
    if not isinstance(a, Labeled):
        a = Labeled(a, ()) if np.ndim(a) == 0 else a
    if not isinstance(b, Labeled):
        b = Labeled(b, ()) if np.ndim(b) == 0 else b
    assert isinstance(a, Labeled) and isinstance(b, Labeled), "an entry combined with a whole matrix"
    names = list(dict.fromkeys([*a.ix, *b.ix]))

    def expand(v):
        arr = v.a
        for n in names:
            if n not in v.ix:
                arr = arr[..., None]
        order = [*v.ix, *[n for n in names if n not in v.ix]]
        return np.transpose(arr, [order.index(n) for n in names]) if names else arr

    return Labeled(op(expand(a), expand(b)), names)


class Env:
    """What the symbols of one page mean: placeholder name -> value."""

    def __init__(self):
        self.values, self.names = {}, {}

    def placeholder(self, key, value) -> str:
        if key not in self.names:
            k, letters = len(self.names), ""
            while True:
                letters = chr(ord("a") + k % 26) + letters
                k = k // 26 - 1
                if k < 0:
                    break
            self.names[key] = f"Z_{{{letters}}}"
            self.values[self.names[key]] = value
        return self.names[key]


def to_grammar(side: str, table: dict, lookup, env: Env) -> str:
    """One side of a relation in the grammar's terms: notation symbols -> placeholders."""
    side = COMMA_ENTRY.sub(comma_entry, side)
    for k, (pattern, repl) in enumerate(REWRITES):
        if k == 0:  # an entry, unless the whole is a symbol (\frac{..}{\partial W_m})
            side = re.sub(
                pattern, lambda m, r=repl: m[0] if tuple(tokens(m[0])) in table else m.expand(r), side
            )
        else:
            side = re.sub(pattern, repl, side)
    side = INDICATOR.sub(
        lambda m: env.placeholder(
            ("1", m["arg"], m["op"]),
            (
                lookup(tuple(tokens(m["arg"]))) >= 0
                if m["op"] == "\\ge"
                else lookup(tuple(tokens(m["arg"]))) > 0
            )
            * 1.0,
        ),
        side,
    )
    side = ONE_HOT.sub(
        lambda m: env.placeholder(
            ("1=", m[0]), OneHot(np.asarray(lookup(tuple(tokens(m["y"])))), m["i"], m["j"])
        ),
        side,
    )
    toks, out, i = tokens(side), [], 0
    symbols = sorted(table, key=len, reverse=True)
    while i < len(toks):
        if toks[i : i + 4] == ["\\mathbf", "{", "1", "}"] and toks[i + 4 : i + 6] == ["^", "\\top"]:
            out.append(env.placeholder("ones", Ones()))
            i += 6
            continue
        braced = next(
            (s for s in symbols if toks[i : i + 1] == ["{"] and tuple(toks[i + 1 : i + 1 + len(s)]) == s),
            None,
        )
        if braced and toks[i + 1 + len(braced) : i + 4 + len(braced)] == ["}", "^", "\\top"]:
            out.append(env.placeholder((braced, True), ("symbol", braced, True)))  # {h^{(j-1)}}^\top
            i += 4 + len(braced)
            continue
        for s in symbols:
            if tuple(toks[i : i + len(s)]) == s and not (
                toks[i + len(s) : i + len(s) + 1] == ["_"] and s == ("L",)
            ):
                i += len(s)
                transposed = toks[i : i + 2] == ["^", "\\top"]
                if transposed:
                    i += 2
                out.append(env.placeholder((s, transposed), ("symbol", s, transposed)))
                break
        else:
            out.append(toks[i])
            i += 1
    text = " ".join(out)
    # (1 - \beta_1) g_t^2: the grammar multiplies a parenthesis only by a bare symbol
    text = re.sub(r"\) (Z_\{[a-z]+\} \^)", r") \\cdot \1", text)
    # (P)_{ij} or P_{ij}: the entries of P, axes named i and j (a function I_{ij} of the grammar)
    text = re.sub(
        r"(\( (?:[^()]|\( [^()]* \))* \)|Z_\{[a-z]+\}) _ (?:\{ ((?:[a-z] |\\cdot )+)\}|([a-z]))",
        lambda m: (
            "I_{" + "".join("X" if c == "\\cdot" else c for c in (m[2] or m[3]).split()) + "}(" + m[1] + ")"
        ),
        text,
    )
    return text


# --- evaluating the parse tree --------------------------------------------------------------------

_PARSER = None


@functools.cache  # a side is parsed again for each language and each run; the tree is only read
def parse(text: str):
    global _PARSER
    if _PARSER is None:
        from sympy.parsing.latex.lark.latex_parser import LarkLaTeXParser

        _PARSER = LarkLaTeXParser(transform=False)
    return _PARSER.doparse(text)


def is_scalar(v) -> bool:
    return not isinstance(v, (Labeled, Ones, OneHot)) and np.ndim(v) == 0


class Evaluate:
    """The parse tree's value: NumPy arrays, floats, Labeled entries."""

    def __init__(self, values: dict, bound: dict | None = None):
        self.values, self.bound = values, bound or {}

    def __call__(self, node):
        from lark import Token, Tree

        if isinstance(node, Token):
            name = str(node)
            if node.type == "CMD_INFTY":
                return np.inf
            if name in self.values:
                v = self.values[name]
                return v(self.bound["j"]) if isinstance(v, Deferred) else v
            if name in self.bound:
                return self.bound[name]
            if name == "e":  # e^{x}: Euler's number (a symbol e would be in the notation)
                return np.e
            raise KeyError(f"the symbol {name!r} is not in the notation")
        assert isinstance(node, Tree)
        rule = getattr(self, "rule_" + node.data, None)
        if node.data == "_ambig":
            return self.ambiguous(node)
        if rule is None:
            raise NotImplementedError(f"no rule for {node.data}")
        return rule(*node.children)

    def ambiguous(self, node):
        """Two readings of the grammar: I_{ij}(P) is an entry, not I_{ij} times P."""
        for child in node.children:
            if getattr(child, "data", "") == "function_applied":
                return self(child)
        errors = []
        for child in node.children:
            try:
                return self(child)
            except Exception as e:  # noqa: PERF203
                errors.append(e)
        raise errors[0]

    def rule_latex_string(self, e):
        return self(e)

    def rule_number(self, n):
        return float(n)

    def rule_group_round_parentheses(self, _l, e, _r):
        return self(e)

    rule_group_curly_parentheses = rule_group_round_parentheses
    rule_group_square_brackets = rule_group_round_parentheses

    def rule_add(self, *c):
        if len(c) == 2:
            return self(c[1])
        return self.arith(self(c[0]), self(c[2]), np.add)

    def rule_sub(self, *c):
        if len(c) == 2:
            return self.arith(0.0, self(c[1]), np.subtract)
        return self.arith(self(c[0]), self(c[2]), np.subtract)

    def arith(self, a, b, op):
        if isinstance(a, (Labeled, OneHot)) or isinstance(b, (Labeled, OneHot)):
            return combine(a, b, op)
        if not (is_scalar(a) or is_scalar(b)):
            rows = np.ndim(a) == 2 and np.ndim(b) == 1 and np.shape(a)[1] == np.shape(b)[0]
            # a vector added to a matrix (x w_1 + b_1) is added to every row; otherwise shapes match
            assert rows or np.shape(a) == np.shape(b), f"shapes {np.shape(a)} and {np.shape(b)} combined"
        return op(a, b)

    def rule_mul(self, a, sym, b):
        a, b = self(a), self(b)
        if str(sym) == "*":  # \odot
            assert np.shape(a) == np.shape(b), f"\\odot of shapes {np.shape(a)} and {np.shape(b)}"
            return a * b
        assert (
            is_scalar(a)
            or is_scalar(b)
            or isinstance(a, (Labeled, OneHot))
            or isinstance(b, (Labeled, OneHot))
        ), f"{sym} between two matrices"
        return self.arith(a, b, np.multiply)

    def rule_div(self, a, _sym, b):
        return self.arith(self(a), self(b), np.divide)

    def rule_adjacent_expressions(self, a, b):
        """Juxtaposition: a matrix product in order; a scalar scales."""
        a, b = self(a), self(b)
        if isinstance(a, Ones):
            return np.sum(b, axis=0)
        if is_scalar(a) or is_scalar(b) or any(isinstance(v, (Labeled, OneHot)) for v in (a, b)):
            return self.arith(a, b, np.multiply)
        assert np.shape(a)[-1] == np.shape(b)[0], f"a product of shapes {np.shape(a)} and {np.shape(b)}"
        return a @ b

    def rule_fraction(self, _cmd, num, den):
        return self.arith(self(num), self(den), np.divide)

    def rule_superscript(self, base, _caret, power):
        return self.arith(self(base), self(power), np.power)

    def rule_log(self, _cmd, arg):
        v = self(arg)
        return Labeled(np.log(v.a), v.ix) if isinstance(v, Labeled) else np.log(v)

    def rule_square_root(self, _cmd, arg):
        return np.sqrt(self(arg))

    def rule_abs(self, _l, e, _r):
        return np.abs(self(e))

    def rule_list_of_expressions(self, *c):
        return [self(e) for e in c if getattr(e, "type", None) != "COMMA" and str(e) != ","]

    def rule_max(self, _f, _l, args, _r):
        values = self(args)
        out = values[0]
        for v in values[1:]:
            out = np.maximum(out, v)
        return out

    def rule_function_applied(self, name, _l, args, _r):
        name = str(name)
        values = self(args)
        if name.startswith("I_"):  # I_{ij}(P): the entries of P
            (value,) = values
            ix = [None if c == "X" else c for c in name[3:-1]]
            if np.ndim(value) == len(ix) + 1:  # \hat{y}_j: an entry without the sample index
                if np.shape(value)[0] != 1:
                    raise WithoutSample(f"{len(ix)} indices on an array of shape {np.shape(value)}")
                value = np.asarray(value)[0]  # a run with N = 1: the sample's row
            if len({c for c in ix if c}) < len([c for c in ix if c]):  # J_{ijj}: the diagonal
                letters = [c or chr(ord("A") + k) for k, c in enumerate(ix)]
                value, ix = (
                    np.einsum(f"{''.join(letters)}->{''.join(dict.fromkeys(letters))}", value),
                    [None if c.isupper() else c for c in dict.fromkeys(letters)],
                )
            return Labeled(value, ix)
        f = self.values.get(name)
        assert callable(f), f"{name} is applied but is not a function"
        return f(*values)

    def rule_summation(self, _sum, limits, body):
        index, lower, upper = self.limits(limits)
        names = (
            {str(t) for t in body.scan_values(lambda v: True)}
            if hasattr(body, "scan_values")
            else {str(body)}
        )
        if any(isinstance(self.values.get(n), Deferred) for n in names):  # \sum_{j=1}^{k} over the uses
            total = 0.0
            for j in range(int(lower), int(upper) + 1):
                total = total + as_array(Evaluate(self.values, {**self.bound, index: j})(body))
            return total
        # \sum_k a_k + b: the sum ends before a term without its index (the grammar takes it in)
        if getattr(body, "data", "") in ("add", "sub") and len(body.children) == 3:
            first, sign, rest = body.children
            if (
                index not in {str(t) for t in rest.scan_values(lambda v: True)}
                if hasattr(rest, "scan_values")
                else {str(rest)}
            ):
                op = np.add if body.data == "add" else np.subtract
                return self.arith(self.rule_summation(_sum, limits, first), self(rest), op)
        v = Evaluate(self.values, {**self.bound, index: Labeled(np.zeros(0), ("?",))})(body)
        assert isinstance(v, Labeled) and index in v.ix, f"\\sum_{index} over something without index {index}"
        axis = v.ix.index(index)
        if np.isfinite(upper):
            assert (lower, upper) == (1, v.a.shape[axis]), (
                f"\\sum_{{{index}={lower:g}}}^{{{upper:g}}} over an axis of length {v.a.shape[axis]}"
            )
        rest = tuple(n for n in v.ix if n != index)
        out = v.a.sum(axis=axis)
        return Labeled(out, rest) if rest else float(out)

    def limits(self, node):
        c = [x for x in node.children if str(x) not in ("_", "{", "}", "^", "=")]
        index, lower, upper = str(c[0]), self(c[1]), self(c[2])
        return index, lower, upper


def as_array(v):
    if isinstance(v, Labeled):
        assert all(n is None for n in v.ix), f"free indices {v.ix} left on one side"
        return v.a
    return np.asarray(v, dtype=float)


def agree(a, b, rtol=RTOL) -> str | None:
    """None if a and b agree to rtol, else why not."""
    if isinstance(a, Labeled) != isinstance(b, Labeled) and is_scalar(b if isinstance(a, Labeled) else a):
        # x_{ij} = 1: every entry is that number
        a, b = (
            v if isinstance(v, Labeled) else np.full(np.shape((a if isinstance(a, Labeled) else b).a), v)
            for v in (a, b)
        )
    if isinstance(a, Labeled) and isinstance(b, Labeled) and set(a.ix) == set(b.ix):
        b = Labeled(np.transpose(b.a, [b.ix.index(n) for n in a.ix]), a.ix)
    a, b = (v.a if isinstance(v, Labeled) else np.asarray(v, dtype=float) for v in (a, b))
    if a.size == b.size and a.shape != b.shape and np.squeeze(a).shape == np.squeeze(b).shape:
        a, b = np.squeeze(a), np.squeeze(b)
    if a.shape != b.shape:
        return f"shapes {a.shape} and {b.shape}"
    scale = max(np.max(np.abs(a), initial=0.0), np.max(np.abs(b), initial=0.0))
    err = np.max(np.abs(a - b), initial=0.0) / scale if scale else 0.0
    return None if err < rtol else f"relative error {err:.3g}"


# --- relations -------------------------------------------------------------------------------------

RELATION = re.compile(r"=|\\leftarrow|\\approx")
APPROX = 1e-3  # \approx: the two sides agree to this relative error (a central difference, ε = 1e-2)
RANGE = re.compile(r"^(?P<index>[a-z])\s*=\s*1\s*,\s*\\dots\s*,\s*(?P<last>\w)$")  # j = 1, \dots, k
BINDING = re.compile(r"^\(\s*(?P<sym>[^=()]+?)\s*=\s*(?P<value>.+)\)$")


def top_level_split(text: str) -> list[str]:
    """Split at =, \\leftarrow outside braces, keeping the separators."""
    parts, depth, last, i = [], 0, 0, 0
    while i < len(text):
        c = text[i]
        depth += c in "{[(" and 1 or 0
        depth -= c in "}])" and 1 or 0
        m = RELATION.match(text, i)
        if m and depth == 0:
            parts += [text[last:i], m.group()]
            last = i = m.end()
            continue
        i += 1
    return parts + [text[last:]]


def relations(tex: str):
    """(left, relation, right, bindings) for each relation of a display equation."""
    tex = re.sub(r"\\(begin|end)\{aligned\}", "", tex)
    previous = None
    for line in re.split(r"\\\\", tex):
        line = line.split("&&")[0].replace("&", " ")
        parts = [
            p.strip().rstrip(",.").strip()
            for p in re.split(r"\\qquad|\\quad\s*\\Longrightarrow\s*\\quad", line)
        ]
        if parts and parts[0].startswith("=") and previous is not None:
            parts[0] = previous + " " + parts[0]  # an aligned line `&= ...` continues the one above
        bindings = [(m["sym"], m["value"]) for p in parts if (m := BINDING.match(p))]
        bindings += [("range", m["index"], m["last"]) for p in parts if (m := RANGE.match(p))]
        for part in parts:
            part = re.sub(r"\\quad\s*\(\\text\{[^}]*\}[^)]*\)$", "", part).strip()
            if (
                BINDING.match(part)
                or RANGE.match(part)
                or not RELATION.search(re.sub(r"\{[^{}]*\}", "", part))
            ):
                continue  # a shape annotation, \text{i.e.}, a binding
            if "\\pm" in part:  # L(w \pm \epsilon) = ...: once with +, once with -
                for sign in "+-":
                    yield from relations(part.replace("\\pm", sign))
                continue
            chain = top_level_split(part)
            sides, ops = chain[0::2], chain[1::2]
            for k, op in enumerate(ops):
                yield sides[k].strip(), op, sides[k + 1].strip(), bindings
            previous = sides[-1].strip()


# --- one real step of the lesson -------------------------------------------------------------------


def lesson_of(page: Path) -> str | None:
    name = slug(page)
    return name if name in LESSONS else "numpy_warmup"  # the home page, the performance page: its sizes


STEP = ("forward", "loss", "backward")
BATCHES = re.compile(r"for \w+, \((?P<batch>[\w, ]+)\) in enumerate\((?P<loader>\w+)\):")


def variants(lesson: str) -> list[list[str]]:
    """The runs of a lesson: the sections its script runs before training that its setup and
    train don't show. Sections that set the same name are alternatives a page chooses between
    (optim: sgd and adam, each an `optimizer`), each a run; the others (real_data: model,
    evaluate) run in every run, in the script's order."""
    import ast

    from conftest import section
    from lessons import top_sections

    def squashed(code):
        return re.sub(r"\s+", " ", code)

    def assigned(code):
        tree = ast.parse(code)
        return {
            n.id if isinstance(n, ast.Name) else n.name
            for stmt in tree.body
            for n in ([stmt] if isinstance(stmt, ast.FunctionDef) else getattr(stmt, "targets", []))
            if isinstance(n, (ast.Name, ast.FunctionDef))
        }

    names, order = section_names(lesson), top_sections(lesson)
    shown = squashed(section(lesson, "setup") + (section(lesson, "train") if "train" in names else ""))
    before = order[: order.index("train")] if "train" in order else order
    extra = [s for s in before if squashed(section(lesson, s)).strip() not in shown]
    sets = {s: assigned(section(lesson, s)) for s in extra}
    alternatives = sorted(s for s in extra if any(sets[s] & sets[o] for o in extra if o != s))
    common = [s for s in extra if s not in alternatives]
    return [[*common, s] for s in alternatives] or [common]


def float64(ns: dict):
    """The lesson's tensors and modules in float64, in place (optimizers keep their parameters)."""
    import torch

    for name, v in list(ns.items()):
        if isinstance(v, torch.nn.Module):
            v.double()
        elif isinstance(v, torch.Tensor) and v.is_floating_point():
            v.data = v.data.double()
        elif v is torch.float32:
            ns[name] = torch.float64


def numeric(v):
    """A float64 NumPy copy of a value (tensors detached), or the value itself (a function)."""
    try:
        import torch

        if isinstance(v, torch.Tensor):
            return v.detach().cpu().double().numpy().copy()
    except ImportError:
        pass
    if isinstance(v, (np.ndarray, float, int, np.floating)):
        return np.array(v, dtype=float)
    return v


class Deferred:
    """A code that depends on the use j of a repeated layer, read for each j."""

    def __init__(self, code, ns, transposed=False):
        self.code, self.ns, self.transposed = code, ns, transposed

    def __call__(self, j):
        v = numeric(eval(self.code, {**self.ns, "j": j}))
        return np.swapaxes(v, 0, 1) if self.transposed else v


# A code `after(...)` is read after the update (Adam's m_t, w_t), every other code before it.
AFTER = re.compile(r"^after\((.*)\)$")


def snapshot(ns: dict, codes) -> dict:
    values = {}
    for code in codes:
        if AFTER.match(code):
            continue
        if re.search(r"\bj\b", code):  # a value per use j (h^{(j)}): read when j is known
            values[code] = Deferred(code, dict(ns))
            continue
        try:
            values[code] = numeric(eval(code, ns))
        except Exception:  # noqa: S110 - a code this lesson doesn't have: the symbol is undefined here
            pass
    return values


def hooks(ns: dict):
    """Each submodule's output of the lesson's model, kept with its gradient: out["0"], ..."""
    import torch

    ns["out"] = out = {}
    ns["outs"] = outs = {}  # every call's output: the dynamic graph's middle layer runs k times
    model = ns.get("model")
    if not isinstance(model, torch.nn.Module):
        return

    def keep(name):
        def hook(module, args, result):
            if result.requires_grad:
                result.retain_grad()
            out[name] = result
            outs.setdefault(name, []).append(result)

        return hook

    for name, module in model.named_children():
        module.register_forward_hook(keep(name))


def keep_gradients(ns: dict):
    """Intermediate tensors (y_pred, h_relu, ...) keep their .grad through backward."""
    import torch

    for v in list(ns.values()):
        if isinstance(v, torch.Tensor) and v.requires_grad and not v.is_leaf:
            v.retain_grad()


def matrix_product_rule() -> dict:
    """Random arrays for the rule about C = A B (not the lesson's variables): L = sum(G * C), so
    G is dL/dC; grad_A and grad_B are autograd's."""
    import torch

    rng = np.random.default_rng(0)
    n, m, p = 3, 4, 5
    A, B, G = (torch.tensor(rng.standard_normal(s), requires_grad=True) for s in ((n, m), (m, p), (n, p)))
    (G.detach() * (A @ B)).sum().backward()
    return {"n": n, "m": m, "p": p, "A": A, "B": B, "G": G, "grad_A": A.grad, "grad_B": B.grad}


def taylor_rule() -> dict:
    """A random cubic for the Taylor series (not the lesson's loss): its series stops at the third
    derivative, so `\\cdots` is exactly 0; the derivatives are autograd's."""
    import torch

    c = torch.tensor(np.random.default_rng(4).standard_normal(4))

    def cubic(w):
        w = torch.as_tensor(w, dtype=torch.float64)
        return c[0] + c[1] * w + c[2] * w**2 + c[3] * w**3

    def derivative(f):
        def df(w):
            w = torch.as_tensor(w, dtype=torch.float64)
            if not w.requires_grad:
                w = w.clone().requires_grad_(True)
            (g,) = torch.autograd.grad(f(w), w, create_graph=True)
            return g

        return df

    d1 = derivative(cubic)
    d2 = derivative(d1)
    d3 = derivative(d2)

    def plain(f):
        return lambda w: float(f(float(w)).detach())

    return {"cubic": plain(cubic), "d1": plain(d1), "d2": plain(d2), "d3": plain(d3), "w0": 0.7, "eps0": 1e-2}


_RUNS: dict = {}


def runs(page: Path, one_sample: bool = False) -> list[tuple[dict, dict]]:
    """(before the update, after it) snapshots of the codes in the page's notation, for each variant;
    `one_sample`: with a batch of N = 1 (the lesson's shapes line changed)."""
    lesson = lesson_of(page)
    if lesson is None:
        return []
    codes = set(notation(page).values())
    key = (lesson, page.name, one_sample)
    if key not in _RUNS:
        found = []
        for variant in variants(lesson):
            with contextlib.redirect_stdout(io.StringIO()):
                ns = setup_namespace(lesson)
                if one_sample:
                    ns = lessons.setup(lesson, sizes=(1, ns["D_in"], ns["H"], ns["D_out"]))
                torch_lesson = uses_torch(lesson)
                for s in variant:
                    run_section(lesson, s, ns)
                if torch_lesson:  # after the variant's sections: real_data makes its model there
                    float64(ns)
                ns.update(t=0, losses=[])
                if "train" in section_names(lesson):  # what train does before its loop (relu = MyReLU.apply)
                    from conftest import section

                    train = section(lesson, "train")
                    exec(("\n" + train).split("\nfor ")[0], ns)
                    # a loop over mini-batches (real_data: `for i, (x, y) in enumerate(loader)`):
                    # the step's batch is the loader's first
                    if m := BATCHES.search(train):
                        exec(f"{m['batch']} = next(iter({m['loader']}))", ns)
                for name, value in {**matrix_product_rule(), **taylor_rule()}.items():
                    ns.setdefault(name, value)
                if torch_lesson:
                    hooks(ns)
                for step in range(2):  # a first step, so that an optimizer has a state
                    ns["t"] = step
                    for calls in ns.get("outs", {}).values():
                        calls.clear()
                    for s in STEP:
                        if s == "backward" and torch_lesson:
                            keep_gradients(ns)
                        run_section(lesson, s, ns)
                    before = snapshot(ns, codes)
                    run_section(lesson, "update", ns)
                after = snapshot(ns, {AFTER.sub(r"\1", c) for c in codes})
                before.update(
                    {
                        c: after[AFTER.sub(r"\1", c)]
                        for c in codes
                        if AFTER.match(c) and AFTER.sub(r"\1", c) in after
                    }
                )
            found.append((before, after))
        _RUNS[key] = found
    return _RUNS[key]


# --- checking one equation -------------------------------------------------------------------------


def side_value(side: str, table: dict, values: dict, bindings=()):
    env = Env()

    def lookup(symbol):
        code = table.get(symbol)
        if code is None:
            raise KeyError(f"${' '.join(symbol)}$ is in no notation table")
        code = AFTER.sub(r"\1", code) if code not in values else code
        if code not in values:
            raise KeyError(f"${' '.join(symbol)}$ (`{code}`) is not defined in this lesson's run")
        return values[code]

    text = to_grammar(side, table, lookup, env)
    resolved = {}
    for name, value in env.values.items():
        if isinstance(value, tuple) and value[0] == "symbol":
            _, symbol, transposed = value
            v = lookup(symbol)
            if isinstance(v, Deferred):
                resolved[name] = Deferred(v.code, v.ns, transposed)
            else:
                resolved[name] = np.swapaxes(v, 0, 1) if transposed else v
        else:
            resolved[name] = value
    bound = {}
    free = any(isinstance(v, Deferred) for v in resolved.values()) and not re.search(r"\\sum_\{j", side)
    if free and not any(b[0] == "range" for b in bindings):
        bindings = [*bindings, ("range", "j", "k")]  # a relation about the use j: for each j = 1, ..., k
    for binding in bindings:
        if binding[0] == "range":  # j = 1, ..., k: the relation holds for each j (stacked)
            _, index, last = binding
            k = int(lookup((last,)))
            assert k >= 1, f"the run has {last} = {k}: nothing to check for {index} = 1, ..., {last}"
            tree = parse(text)
            return np.stack([as_array(Evaluate(resolved, {"j": j})(tree)) for j in range(1, k + 1)]), text
        sym, expr = binding
        bound[sym.strip()] = Evaluate(resolved)(parse(to_grammar(expr, table, lookup, Env())))
    return Evaluate(resolved, bound)(parse(text)), text


def check_equation(page: Path, tex: str) -> list[str]:
    """Problems with one display equation (empty: every relation holds); raises if one can't be read."""
    table = notation(page)
    found = runs(page)
    rels = list(relations(tex))
    if not rels:
        raise ValueError("no relation (=, \\leftarrow) to check")
    problems = []
    now = [dict(before) for before, _ in found]
    one = None  # the runs with N = 1, made when a relation is about one sample
    for left, op, right, bindings in rels:
        errors, disagree = [], []
        pool = list(zip(now, found))
        for before, (_, after) in pool:  # `pool` grows by the one-sample runs when needed
            try:
                b, _ = side_value(right, table, before, bindings)
                if tuple(tokens(left)) not in table and defines(left, table):
                    # a symbol the equation itself defines (Adam's \hat{m}_t): used by its later lines
                    table = {**table, tuple(tokens(left)): left}
                    before[left] = b
                    break
                a, _ = side_value(left, table, after if op == "\\leftarrow" else before, bindings)
            except KeyError as e:
                errors.append(e)
                continue
            except WithoutSample as e:
                errors.append(e)
                if len(pool) == len(found):
                    if one is None:
                        one = [(dict(b), (b, a)) for b, a in runs(page, one_sample=True)]
                    pool += one
                continue
            why = agree(a, b, APPROX if op == "\\approx" else RTOL)
            if why is None:
                if op == "\\leftarrow":  # the next relation sees the updated value (momentum: v, then w)
                    code = table[tuple(tokens(left))]
                    before[code] = after.get(AFTER.sub(r"\1", code))
                break
            disagree.append(f"${left} {op} {right}$: {why}")
        else:
            if disagree:
                problems.append(disagree[0])
            elif errors:
                raise errors[0]
            else:
                raise KeyError("no run of the lesson for this page")
    return problems


def defines(left: str, table: dict) -> bool:
    """A left side that is one new symbol (Adam's \\hat{m}_t, F_{\\text{step}}), defined by the equation."""
    toks = tokens(left)
    known = any(tuple(toks[: len(s)]) == s for s in table if len(s) > 1 or s[0].isalpha())
    new = re.fullmatch(r"(\\hat\{\w\}|[A-Za-z])(_\{?[\w\\{} ]+\}?)?", left.strip())
    return bool(toks) and not known and new is not None


# --- the tests -------------------------------------------------------------------------------------

EQUATIONS = [(page, i, tex, why) for page in PAGES for i, tex, why in display_equations(page)]


def zh_of(page: Path) -> Path:
    return page.with_name(page.name.removesuffix(".en.md") + ".md")


@pytest.mark.parametrize("page, i, tex, why", EQUATIONS, ids=[f"{slug(p)}-{i}" for p, i, _, _ in EQUATIONS])
def test_display_equation_holds_on_the_lessons_values(page, i, tex, why):
    if why:
        return  # marked: a definition or not numeric (test_markers_give_a_reason)
    where = f"{page.name}, display equation {i} (${' '.join(tex.split())}$)"
    try:
        problems = check_equation(page, tex)
    except Exception as e:
        pytest.fail(f"{where} can't be evaluated: {type(e).__name__}: {e}".replace("\n", " ")[:1500])
    assert not problems, f"{where}: " + "; ".join(problems)


@pytest.mark.parametrize("page", PAGES, ids=[slug(p) for p in PAGES])
def test_markers_are_the_same_in_both_languages(page):
    en = [(i, why) for i, _, why in display_equations(page)]
    zh = [(i, why) for i, _, why in display_equations(zh_of(page))]
    assert zh == en, f"{zh_of(page).name} and {page.name} mark different equations as not checked"


def test_markers_give_a_reason():
    for page, i, _, why in EQUATIONS:
        assert why is None or len(why.split()) >= 3, f"{page.name}, display equation {i}: say why ({why!r})"


@pytest.mark.parametrize("page", PAGES, ids=[slug(p) for p in PAGES])
def test_lesson_notation_is_the_same_in_both_languages(page):
    en = [(s, c) for s, c, _ in notation_rows(page)]
    zh = [(s, c) for s, c, _ in notation_rows(zh_of(page))]
    assert zh == en, f"{zh_of(page).name} and {page.name} have different notation tables"


def test_coverage(capsys):
    """Per page: display equations checked / total (pytest -s -k coverage). At least 95%: a marker
    is for what is not a relation or not the run's (custom_function's gradcheck estimate, the
    real-data lesson's accuracy over the validation set), not a way out of a hard equation."""
    checked = total = 0
    with capsys.disabled():
        print("\npage: display equations checked / total (unchecked: the marker's reason)")
        for page in PAGES:
            eqs = list(display_equations(page))
            n = sum(why is None for _, _, why in eqs)
            checked, total = checked + n, total + len(eqs)
            print(f"  {page.name}: {n} / {len(eqs)}")
            for i, _, why in eqs:
                if why:
                    print(f"    {i}: {why}")
        print(f"  all: {checked} / {total}")
    assert checked >= 0.95 * total, f"only {checked} of {total} display equations are checked"


# --- the small table, each rule seen to work and to fail ---------------------------------------------


def evaluate(tex: str, values: dict):
    table = {tuple(tokens(k)): k for k in values}
    return side_value(tex, table, values)[0]


def test_juxtaposition_is_a_matrix_product_in_order():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    assert agree(evaluate(r"a\,b", {"a": a, "b": b}), a @ b) is None
    with pytest.raises(AssertionError, match="product of shapes"):
        evaluate(r"b a", {"a": a, "b": b})


def test_transpose_odot_indicator_max():
    rng = np.random.default_rng(2)
    g, h = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    values = {"g": g, "h": h}
    assert agree(evaluate(r"g^\top", values), g.T) is None
    assert agree(evaluate(r"g \odot \mathbb{1}[h \ge 0]", values), g * (h >= 0)) is None
    assert agree(evaluate(r"g \odot \mathbb{1}[h > 0]", values), g * (h > 0)) is None
    assert agree(evaluate(r"\max(h, 0)", values), np.maximum(h, 0)) is None
    assert agree(evaluate(r"2\,(g - h)", values), 2 * (g - h)) is None
    assert agree(evaluate(r"g \odot h", values), g @ h.T) is not None


def test_entries_and_sums_over_indices():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    values = {"a": a, "b": b, "n": 3}
    assert agree(evaluate(r"\sum_{i,j} (a_{ij})^2", values), np.sum(a**2)) is None
    assert agree(evaluate(r"\sum_{i=1}^{n} a_{ij}", values), a.sum(0)) is None
    assert agree(evaluate(r"\sum_k a_{ik} b_{kj}", values), Labeled(a @ b, "ij")) is None
    assert agree(evaluate(r"\left(a\,b\right)_{ij}", values), Labeled(a @ b, "ij")) is None
    assert agree(evaluate(r"\sum_i a_{i\cdot}", values), a.sum(0)) is None
    assert agree(evaluate(r"\mathbf{1}^\top a", values), a.sum(0)) is None
    with pytest.raises(AssertionError, match="over an axis of length 4"):
        evaluate(r"\sum_{i=1}^{n} a_{ji}", values)


def test_relations_are_split_at_aligned_lines_qquads_and_chains():
    tex = "\\begin{aligned}\na &= b && (n \\times p) \\\\\nc &\\leftarrow d\n\\end{aligned}"
    assert [(lhs, op, rhs) for lhs, op, rhs, _ in relations(tex)] == [
        ("a", "=", "b"),
        ("c", "\\leftarrow", "d"),
    ]
    got = [(lhs, op, rhs) for lhs, op, rhs, _ in relations(r"a = \sum_{k=1}^{n} b = c, \qquad d = e")]
    assert got == [("a", "=", r"\sum_{k=1}^{n} b"), (r"\sum_{k=1}^{n} b", "=", "c"), ("d", "=", "e")]


def test_labels_pick_entries_one_hot_log_and_e():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((3, 4))
    p = np.exp(a) / np.exp(a).sum(1, keepdims=True)
    labels = np.array([2.0, 0.0, 3.0])
    values = {"p": p, "a": a, "y": labels, "n": 3}
    onehot = np.eye(4)[labels.astype(int)]
    got = evaluate(r"\frac{1}{n} \sum_{i=1}^{n} -\log p_{i y_i}", values)
    assert agree(got, -np.log(p[np.arange(3), labels.astype(int)]).mean()) is None
    assert agree(evaluate(r"p_{ij} - \mathbb{1}[j = y_i]", values), Labeled(p - onehot, "ij")) is None
    assert agree(evaluate(r"\frac{e^{a_{ij}}}{\sum_{k=1}^{4} e^{a_{ik}}}", values), Labeled(p, "ij")) is None
    assert (
        agree(evaluate(r"p_{ij} - \mathbb{1}[j = y_i]", values), Labeled(p - onehot[::-1], "ij")) is not None
    )
    with pytest.raises(AssertionError):  # a label beyond the row's entries
        evaluate(r"p_{ij} - \mathbb{1}[j = y_i]", {**values, "y": np.array([2.0, 0.0, 4.0])})


def test_entries_without_the_sample_index_and_comma_subscripts():
    rng = np.random.default_rng(6)
    h, w = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    with pytest.raises(WithoutSample):  # h_k of a batch: which sample's?
        evaluate(r"\sum_{k=1}^{4} h_{k} w_{2,kj}", {"h": h, "w_2": w})
    row = evaluate(r"\sum_{k=1}^{4} h_{k} w_{2,kj}", {"h": h[:1], "w_2": w})  # a batch of one
    assert agree(row, Labeled(h[0] @ w, "j")) is None
    assert agree(evaluate(r"\sum_{i,j} (w_{2,ij})^2", {"w_2": w}), np.sum(w**2)) is None
    rels = [(lhs, rhs) for lhs, _, rhs, _ in relations(r"a = b \quad\Longrightarrow\quad c = d")]
    assert rels == [("a", "b"), ("c", "d")]


def test_derivative_of_an_entry_by_an_entry_is_the_jacobians_diagonal():
    J = np.zeros((3, 4, 4))
    J[:, np.arange(4), np.arange(4)] = 1.0  # dy_ij / db_l: 1 where l = j
    values = {
        "\\hat{y}": np.zeros((3, 4)),
        "b_2": np.zeros(4),
        "\\frac{\\partial \\hat{y}}{\\partial b_2}": J,
    }
    entry = evaluate(r"\frac{\partial \hat{y}_{ij}}{\partial (b_2)_j}", values)
    assert agree(entry, 1.0) is None  # every entry is 1
    J[1, 2, 2] = 2.0
    assert agree(evaluate(r"\frac{\partial \hat{y}_{ij}}{\partial (b_2)_j}", values), 1.0) is not None


def test_sections_before_training_run_in_order_alternatives_each_a_run():
    assert variants("real_data") == [["model", "evaluate"]]
    assert variants("optim") == [["adam"], ["sgd"]]


@pytest.mark.parametrize("page", [p for p in PAGES if p.name != "index.en.md"], ids=lambda p: slug(p))
def test_page_notation_shapes_are_the_runs(page):
    """Each row of the page's own notation table has the shape it is written with, in every run
    of the lesson where its code is defined (scalar: shape ()); sizes are the run's N, D_{in}, ..."""
    table, found, checked = notation(page), runs(page), 0
    for symbol, code, shape in notation_rows(page):
        for before, after in found:
            values = after if AFTER.match(code) else before
            value = values.get(AFTER.sub(r"\1", code))
            if value is None or isinstance(value, Deferred) or callable(value):
                continue
            dims = [] if shape == "scalar" else [d.strip() for d in shape.split("\\times")]
            want = tuple(int(d) if d.isdigit() else int(values[table[tuple(tokens(d))]]) for d in dims)
            assert np.shape(value) == want, (
                f"{page.name}: ${symbol}$ (`{code}`) is written {shape}, the run makes {np.shape(value)}"
            )
            checked += 1
    assert checked or not notation_rows(page), f"{page.name}: no row of its notation table is in the run"
