"""Syntax of the JUEL (Camunda 7) and FEEL (Camunda 8) subsets: tokenizers, one syntax tree, two parsers.

Everything outside the subsets is refused here with its position, so the evaluators in `expressions.py`
only ever see constructs whose meaning they implement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..domain.errors import ProcessError


class ExpressionRefused(ProcessError):
    """An expression outside the supported subset; `position` is a 0-based offset into `expression`."""

    def __init__(self, reason: str, *, expression: str, position: int, language: str):
        line = expression.count("\n", 0, position) + 1
        column = position - (expression.rfind("\n", 0, position) + 1) + 1
        at = f"column {column}" if line == 1 else f"line {line}, column {column}"
        super().__init__(f"{reason} at {at} of {language} expression {expression!r}",
                         details={"position": position, "expression": expression})
        self.reason, self.expression, self.position, self.language = reason, expression, position, language


# The syntax tree. `pos` is where a construct starts, for messages at evaluation time.
@dataclass(frozen=True)
class Literal:
    value: Any
    pos: int


@dataclass(frozen=True)
class Name:
    name: str
    pos: int


@dataclass(frozen=True)
class Member:
    base: Node
    key: Node  # `a.b` has the key Literal("b"); JUEL's `a[x]` has x
    pos: int


@dataclass(frozen=True)
class Unary:
    op: str  # "-", "not" (JUEL's ! and not) or "empty"
    operand: Node
    pos: int


@dataclass(frozen=True)
class Binary:
    op: str  # == != < <= > >= and or + - * / % in: JUEL's eq, div, &&, ... arrive as these
    left: Node
    right: Node
    pos: int


@dataclass(frozen=True)
class ListOf:
    items: tuple[Node, ...]
    pos: int


@dataclass(frozen=True)
class ContextOf:
    entries: tuple[tuple[str, Node], ...]
    pos: int


@dataclass(frozen=True)
class Call:
    function: str  # one of FEEL_FUNCTIONS
    args: tuple[Node, ...]
    pos: int


@dataclass(frozen=True)
class IfThen:
    test: Node
    then: Node
    otherwise: Node
    pos: int


Node = Literal | Name | Member | Unary | Binary | ListOf | ContextOf | Call | IfThen
FEEL_FUNCTIONS = ("not", "list contains", "is defined")


@dataclass(frozen=True)
class Token:
    kind: str  # number | string | name | op | end
    text: str
    pos: int


_JUEL_TOKEN = re.compile(r"""(?P<space>\s+) | (?P<number>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
    | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*") | (?P<name>[A-Za-z_$][\w$]*)
    | (?P<op>==|!=|<=|>=|&&|\|\||->|\+=|[-+*/%<>!()\[\].,?:;={}\#])""", re.VERBOSE | re.DOTALL)
_FEEL_TOKEN = re.compile(r"""(?P<space>\s+) | (?P<number>\d+(?:\.\d+)?|\.\d+) | (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<name>[^\W\d]\w*) | (?P<op>!=|<=|>=|\.\.|\*\*|->|[=<>()\[\],.+\-*/{}:'`@])""", re.VERBOSE | re.DOTALL)
_JUEL_REFUSED = {
    "?": "the conditional operator '? :' is not supported", "=": "assignment is not supported (compare with '==')",
    ";": "expression lists (';') are not supported", "->": "lambda expressions are not supported",
    "+=": "string concatenation ('+=') is not supported", "[": "list literals are not supported",
    "{": "set and map literals are not supported", "#": "'#' is not supported inside an expression",
    "instanceof": "'instanceof' is not supported",
}
_JUEL_WORDS = frozenset({"eq", "ne", "lt", "gt", "le", "ge", "and", "or", "not", "div", "mod", "empty",
                         "instanceof"})
_FEEL_REFUSED = {
    "for": "'for' loops are not supported", "some": "'some' quantifiers are not supported",
    "every": "'every' quantifiers are not supported", "function": "function definitions are not supported",
    "instance": "'instance of' tests are not supported", "between": "'between' tests are not supported",
    "satisfies": "'satisfies' is not supported", "return": "'return' is not supported",
    "**": "exponentiation ('**') is not supported", "..": "ranges ('..') are not supported",
    "->": "'->' is not supported", "@": "temporal literals ('@\"...\"') are not supported",
    "'": "single-quoted strings are not supported (FEEL strings use double quotes)",
    "`": "backtick names are not supported",
}
_FEEL_KEYWORDS = frozenset({"and", "or", "in", "if", "then", "else", "true", "false", "null", "not"})


class _Parser:
    """Shared machinery: tokens, lookahead, strings, and refusals that name the position."""

    language: str
    pattern: re.Pattern[str]
    escapes: dict[str, str]
    refused: dict[str, str]

    def __init__(self, text: str, start: int, end: int):
        self.text, self.tokens, self.index = text, [], 0
        pos = start
        while pos < end:
            match = self.pattern.match(text, pos, end)
            if match is None:
                raise self.refuse(f"unexpected character {text[pos]!r}", pos)
            if match.lastgroup != "space":
                self.tokens.append(Token(match.lastgroup or "op", match.group(), pos))
            pos = match.end()
        self.tokens.append(Token("end", "", end))

    def refuse(self, reason: str, pos: int | None = None) -> ExpressionRefused:
        return ExpressionRefused(reason, expression=self.text, position=self.peek().pos if pos is None else pos,
                                 language=self.language)

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def take(self) -> Token:
        self.index += 1
        return self.tokens[min(self.index - 1, len(self.tokens) - 1)]

    def at(self, text: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind in ("op", "name") and token.text == text

    def expect(self, text: str) -> Token:
        if not self.at(text):
            raise self.unexpected(self.peek(), f"expected {text!r} but found {self.peek().text or 'the end'!r}")
        return self.take()

    def unexpected(self, token: Token, fallback: str | None = None) -> ExpressionRefused:
        if token.kind in ("op", "name") and token.text in self.refused:
            return self.refuse(self.refused[token.text], token.pos)
        if token.kind == "end":
            return self.refuse(fallback or "unexpected end of expression", token.pos)
        return self.refuse(fallback or f"unexpected {token.text!r}", token.pos)

    def string(self, token: Token) -> str:
        body, out, i = token.text[1:-1], [], 0
        while i < len(body):
            char, i = body[i], i + 1
            if char != "\\":
                out.append(char)
            elif body[i:i + 1] == "u" and self.language == "FEEL" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 1:i + 5]):
                out.append(chr(int(body[i + 1:i + 5], 16)))
                i += 5
            elif body[i:i + 1] in self.escapes:
                out.append(self.escapes[body[i]])
                i += 1
            else:
                raise self.refuse(f"unknown escape sequence '\\{body[i:i + 1]}' in a string", token.pos + i)
        return "".join(out)

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise self.refuse("empty expression")
        node = self.expression()
        if self.peek().kind != "end":
            raise self.unexpected(self.peek())
        return node

    def expression(self) -> Node:
        raise NotImplementedError

    def chain(self, operators: dict[str, str], operand: Any) -> Node:
        """`operand (op operand)*`, left-associative; `operators` maps the written form to the canonical one."""
        node: Node = operand()
        while (token := self.peek()).kind in ("op", "name") and token.text in operators:
            self.take()
            node = Binary(operators[token.text], node, operand(), token.pos)
        return node

    def property_name(self, dot: Token, base: Node) -> Node:
        name = self.take()
        if name.kind != "name":
            raise self.refuse("expected a property name after '.'", name.pos)
        return Member(base, Literal(name.text, name.pos), dot.pos)

    def literal(self, token: Token) -> Node | None:
        if token.kind == "string":
            return Literal(self.string(token), token.pos)
        if token.kind == "name" and token.text in ("true", "false", "null"):
            return Literal({"true": True, "false": False}.get(token.text), token.pos)
        return None


class JuelParser(_Parser):
    """JUEL (EL 2.2) as Camunda 7 evaluates it, without functions, method calls and the `?:` operator."""

    language, pattern, refused = "JUEL", _JUEL_TOKEN, _JUEL_REFUSED
    escapes = {"\\": "\\", "'": "'", '"': '"'}

    def expression(self) -> Node:
        return self.chain({"||": "or", "or": "or"}, lambda: self.chain({"&&": "and", "and": "and"}, self.equality))

    def equality(self) -> Node:
        return self.chain({"==": "==", "!=": "!=", "eq": "==", "ne": "!="}, self.relational)

    def relational(self) -> Node:
        ops = {"<": "<", ">": ">", "<=": "<=", ">=": ">=", "lt": "<", "gt": ">", "le": "<=", "ge": ">="}
        return self.chain(ops, lambda: self.chain({"+": "+", "-": "-"}, self.multiplicative))

    def multiplicative(self) -> Node:
        return self.chain({"*": "*", "/": "/", "div": "/", "%": "%", "mod": "%"}, self.unary)

    def unary(self) -> Node:
        token, ops = self.peek(), {"-": "-", "!": "not", "not": "not", "empty": "empty"}
        if token.kind in ("op", "name") and token.text in ops:
            self.take()
            return Unary(ops[token.text], self.unary(), token.pos)
        node = self.primary()
        while self.at(".") or self.at("[") or self.at("("):
            token = self.take()
            if token.text == "(":
                raise self.refuse("method calls are not supported", token.pos)
            if token.text == ".":
                node = self.property_name(token, node)
            else:
                node = Member(node, self.expression(), token.pos)
                self.expect("]")
        return node

    def primary(self) -> Node:
        token = self.take()
        if (found := self.literal(token)) is not None:
            return found
        if token.kind == "number":
            if any(c in token.text for c in ".eE"):
                return Literal(float(token.text), token.pos)  # a Double: `/` treats it apart from BigDecimals
            if int(token.text) > 2**63 - 1:
                raise self.refuse("the number is too large for an integer (a Java long)", token.pos)
            return Literal(int(token.text), token.pos)
        if token.text == "(":
            node = self.expression()
            self.expect(")")
            return node
        if token.kind == "name" and token.text not in _JUEL_WORDS:
            if self.at("(") or self.at(":"):
                raise self.refuse(f"function calls ({token.text}(...)) are not supported", token.pos)
            return Name(token.text, token.pos)
        raise self.unexpected(token)


class FeelParser(_Parser):
    """The FEEL subset: literals, names and paths, arithmetic, comparisons, `in`, and/or, if-then-else,
    lists, contexts, and the functions not(), list contains() and is defined()."""

    language, pattern, refused = "FEEL", _FEEL_TOKEN, _FEEL_REFUSED
    escapes = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "'": "'"}
    comparisons = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}

    def expression(self) -> Node:
        token = self.peek()
        if not self.at("if"):
            return self.chain({"or": "or"}, lambda: self.chain({"and": "and"}, self.comparison))
        self.take()
        test = self.expression()
        self.expect("then")
        then = self.expression()
        self.expect("else")
        return IfThen(test, then, self.expression(), token.pos)

    def comparison(self) -> Node:
        left, token = self.additive(), self.peek()
        if token.kind == "op" and token.text in self.comparisons:
            self.take()
            node: Node = Binary(self.comparisons[token.text], left, self.additive(), token.pos)
        elif self.at("in"):
            self.take()
            node = Binary("in", left, self.in_target(), token.pos)
        else:
            if token.kind == "name" and token.text in self.refused:
                raise self.unexpected(token)
            return left
        follow = self.peek()
        if (follow.kind == "op" and follow.text in self.comparisons) or self.at("in"):
            raise self.refuse("chained comparisons are not supported; combine them with 'and'", follow.pos)
        return node

    def in_target(self) -> Node:
        token = self.peek()
        if token.kind == "op" and token.text in self.comparisons:
            raise self.refuse("unary tests ('in < 5') are not supported; compare directly", token.pos)
        if not self.at("("):
            return self.additive()
        self.take()  # `x in (a, b)`: a list of positive unary tests, membership as in `x in [a, b]`
        return ListOf(tuple(self.sequence(")")), token.pos)

    def sequence(self, closer: str) -> list[Node]:
        items: list[Node] = []
        while not self.at(closer):
            items.append(self.expression())
            if not self.at(closer):
                self.expect(",")
        self.take()
        return items

    def additive(self) -> Node:
        return self.chain({"+": "+", "-": "-"}, lambda: self.chain({"*": "*", "/": "/"}, self.unary))

    def unary(self) -> Node:
        token = self.peek()
        if self.at("-"):
            self.take()
            return Unary("-", self.unary(), token.pos)
        node = self.primary()
        while self.at(".") or self.at("[") or self.at("("):
            token = self.take()
            if token.text != ".":
                raise self.refuse("filters and indexes ('[...]') are not supported" if token.text == "["
                                  else "only the named functions can be called", token.pos)
            node = self.property_name(token, node)
        return node

    def primary(self) -> Node:
        token = self.take()
        if (found := self.literal(token)) is not None:
            return found
        if token.kind == "number":
            return Literal(Decimal(token.text), token.pos)
        if token.kind == "name":
            return self.named(token)
        if token.text == "(":
            node = self.expression()
            self.expect(")")
            return node
        if token.text == "[":
            return ListOf(tuple(self.sequence("]")), token.pos)
        if token.text == "{":
            entries: list[tuple[str, Node]] = []
            while not self.at("}"):
                key = self.take()
                if key.kind not in ("name", "string"):
                    raise self.refuse("expected a context key (a name or a string)", key.pos)
                self.expect(":")
                entries.append((self.string(key) if key.kind == "string" else key.text, self.expression()))
                if not self.at("}"):
                    self.expect(",")
            self.take()
            return ContextOf(tuple(entries), token.pos)
        raise self.unexpected(token)

    def named(self, token: Token) -> Node:
        if token.text in self.refused:
            raise self.unexpected(token)
        # Function names may have spaces (`list contains`): the words before a '(' name the function.
        extra = 0
        while self.peek(extra).kind == "name" and self.peek(extra).text not in _FEEL_KEYWORDS:
            extra += 1
        if self.at("(", extra):
            function = " ".join([token.text] + [self.peek(i).text for i in range(extra)])
            if function not in FEEL_FUNCTIONS:
                raise self.refuse(f"function {function!r} is not supported (supported: "
                                  f"{', '.join(FEEL_FUNCTIONS)})", token.pos)
            self.index += extra + 1
            args = self.sequence(")")
            if len(args) != (2 if function == "list contains" else 1):
                raise self.refuse(f"{function}() takes {2 if function == 'list contains' else 1} argument(s)",
                                  token.pos)
            return Call(function, tuple(args), token.pos)
        if token.text == "not":
            raise self.refuse("'not' is a function in FEEL: write not(x)", token.pos)
        if token.text in _FEEL_KEYWORDS:
            raise self.unexpected(token)
        return Name(token.text, token.pos)


def parse_juel(text: str, start: int, end: int) -> Node:
    """The tree of the JUEL expression `text[start:end]`; refusals report positions in the whole text."""
    return JuelParser(text, start, end).parse()


def parse_feel(text: str, start: int, end: int) -> Node:
    """The tree of the FEEL expression `text[start:end]`; refusals report positions in the whole text."""
    return FeelParser(text, start, end).parse()
