"""Name normalisation for screening: one canonical, ASCII, order-aware form of a person or company name.

Both sides of every comparison (the list and the customer data) go through `prepare`, so the matcher
never sees case, accents, punctuation, legal forms or the list's "SURNAME, Given" order.

Phonetic key: Metaphone (jellyfish.metaphone) per token. The SDN list is mostly transliterated Arabic,
Cyrillic, Persian and Spanish names whose vowels vary freely between sources (Muhammad / Mohamed,
Hussein / Husayn, Catherine / Kathryn). Metaphone keeps only the first vowel and folds C/K, PH/F, TH,
so these variants share a key; NYSIIS keeps vowel positions and the first letter as written, so it
splits exactly those pairs (HASAN / HASAYN, CATARAN / CATRYN).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import jellyfish

# Letters NFKD does not decompose into a base letter plus accents. (ß is handled by casefold: "ss".)
_TRANSLITERATE = str.maketrans({
    "ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i", "ħ": "h",
    "ŧ": "t", "ĸ": "k", "ŋ": "ng", "ſ": "s",
})
# Apostrophes join their neighbours (O'Brien -> obrien, Abd'allah -> abdallah).
_APOSTROPHES = re.compile(r"['\u2018\u2019\u02bc\u02bb`\u00b4]")
# Dotted abbreviations become one token (S.A. -> sa, C.V. -> cv, J.P. -> jp); a lone "A." stays an initial.
_DOTTED = re.compile(r"\b[a-z](?:\.[a-z])+\b\.?")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")

# Legal forms, dropped from the ends of a name (never from the middle: "Banco de Credito" keeps "de").
LEGAL_SUFFIXES: frozenset[tuple[str, ...]] = frozenset(tuple(form.split()) for form in (
    "inc", "incorporated", "ltd", "limited", "llc", "llp", "lp", "plc", "corp", "corporation", "co",
    "company", "sa", "sa de cv", "de cv", "s de rl", "s de rl de cv", "sas", "sau", "sl", "sarl", "sa rl",
    "gmbh", "kg", "ag", "se", "bv", "nv", "srl", "spa", "sp z oo", "oy", "oyj", "ab", "as", "asa", "aps",
    "pte", "pty", "ltda", "bhd", "sdn bhd", "kk", "fze", "fzco", "fzc", "fz llc", "jsc", "ojsc", "cjsc",
    "pjsc", "limited liability company", "public limited company", "joint stock company",
))
LEGAL_PREFIXES: frozenset[tuple[str, ...]] = frozenset(tuple(form.split()) for form in (
    "ooo", "oao", "zao", "pao", "ao", "tov", "pt", "jsc", "ojsc", "cjsc", "pjsc",
    "limited liability company", "joint stock company", "open joint stock company",
    "closed joint stock company", "public joint stock company",
))
# Words that carry no identity wherever they appear: articles, honorifics, generational suffixes.
NOISE_WORDS = frozenset({"the", "dr", "mr", "mrs", "ms", "prof", "jr", "sr"})
_LEGAL_FORMS = LEGAL_SUFFIXES | LEGAL_PREFIXES
_LONGEST_FORM = max(len(form) for form in _LEGAL_FORMS)


@dataclass(frozen=True)
class NormalizedName:
    """A name ready for matching: `text` is the tokens joined by single spaces."""

    original: str
    tokens: tuple[str, ...]
    keys: tuple[str, ...]  # one phonetic key per token

    @property
    def text(self) -> str:
        return " ".join(self.tokens)


def prepare(name: str) -> NormalizedName:
    """Normalise a name and compute its phonetic keys."""
    words = tokens(name)
    return NormalizedName(original=name, tokens=words, keys=tuple(phonetic_key(w) for w in words))


def normalize(name: str) -> str:
    """The canonical text of a name: 'NORIEGA, Manuel A.' -> 'manuel a noriega'."""
    return " ".join(tokens(name))


def tokens(name: str) -> tuple[str, ...]:
    """The canonical tokens of a name, given names first."""
    text = to_ascii(name)
    if "." in text:
        text = _DOTTED.sub(lambda m: m.group(0).replace(".", ""), text)
    surname, comma, given = text.partition(",")
    words = _words(surname)
    if comma:
        rest = _words(given)
        # "SURNAME, Given" -> given surname; but "TROVER, S.A." or "ANGLO CO., LTD." are one company name.
        if rest and words and not (_ends_with_legal_form(words) or _is_legal_edge(rest)):
            words = rest + words
        else:
            words += rest
    return _strip_legal_forms([w for w in words if w not in NOISE_WORDS])


def to_ascii(text: str) -> str:
    """Casefold and transliterate to ASCII, keeping punctuation for the later steps."""
    text = _APOSTROPHES.sub("", text.casefold().translate(_TRANSLITERATE))
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # Whatever is still not ASCII (Cyrillic, Arabic script) has no safe spelling here: it is dropped,
    # and a caller that gets no tokens back must treat the name as unscreenable.
    return stripped.encode("ascii", "ignore").decode("ascii")


def phonetic_key(token: str) -> str:
    """Metaphone of a token; digits and tokens without a key stand for themselves."""
    if not token.isalpha():
        return token
    return jellyfish.metaphone(token) or token


def _words(text: str) -> list[str]:
    return _NOT_ALNUM.sub(" ", text).split()


def _ends_with_legal_form(words: list[str]) -> bool:
    return any(tuple(words[-n:]) in LEGAL_SUFFIXES for n in range(1, min(_LONGEST_FORM, len(words)) + 1))


def _is_legal_edge(words: list[str]) -> bool:
    """True when the words start or end with a legal form (only the edges: "as" inside a name is a name)."""
    return _ends_with_legal_form(words) or any(
        tuple(words[:n]) in _LEGAL_FORMS for n in range(1, min(_LONGEST_FORM, len(words)) + 1))


def _strip_legal_forms(words: list[str]) -> tuple[str, ...]:
    """Drop legal forms at either end, longest first, always keeping at least one word."""
    changed = True
    while changed and len(words) > 1:
        changed = False
        for n in range(min(_LONGEST_FORM, len(words) - 1), 0, -1):
            if tuple(words[-n:]) in LEGAL_SUFFIXES:
                words, changed = words[:-n], True
                break
            if tuple(words[:n]) in LEGAL_PREFIXES:
                words, changed = words[n:], True
                break
    return tuple(words)
