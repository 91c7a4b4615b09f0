"""Which sentences of a report template state a result without a finding choosing them.

A sentence that compares, chooses or explains (``better``, ``because``, ``higher``, ``chosen``, ...) may
appear in a template only inside a branch that a finding's verdict selects::

    {% if run.metrics.findings.depth.verdict == "better" %}Deeper was better ...{% else %}...{% endif %}

``unguarded_claims(sources)`` parses each template with Jinja2 (no rendering, no runs) and returns every
such sentence that is not: the fixed text and the string constants of the output (a caption passed to a
macro, ``{{ "faster" if a > b }}``, ``{% set s = "..." %}``). Control is tracked through the tree:

- a branch is *finding-controlled* when its ``{% if %}``/``{% elif %}`` test reads a verdict: ``.verdict`` of a
  finding (or a name set from one, or a call of a macro that prints only a verdict), a finding being an
  expression that reads ``findings`` or a name bound to one (``{% set f = run.metrics.findings.x %}``,
  ``{% for name, f in ....findings.items() %}``, or a macro parameter that every call of that macro, in any of
  the templates checked, passes a finding); the ``{% else %}`` of a chain whose every test reads a verdict is
  controlled too (it is chosen by the verdicts);
- text passed to a macro's parameter is controlled when the macro prints that parameter only inside such
  branches (``m.say(f, better="A is better", worse="A is worse")``);
- a branch whose test orders numbers (``<``, ``>``, ``<=``, ``>=``) is never controlled, nor is anything below
  it: that is a comparison of numbers in Jinja, the thing findings replace;
- a sentence that calls itself a hypothesis ("not tested here") is not a claim of a result.

Words are matched whole, case-insensitively, after HTML tags are removed. The checker is a heuristic over
words: it finds every place to look at; a definition that is not a result goes on the test's allow-list
with its reason.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping

import jinja2
from jinja2 import nodes

# Words that state a direction, a comparison, a choice or a cause. Stems take common endings.
CLAIM_WORDS = (
    r"better", r"worse", r"best", r"worst", r"because", r"so that", r"so the", r"why", r"due to", r"thanks to",
    r"therefore", r"hence", r"thus", r"higher", r"lower", r"more", r"less", r"fewer", r"larger", r"smaller",
    r"greater", r"than", r"falls?", r"fell", r"rises?", r"rose", r"drops?", r"dropped", r"paid off", r"pays off",
    r"chose", r"chosen", r"choose", r"improv(?:e|es|ed|ing|ement|ements)", r"faster", r"slower",
    r"outperform(?:s|ed)?", r"beats?", r"helps?", r"helped", r"hurts?", r"wins?", r"won", r"exceeds?", r"exceeded",
)
CLAIM = re.compile(r"(?<![\w-])(" + "|".join(CLAIM_WORDS) + r")(?![\w-])", re.IGNORECASE)
# A sentence that says it is a hypothesis (or general knowledge, or the assignment's question) states no result.
HYPOTHESIS = re.compile(r"not tested (?:here|on|by)|\bhypothes[ie]s\b|general knowledge|not measured here",
                        re.IGNORECASE)
QUESTION = re.compile(r"\?\s*$")
ORDERING = {"lt", "gt", "lteq", "gteq"}
VERDICT_NAME, VERDICT_MACRO = "=", "()"   # in a scope's bound names: "=v" holds a verdict, "()m" prints one
PLACEHOLDER = "…"   # where an expression's value stands in a sentence


@dataclass(frozen=True)
class Claim:
    template: str
    line: int
    sentence: str
    words: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.template}:{self.line}: [{', '.join(self.words)}] {self.sentence}"


def _env() -> jinja2.Environment:
    return jinja2.Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])


# --- which expressions are findings ---------------------------------------------------------------------

def _reads_findings(expr: nodes.Node, bound: frozenset[str]) -> bool:
    """``expr`` reads a finding or the findings mapping (``x.findings``, ``x["findings"]``, a bound name)."""
    for n in [expr, *expr.find_all(nodes.Node)]:
        if isinstance(n, nodes.Getattr) and n.attr == "findings":
            return True
        if isinstance(n, nodes.Getitem) and isinstance(n.arg, nodes.Const) and n.arg.value == "findings":
            return True
        if isinstance(n, nodes.Name) and n.ctx == "load" and n.name in bound:
            return True
        if (isinstance(n, nodes.Call) and isinstance(n.node, nodes.Getattr) and n.node.attr == "get"
                and n.args and isinstance(n.args[0], nodes.Const) and n.args[0].value == "findings"):
            return True
    return False


def _reads_verdict(test: nodes.Node, bound: frozenset[str]) -> bool:
    """The expression reads the verdict of a finding (``f.verdict``, ``f["verdict"]``, ``f.get("verdict")``, a
    name holding one, a call of a macro that prints one) and orders no numbers."""
    if _orders_numbers(test):
        return False
    for n in [test, *test.find_all(nodes.Node)]:
        if isinstance(n, nodes.Getattr) and n.attr == "verdict" and _reads_findings(n.node, bound):
            return True
        if (isinstance(n, nodes.Getitem) and isinstance(n.arg, nodes.Const) and n.arg.value == "verdict"
                and _reads_findings(n.node, bound)):
            return True
        if isinstance(n, nodes.Name) and n.ctx == "load" and VERDICT_NAME + n.name in bound:
            return True
        if isinstance(n, nodes.Call):
            if VERDICT_MACRO + str(_callee(n)) in bound:
                return True
            if (isinstance(n.node, nodes.Getattr) and n.node.attr == "get" and n.args
                    and isinstance(n.args[0], nodes.Const) and n.args[0].value == "verdict"
                    and _reads_findings(n.node.node, bound)):
                return True
    return False


def _bind(target: nodes.Node, value: nodes.Node, bound: set[str]) -> None:
    """``{% set target = value %}``: the names now hold a verdict, a finding, or neither."""
    frozen = frozenset(bound)
    pairs = (list(zip(target.items, value.items))
             if isinstance(target, nodes.Tuple) and isinstance(value, nodes.Tuple)
             and len(target.items) == len(value.items) else [(target, value)])
    for t, v in pairs:
        names = _names(t)
        bound.difference_update([*names, *(VERDICT_NAME + n for n in names)])
        if _reads_verdict(v, frozen):
            bound.update(VERDICT_NAME + n for n in names)
        elif _reads_findings(v, frozen):
            bound.update(names)


def _verdict_macros(trees: Mapping[str, nodes.Template], params: Mapping[str, set[str]]) -> set[str]:
    """Macros that print a verdict and nothing else (``{% macro verdict(x, name) %}{{ ...get("verdict") }}``):
    a name set from a call of one holds a verdict."""
    found = set()
    for tree in trees.values():
        loose = _loosely_bound(tree)
        for m in tree.find_all(nodes.Macro):
            bound = loose | params.get(m.name, set())
            printed = [c for out in m.find_all(nodes.Output) for c in out.nodes]
            text = "".join(c.data for c in printed if isinstance(c, nodes.TemplateData))
            exprs = [c for c in printed if not isinstance(c, nodes.TemplateData)]
            if exprs and not text.strip() and all(_reads_verdict(e, bound) for e in exprs):
                found.add(m.name)
    return found


def _orders_numbers(test: nodes.Node) -> bool:
    return any(op.op in ORDERING for op in test.find_all(nodes.Operand))


def _names(target: nodes.Node) -> list[str]:
    return [n.name for n in [target, *target.find_all(nodes.Name)] if isinstance(n, nodes.Name)]


def _macro_finding_params(trees: Mapping[str, nodes.Template]) -> dict[str, set[str]]:
    """Macro name -> its parameters that every call (in every template) passes a finding.

    A call's arguments are judged by what they read (``findings`` or a name bound from it in that
    template, found by a first pass over its ``set``/``for`` statements without scopes)."""
    macros: dict[str, list[str]] = {}
    calls: dict[str, list[list[bool | None]]] = {}
    for tree in trees.values():
        loose = _loosely_bound(tree)
        for m in tree.find_all(nodes.Macro):
            macros[m.name] = [a.name for a in m.args]
        for c in tree.find_all(nodes.Call):
            name = _callee(c)
            if name is None:
                continue
            passed = [_reads_findings(a, loose) for a in c.args]
            calls.setdefault(name, []).append((passed, {k.key: _reads_findings(k.value, loose) for k in c.kwargs}))
    result: dict[str, set[str]] = {}
    for name, params in macros.items():
        sites = calls.get(name, [])
        if not sites:
            continue
        chosen = set()
        for i, p in enumerate(params):
            if all((passed[i] if i < len(passed) else kw.get(p, False)) for passed, kw in sites):
                chosen.add(p)
        result[name] = chosen
    return result


def _callee(call: nodes.Call) -> str | None:
    """The macro a call names: ``say(...)`` or ``m.say(...)``."""
    return call.node.name if isinstance(call.node, nodes.Name) else (
        call.node.attr if isinstance(call.node, nodes.Getattr) else None)


def _loosely_bound(tree: nodes.Template) -> frozenset[str]:
    bound: set[str] = set()
    for _ in range(3):   # a name set from a name set from findings
        for n in tree.find_all((nodes.Assign, nodes.For)):
            value = n.node if isinstance(n, nodes.Assign) else n.iter
            if _reads_findings(value, frozenset(bound)):
                bound.update(_names(n.target))
    return frozenset(bound)


# --- the walk -------------------------------------------------------------------------------------------

def _visible(text: str) -> str:
    """``text`` with tags (and style/script blocks) cut out; their line breaks stay, for line numbers."""
    def blank(m: re.Match) -> str:
        return "\n" * m.group().count("\n") or " "
    return re.sub(r"<[^>]*>", blank, re.sub(r"(?is)<(style|script)\b.*?</\1>", blank, text))


def _sentences(text: str) -> Iterable[tuple[int, str]]:
    """(offset, sentence) of ``text``; a sentence ends at . ! ? ; or a paragraph break (a colon does not end
    it: "not tested here: ..." marks what follows)."""
    start = 0
    for m in re.finditer(r"[.!?;](?=\s)|\n\s*\n", text + " "):
        yield start, text[start:m.end()]
        start = m.end()
    yield start, text[start:]


def _claims_in(template: str, line: int, text: str) -> list[Claim]:
    found, text = [], _visible(text)
    for offset, sentence in _sentences(text):
        words = tuple(dict.fromkeys(w.lower() for w in CLAIM.findall(sentence)))
        if words and not HYPOTHESIS.search(sentence) and not QUESTION.search(sentence):
            lead = len(sentence) - len(sentence.lstrip())   # the line the sentence's first word is on
            found.append(Claim(template, line + text[:offset + lead].count("\n"), " ".join(sentence.split()), words))
    return found


class _Walker:
    def __init__(self, template: str, macro_params: Mapping[str, set[str]], macro_args: Mapping[str, list[str]],
                 selecting: Mapping[str, set[str]] | None = None):
        self.template = template
        self.macro_args = macro_args
        self.macro_params = macro_params
        self.selecting = selecting or {}          # macro -> parameters it prints only inside verdict branches
        self.claims: list[Claim] = []
        self.macros: list[tuple[str, set[str]]] = []   # the macros being walked, innermost last, with parameters
        self.uses: dict[tuple[str, str], list[bool]] = {}   # (macro, parameter) -> controlled, per use

    def body(self, body: list[nodes.Node], bound: set[str], controlled: bool) -> None:
        for n in body:   # ``bound`` is this scope's: a ``set`` binds for the statements after it
            self.node(n, bound, controlled)

    def node(self, n: nodes.Node, bound: set[str], controlled: bool) -> None:
        frozen = frozenset(bound)
        if isinstance(n, nodes.If):
            self.chain(n, bound, controlled)
        elif isinstance(n, nodes.Output):
            self.output(n, frozen, controlled)
        elif isinstance(n, nodes.Assign):
            self.expr(n.node, frozen, controlled)
            _bind(n.target, n.node, bound)
        elif isinstance(n, nodes.AssignBlock):
            self.body(n.body, set(bound), controlled)
        elif isinstance(n, nodes.For):
            inner = set(bound)
            (inner.update if _reads_findings(n.iter, frozen) else inner.difference_update)(_names(n.target))
            self.body(n.body, inner, controlled)
            self.body(n.else_, set(bound), controlled)
        elif isinstance(n, nodes.Macro):
            inner = set(bound) | self.macro_params.get(n.name, set())
            self.expr_list([d for d in n.defaults], frozen, controlled)
            self.macros.append((n.name, {a.name for a in n.args}))
            self.body(n.body, inner, controlled)
            self.macros.pop()
        elif isinstance(n, nodes.With):
            inner = set(bound)
            for target, value in zip(n.targets, n.values):
                _bind(target, value, inner)
            self.body(n.body, inner, controlled)
        elif isinstance(n, (nodes.CallBlock, nodes.FilterBlock, nodes.Scope, nodes.Block)):
            self.body(n.body, set(bound), controlled)
        elif isinstance(n, nodes.ExprStmt):
            self.expr(n.node, frozen, controlled)
        # Extends, Include, Import, FromImport: no text of their own here

    def chain(self, n: nodes.If, bound: set[str], controlled: bool) -> None:
        frozen = frozenset(bound)
        branches = [(n.test, n.body), *((e.test, e.body) for e in n.elif_)]
        all_verdicts = True
        ordered = False
        for test, body in branches:
            by_verdict = _reads_verdict(test, frozen)
            ordered = ordered or _orders_numbers(test)
            all_verdicts = all_verdicts and by_verdict
            self.body(body, bound, (controlled or by_verdict) and not ordered)
        self.body(n.else_, bound, (controlled or all_verdicts) and not ordered)

    def output(self, n: nodes.Output, bound: frozenset[str], controlled: bool) -> None:
        parts, line = [], n.lineno
        for child in n.nodes:
            if isinstance(child, nodes.TemplateData):
                parts.append(child.data)
            else:
                parts.append(PLACEHOLDER)
                self.expr(child, bound, controlled)
        if not controlled:
            self.claims.extend(_claims_in(self.template, line, "".join(parts)))

    def expr_list(self, exprs: list[nodes.Node], bound: frozenset[str], controlled: bool) -> None:
        for e in exprs:
            self.expr(e, bound, controlled)

    def expr(self, e: nodes.Node, bound: frozenset[str], controlled: bool) -> None:
        """String constants that may be printed: not those compared, looked up or given to a test."""
        if isinstance(e, nodes.CondExpr):
            by_verdict = _reads_verdict(e.test, bound)
            ordered = _orders_numbers(e.test)
            for branch in (e.expr1, e.expr2):
                if branch is not None:
                    self.expr(branch, bound, (controlled or by_verdict) and not ordered)
            return
        if isinstance(e, nodes.Const):
            if isinstance(e.value, str) and not controlled:
                self.claims.extend(_claims_in(self.template, e.lineno, e.value))
            return
        if isinstance(e, (nodes.Compare, nodes.Test)):
            return
        if isinstance(e, nodes.Name) and e.ctx == "load" and self.macros and e.name in self.macros[-1][1]:
            self.uses.setdefault((self.macros[-1][0], e.name), []).append(controlled)
            return
        if isinstance(e, nodes.Call) and _callee(e) in self.selecting:
            # text handed to a macro that prints it only in a verdict's branch is chosen by that verdict
            chosen = self.selecting[_callee(e)]
            params = self.macro_args.get(_callee(e), [])
            self.expr(e.node, bound, controlled)
            for i, a in enumerate(e.args):
                self.expr(a, bound, controlled or (i < len(params) and params[i] in chosen))
            for k in e.kwargs:
                self.expr(k.value, bound, controlled or k.key in chosen)
            return
        if isinstance(e, (nodes.Getitem, nodes.Getattr)):
            self.expr(e.node, bound, controlled)
            return
        if isinstance(e, nodes.Filter) and e.name == "format" and e.node is not None:
            self.expr(e.node, bound, controlled)   # a format string is printed; its arguments are values
            self.expr_list(e.args, bound, controlled)
            return
        for child in e.iter_child_nodes():
            self.expr(child, bound, controlled)


def unguarded_claims(sources: Mapping[str, str]) -> list[Claim]:
    """Every comparative or causal sentence of the templates ``sources`` (name -> Jinja2 source) that no
    finding's verdict selects, in template and line order."""
    env = _env()
    trees = {name: env.parse(source, name=name) for name, source in sources.items()}
    params = _macro_finding_params(trees)
    macro_args = {m.name: [a.name for a in m.args] for tree in trees.values() for m in tree.find_all(nodes.Macro)}
    # first pass: which macro parameters are printed only inside a verdict's branch (every use controlled)
    start = {VERDICT_MACRO + m for m in _verdict_macros(trees, params)}
    uses: dict[tuple[str, str], list[bool]] = {}
    for name, tree in trees.items():
        walker = _Walker(name, params, macro_args)
        walker.body(tree.body, set(start), False)
        for key, flags in walker.uses.items():
            uses.setdefault(key, []).extend(flags)
    selecting: dict[str, set[str]] = {}
    for (macro, param), flags in uses.items():
        if flags and all(flags):
            selecting.setdefault(macro, set()).add(param)
    claims = []
    for name, tree in trees.items():
        walker = _Walker(name, params, macro_args, selecting)
        walker.body(tree.body, set(start), False)
        claims.extend(walker.claims)
    return sorted(claims, key=lambda c: (c.template, c.line))


def allowed(claims: Iterable[Claim], allow: Iterable[tuple[str, str, str]]) -> tuple[list[Claim], set]:
    """``claims`` less those an allow-list entry ``(template, fragment of the sentence, reason)`` covers
    (a fragment ``=text`` covers only the sentence that is exactly ``text``, e.g. a table header);
    and the entries that covered none (stale: the sentence changed or went)."""
    allow = list(allow)
    used, left = set(), []

    def covers(fragment: str, sentence: str) -> bool:
        return sentence == fragment[1:] if fragment.startswith("=") else fragment in sentence

    for c in claims:
        hits = [a for a in allow if a[0] == c.template and covers(a[1], c.sentence)]
        used.update(hits)
        if not hits:
            left.append(c)
    return left, set(allow) - used
