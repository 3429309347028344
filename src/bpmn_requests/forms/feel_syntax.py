"""FEEL syntax for the form subset: tokenizer, syntax tree and recursive-descent parser.

Everything outside the subset is refused here with its position, so the evaluator in `feel.py` only ever
sees constructs whose meaning it implements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..domain.errors import ValidationFailed

_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<number>\d+(?:\.\d+)?|\.\d+)
      | (?P<string>"(?:[^"\\\n]|\\.)*")
      | (?P<name>[^\W\d][\w?]*)
      | (?P<op>!=|<=|>=|\.\.|\*\*|->|[=<>()\[\],.+\-*/{}:'])""",
    re.VERBOSE,
)
_COMPARISONS = frozenset({"=", "!=", "<", "<=", ">", ">="})
_UNSUPPORTED_WORDS = {
    "for": "'for' loops", "some": "'some' quantifiers", "every": "'every' quantifiers",
    "if": "'if' expressions", "function": "function definitions", "instance": "'instance of' tests",
    "between": "'between' tests", "then": "'then'", "else": "'else'", "return": "'return'",
    "satisfies": "'satisfies'",
}
_UNSUPPORTED_OPS = {
    "+": "arithmetic", "-": "arithmetic", "*": "arithmetic", "/": "arithmetic", "**": "arithmetic",
    "{": "context literals", "}": "context literals", ":": "context literals", "..": "ranges",
    "->": "'->'", "'": "single-quoted strings (FEEL strings use double quotes)",
}
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "'": "'"}


class FeelError(ValidationFailed):
    """An expression outside the supported FEEL subset; `position` is a 0-based offset into `expression`."""

    def __init__(self, message: str, *, expression: str, position: int):
        line = expression.count("\n", 0, position) + 1
        column = position - (expression.rfind("\n", 0, position) + 1) + 1
        where = f"column {column}" if line == 1 else f"line {line}, column {column}"
        super().__init__(f"{message} at {where} of FEEL expression {expression!r}")
        self.expression = expression
        self.position = position
        self.reason = message


@dataclass(frozen=True)
class _Token:
    kind: str  # number | string | name | op | end
    text: str
    pos: int


# The syntax tree: small frozen nodes; `feel.py` gives them their meaning.
@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Path:
    names: tuple[str, ...]


@dataclass(frozen=True)
class ListOf:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Binary:
    op: str  # a comparison, `and`, `or` or `in`
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    function: str  # `not` or `list contains`
    args: tuple[Node, ...]


Node = Literal | Path | ListOf | Binary | Call


def _tokenize(text: str, start: int, end: int) -> list[_Token]:
    tokens: list[_Token] = []
    pos = start
    while pos < end:
        match = _TOKEN.match(text, pos, end)
        if match is None:
            raise FeelError(f"unexpected character {text[pos]!r}", expression=text, position=pos)
        kind = match.lastgroup or "op"
        if kind != "space":
            tokens.append(_Token(kind, match.group(), pos))
        pos = match.end()
    tokens.append(_Token("end", "", end))
    return tokens


def _unescape(literal: str) -> str:
    return re.sub(r"\\u([0-9a-fA-F]{4})|\\(.)",
                  lambda m: chr(int(m.group(1), 16)) if m.group(1) else _ESCAPES.get(m.group(2), m.group(2)),
                  literal[1:-1])


class _Parser:
    """Recursive descent over the tokens; precedence from loosest: or, and, comparison/in, primary."""

    def __init__(self, text: str, start: int, end: int):
        self.text = text
        self.tokens = _tokenize(text, start, end)
        self.index = 0

    def fail(self, message: str, token: _Token | None = None) -> FeelError:
        return FeelError(message, expression=self.text, position=(token or self.peek()).pos)

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def take(self) -> _Token:
        token = self.peek()
        self.index += 1
        return token

    def expect(self, text: str) -> _Token:
        token = self.peek()
        if token.kind != "op" or token.text != text:
            raise self.fail(f"expected {text!r} but found {token.text or 'the end'!r}")
        return self.take()

    def at(self, kind: str, text: str) -> bool:
        token = self.peek()
        return token.kind == kind and token.text == text

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise self.fail("empty expression")
        node = self.disjunction()
        if self.peek().kind != "end":
            raise self.unexpected(self.peek())
        return node

    def disjunction(self) -> Node:
        node = self.conjunction()
        while self.at("name", "or"):
            self.take()
            node = Binary("or", node, self.conjunction())
        return node

    def conjunction(self) -> Node:
        node = self.comparison()
        while self.at("name", "and"):
            self.take()
            node = Binary("and", node, self.comparison())
        return node

    def comparison(self) -> Node:
        left = self.primary()
        token = self.peek()
        if token.kind == "op" and token.text in _COMPARISONS:
            self.take()
            node: Node = Binary(token.text, left, self.primary())
        elif self.at("name", "in"):
            self.take()
            node = Binary("in", left, self.in_target())
        else:
            return left
        follow = self.peek()
        if (follow.kind == "op" and follow.text in _COMPARISONS) or self.at("name", "in"):
            raise self.fail("chained comparisons are not supported; combine them with 'and'")
        return node

    def in_target(self) -> Node:
        if not self.at("op", "("):
            return self.primary()
        # `x in (a, b)` is FEEL's list of positive unary tests: membership, like `x in [a, b]`.
        self.take()
        items = self.sequence(")")
        return items[0] if len(items) == 1 else ListOf(tuple(items))

    def sequence(self, closer: str) -> list[Node]:
        items: list[Node] = []
        while not self.at("op", closer):
            items.append(self.disjunction())
            if not self.at("op", closer):
                self.expect(",")
        self.take()
        return items

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "number":
            return Literal(Decimal(token.text))
        if token.kind == "string":
            return Literal(_unescape(token.text))
        if token.kind == "name":
            return self.named(token)
        if token.text == "-" and self.peek().kind == "number":
            return Literal(-Decimal(self.take().text))
        if token.text == "(":
            node = self.disjunction()
            self.expect(")")
            return node
        if token.text == "[":
            return ListOf(tuple(self.sequence("]")))
        raise self.unexpected(token)

    def named(self, token: _Token) -> Node:
        word = token.text
        if word in ("true", "false"):
            return Literal(word == "true")
        if word == "null":
            return Literal(None)
        if word == "not":
            self.expect("(")
            operand = self.disjunction()
            self.expect(")")
            return Call("not", (operand,))
        if word == "list" and self.at("name", "contains") and self.peek(1).text == "(":
            self.take()
            self.take()
            items = self.disjunction()
            self.expect(",")
            needle = self.disjunction()
            self.expect(")")
            return Call("list contains", (items, needle))
        if word in _UNSUPPORTED_WORDS or word in ("and", "or", "in"):
            raise self.unexpected(token)
        if self.at("op", "("):
            raise self.fail(f"function {word!r} is not supported (supported: not, list contains)", token)
        names = [word]
        while self.at("op", "."):
            self.take()
            part = self.take()
            if part.kind != "name":
                raise self.fail("expected a property name after '.'", part)
            names.append(part.text)
        return Path(tuple(names))

    def unexpected(self, token: _Token) -> FeelError:
        if token.kind == "end":
            return self.fail("unexpected end of expression", token)
        if token.kind == "name" and token.text in _UNSUPPORTED_WORDS:
            return self.fail(f"{_UNSUPPORTED_WORDS[token.text]} are not supported", token)
        if token.kind == "op" and token.text in _UNSUPPORTED_OPS:
            return self.fail(f"{token.text!r} ({_UNSUPPORTED_OPS[token.text]}) is not supported", token)
        return self.fail(f"unexpected {token.text!r}", token)


def parse(text: str, start: int = 0, end: int | None = None) -> Node:
    """The syntax tree of `text[start:end]`; errors report positions in the whole `text`."""
    return _Parser(text, start, len(text) if end is None else end).parse()
