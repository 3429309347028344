"""Sanctions screening against the OFAC SDN list in its legacy CSV format: loading, the name score, the index.

Score of a screened name against one list name (primary or alias), 0..100. Both names are normalised
(normalize.py); "words" are their tokens except particles ("al", "bin", "de", ...); JW is Jaro-Winkler.

    pairs  = words aligned one to one, most similar pair first. Similarity: 1 for equal words, 0.9 for
             an initial and a word it starts ("A." ~ "Antonio"), else JW, raised by half its distance
             to 1 when the Metaphone keys are equal. A pair of real words (not initials) below 0.85 is
             a conflict: two different words, not two spellings of one.
    tokens = 100 * mean(pair similarity, pairs below 0.85 counting 0) - missing; missing is 4 for one
             word more on one side (a middle name left out) and 12 for each further one; 0 unless at
             least two pairs of real words reach 0.85 (one shared surname never makes a hit).
    full   = 100 * min(JW(a, b), JW(reversed a, reversed b)) on the names without spaces (so
             "Abumarzuq" = "Abu Marzuq"; reversing stops a shared first name alone from scoring high),
             raised by half its distance to 100 when the names agree phonetically and full >= 75;
             0 when a pair conflicts, unless full >= 95 (a space or a letter apart).
    score  = max(full, tokens)

The names agree phonetically (the flag each candidate carries) when every aligned pair of real words,
at least two, or the only word of each, has the same Metaphone key.

Speed: only list names sharing a similar word with the screened name are scored: the same word, the
same Metaphone key or one edit away (index of one-letter deletions). That is the one approximation: a
name whose every word is misspelt twice over and sounds different is not found. Of those names, the
full-name score runs in rapidfuzz (C++) over all of them, the Python token score only on names with
two similar words where an upper bound says it can reach the threshold.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import combinations
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler

from ...domain.ports import ScreeningCandidate, ScreeningResult
from .normalize import NormalizedName, prepare

DEFAULT_THRESHOLD = 88.0
ONE_MISSING_WORD = 4.0
FURTHER_MISSING_WORD = 12.0
INITIAL_SIMILARITY = 0.9
STRONG_PAIR = 0.85
PHONETIC_FLOOR = 75.0
NEAR_IDENTICAL = 95.0
# Name particles: too common to identify anybody, so they neither count as a match nor select candidates.
PARTICLES = frozenset({"al", "el", "bin", "ibn", "bint", "abu", "abd", "de", "da", "del", "di", "la", "le",
                       "van", "von", "der", "of", "and", "y", "for"})

SDN_COLUMNS = ("ent_num", "SDN_Name", "SDN_Type", "Program", "Title", "Call_Sign", "Vess_type", "Tonnage",
               "GRT", "Vess_flag", "Vess_owner", "Remarks")
ALT_COLUMNS = ("ent_num", "alt_num", "alt_type", "alt_name", "alt_remarks")
NULL = "-0-"
_LIST_DATE_LINE = re.compile(r"^\s*list date:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


class SanctionsListError(ValueError):
    """The list files are missing or malformed; the message names the file and line."""


# --- the list ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SdnEntry:
    ent_num: str
    name: str
    type: str  # individual | entity | vessel | aircraft
    programs: tuple[str, ...]
    remarks: str


@dataclass(frozen=True)
class SdnAlias:
    ent_num: str
    alt_num: str
    alt_type: str  # aka | fka | nka
    name: str


@dataclass(frozen=True)
class SdnList:
    """The entries and aliases of one publication of the list, and its date."""

    entries: dict[str, SdnEntry]
    aliases: tuple[SdnAlias, ...]
    list_date: str
    skipped_aliases: int = 0  # aliases of entries missing from sdn.csv (an inconsistent snapshot)

    @classmethod
    def load(cls, directory: Path | str) -> SdnList:
        """Read sdn.csv and alt.csv from a folder; raise SanctionsListError naming the file and line."""
        folder = Path(directory)
        entries: dict[str, SdnEntry] = {}
        for path, line, row in _rows(folder / "sdn.csv", len(SDN_COLUMNS)):
            entry = _entry(path, line, row)
            if entry.ent_num in entries:
                raise SanctionsListError(f"{path}, line {line}: ent_num {entry.ent_num} appears twice")
            entries[entry.ent_num] = entry
        aliases: list[SdnAlias] = []
        skipped = 0
        for path, line, row in _rows(folder / "alt.csv", len(ALT_COLUMNS)):
            alias = _alias(path, line, row)
            if alias.ent_num in entries:
                aliases.append(alias)
            else:
                skipped += 1
        return cls(entries, tuple(aliases), list_date(folder), skipped)


def list_date(folder: Path) -> str:
    """The list's publication date (ISO).

    An explicit date wins because file times change on every copy or checkout: the first line of
    `list_date.txt`, else a `List date: YYYY-MM-DD` line in README.md. Without either, the newest
    modification time of sdn.csv and alt.csv (UTC), which is right for files just downloaded from OFAC.
    """
    explicit = folder / "list_date.txt"
    if explicit.is_file():
        return _iso_date(explicit, explicit.read_text(encoding="utf-8").strip().split("\n")[0].strip())
    readme = folder / "README.md"
    if readme.is_file() and (found := _LIST_DATE_LINE.search(readme.read_text(encoding="utf-8"))):
        return _iso_date(readme, found.group(1))
    newest = max((folder / name).stat().st_mtime for name in ("sdn.csv", "alt.csv"))
    return datetime.fromtimestamp(newest, UTC).date().isoformat()


def _iso_date(path: Path, text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise SanctionsListError(f"{path}: list date {text!r} is not a date like 2024-01-08") from None


def _rows(path: Path, columns: int) -> Iterator[tuple[Path, int, list[str]]]:
    """Rows of one file with their line numbers; values stripped, `-0-` turned into ''."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SanctionsListError(f"{path}: file not found (the sanctions list folder needs it)") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Not UTF-8 (a file re-saved by a spreadsheet tool): Latin-1 maps every byte, so it still loads.
        text = raw.decode("latin-1")
    reader = csv.reader(io.StringIO(text, newline=""))
    for row in reader:
        # OFAC's files end with a DOS end-of-file character (0x1A) on a line of its own.
        if not row or row == ["\x1a"] or all(not v.strip() for v in row):
            continue
        if len(row) != columns:
            raise SanctionsListError(f"{path}, line {reader.line_num}: expected {columns} columns, "
                                     f"found {len(row)}")
        yield path, reader.line_num, ["" if v.strip() == NULL else v.strip() for v in row]


def _entry(path: Path, line: int, row: list[str]) -> SdnEntry:
    ent_num, name, kind, program = row[0], row[1], row[2], row[3]
    if not ent_num.isdigit():
        raise SanctionsListError(f"{path}, line {line}: ent_num {ent_num!r} is not a number")
    if not name:
        raise SanctionsListError(f"{path}, line {line}: SDN_Name is empty")
    programs = tuple(p.strip() for p in program.strip("[] ").split("] [") if p.strip())
    # The legacy format leaves SDN_Type null for companies and organisations.
    return SdnEntry(ent_num, name, kind.lower() or "entity", programs, row[11])


def _alias(path: Path, line: int, row: list[str]) -> SdnAlias:
    ent_num, alt_num, alt_type, name = row[0], row[1], row[2], row[3]
    if not ent_num.isdigit():
        raise SanctionsListError(f"{path}, line {line}: ent_num {ent_num!r} is not a number")
    if not name:
        raise SanctionsListError(f"{path}, line {line}: alt_name is empty")
    return SdnAlias(ent_num, alt_num, alt_type.lower(), name)


# --- the score --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NameScore:
    score: float
    phonetic_match: bool


Pair = tuple[int, int, float]  # query word index, target word index, similarity


def score_name(query: NormalizedName, target: NormalizedName) -> NameScore:
    """Score one screened name against one list name (formula in the module docstring)."""
    if not query.tokens or not target.tokens:
        return NameScore(0.0, False)
    q_words, q_keys = _core(query)
    t_words, t_keys = _core(target)
    pairs = _aligned_pairs(q_words, q_keys, t_words, t_keys)
    phonetic = _phonetic_agreement(q_words, q_keys, t_words, t_keys, pairs)
    full = 100.0 * _full_similarity(compact(query.text), compact(target.text))
    if phonetic and full >= PHONETIC_FLOOR:
        full += (100.0 - full) / 2
    if full < NEAR_IDENTICAL and _has_conflict(q_words, t_words, pairs):
        full = 0.0
    tokens = _token_score(q_words, t_words, pairs)
    # Rounded so that float noise never decides a threshold comparison or an order.
    return NameScore(round(max(full, tokens), 6), phonetic)


def compact(text: str) -> str:
    """The text without spaces: "abu marzuq" and "abumarzuq" are one spelling."""
    return text.replace(" ", "")


def _core(name: NormalizedName) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Tokens and keys without particles."""
    kept = [(t, k) for t, k in zip(name.tokens, name.keys, strict=True) if t not in PARTICLES]
    return tuple(t for t, _ in kept), tuple(k for _, k in kept)


def _full_similarity(a: str, b: str) -> float:
    # Jaro-Winkler rewards a shared beginning: "Andrew Fuller" / "Andrew Karume" reach 0.89 on the first
    # name alone. The lower of the forward and the backward score asks for a similar start and end.
    forward = JaroWinkler.normalized_similarity(a, b)
    return min(forward, JaroWinkler.normalized_similarity(a[::-1], b[::-1]))


def _pair_similarity(a: str, a_key: str, b: str, b_key: str) -> float:
    if a == b:
        return 1.0
    if len(a) == 1 or len(b) == 1:
        initial, word = (a, b) if len(a) == 1 else (b, a)
        return INITIAL_SIMILARITY if len(word) > 1 and word.startswith(initial) else 0.0
    similarity = JaroWinkler.normalized_similarity(a, b)
    return similarity + (1.0 - similarity) / 2 if a_key == b_key else similarity


def _aligned_pairs(q_words: Sequence[str], q_keys: Sequence[str],
                   t_words: Sequence[str], t_keys: Sequence[str]) -> list[Pair]:
    """Greedy one-to-one alignment, most similar pair first (ties: earlier words first)."""
    scored = sorted((-_pair_similarity(q, q_keys[qi], t, t_keys[ti]), qi, ti)
                    for qi, q in enumerate(q_words) for ti, t in enumerate(t_words))
    used_q: set[int] = set()
    used_t: set[int] = set()
    pairs: list[Pair] = []
    for negative, qi, ti in scored:
        if qi not in used_q and ti not in used_t:
            pairs.append((qi, ti, -negative))
            used_q.add(qi)
            used_t.add(ti)
    return pairs


def _token_score(q_words: Sequence[str], t_words: Sequence[str], pairs: list[Pair]) -> float:
    if len(q_words) < 2 or len(t_words) < 2:
        return 0.0
    strong = [(qi, ti, sim) for qi, ti, sim in pairs if sim >= STRONG_PAIR]
    if sum(1 for qi, ti, _ in strong if _real_words(q_words[qi], t_words[ti])) < 2:
        return 0.0
    mean = sum(sim for _, _, sim in strong) / len(pairs)  # weaker pairs count 0
    return 100.0 * mean - missing_words_penalty(abs(len(q_words) - len(t_words)))


def _has_conflict(q_words: Sequence[str], t_words: Sequence[str], pairs: list[Pair]) -> bool:
    return any(sim < STRONG_PAIR and _real_words(q_words[qi], t_words[ti]) for qi, ti, sim in pairs)


def _real_words(a: str, b: str) -> bool:
    return len(a) > 1 and len(b) > 1


def missing_words_penalty(missing: int) -> float:
    """One word left out is a middle name; two or more are more often a different person."""
    return 0.0 if missing == 0 else ONE_MISSING_WORD + FURTHER_MISSING_WORD * (missing - 1)


def _phonetic_agreement(q_words: Sequence[str], q_keys: Sequence[str], t_words: Sequence[str],
                        t_keys: Sequence[str], pairs: list[Pair]) -> bool:
    if len(q_words) == 1 and len(t_words) == 1:
        return q_keys[0] == t_keys[0]
    words = [(qi, ti) for qi, ti, _ in pairs if _real_words(q_words[qi], t_words[ti])]
    return len(words) >= 2 and all(q_keys[qi] == t_keys[ti] for qi, ti in words)


# --- the index and the screener ---------------------------------------------------------------------

@dataclass(frozen=True)
class _ListName:
    name: NormalizedName
    entry: SdnEntry
    is_alias: bool


class NameIndex:
    """Precomputed normalised list names and a word index that picks the few worth scoring."""

    def __init__(self, names: Sequence[_ListName]):
        self.names = list(names)
        self._texts = [compact(n.name.text) for n in self.names]
        self._reversed = [text[::-1] for text in self._texts]
        self._shapes: list[tuple[int, int]] = []  # per name: (words and initials, words)
        self._names_with_word: defaultdict[str, set[int]] = defaultdict(set)
        self._names_with_key: defaultdict[str, set[int]] = defaultdict(set)  # Metaphone key -> names
        self._words_by_deletion: defaultdict[str, set[str]] = defaultdict(set)  # word minus a letter -> words
        self._names_of_size: defaultdict[int, set[int]] = defaultdict(set)  # words and initials -> names
        for name_id, listed in enumerate(self.names):
            words = _words_and_keys(listed.name)
            self._shapes.append((len(_core(listed.name)[0]), len(words)))
            self._names_of_size[self._shapes[-1][0]].add(name_id)
            for word, key in words.items():
                self._names_with_word[word].add(name_id)
                self._names_with_key[key].add(name_id)
        for word in self._names_with_word:
            for variant in _deletions(word):
                self._words_by_deletion[variant].add(word)

    def candidates(self, query: NormalizedName, threshold: float, full_cutoff: float) -> list[int]:
        """Ids of names that share a similar word with the query and may reach the threshold."""
        words = _words_and_keys(query)
        similar = [self._names_similar_to(word, key) for word, key in words.items()]
        ids = list(set().union(*similar))
        text = compact(query.text)
        # Forward in one rapidfuzz call over all of them; backward only for the few that pass.
        forward = [ids[position] for position in _above(text, [self._texts[i] for i in ids], full_cutoff)]
        picked = {i for i in forward if 100.0 * JaroWinkler.normalized_similarity(
            text[::-1], self._reversed[i]) >= full_cutoff}
        # The token score needs two similar words, and a name with too many words more or fewer than the
        # query cannot reach the threshold: both are set operations, before any Python loop.
        shape = (len(_core(query)[0]), len(words))
        two_similar = set().union(*(a & b for a, b in combinations(similar, 2)))
        reach = _most_missing_words(threshold)
        sized = [two_similar & self._names_of_size.get(size, set())
                 for size in range(shape[0] - reach, shape[0] + reach + 1)]
        for name_id in set().union(*sized):
            shared = sum(1 for names in similar if name_id in names)
            if _token_bound(shape, self._shapes[name_id], shared) >= threshold:
                picked.add(name_id)
        return sorted(picked)

    def _names_similar_to(self, word: str, key: str) -> set[int]:
        """Names holding the word, a word with the same Metaphone key, or a word one edit away."""
        groups = [self._names_with_key.get(key, set()), self._names_with_word.get(word, set())]
        groups += [self._names_with_word[similar] for variant in _deletions(word)
                   for similar in self._words_by_deletion.get(variant, ())]
        return set().union(*groups)


def _above(text: str, choices: list[str], cutoff: float) -> set[int]:
    """Positions of the choices whose Jaro-Winkler similarity to text reaches cutoff (0..100)."""
    return {position for _, _, position in process.extract(
        text, choices, scorer=JaroWinkler.normalized_similarity, score_cutoff=cutoff / 100.0, limit=None)}


def _words_and_keys(name: NormalizedName) -> dict[str, str]:
    return {t: k for t, k in zip(name.tokens, name.keys, strict=True) if len(t) > 1 and t not in PARTICLES}


def _token_bound(query: tuple[int, int], target: tuple[int, int], shared: int) -> float:
    """The highest token score possible if every similar word and every initial pairs at similarity 1."""
    (q_tokens, q_words), (t_tokens, t_words) = query, target
    if q_tokens < 2 or t_tokens < 2 or shared < 2:
        return 0.0
    pairs = min(q_tokens, t_tokens)
    # Initials pair with the words they start, so they count as possible matches.
    best = min(pairs, shared + (q_tokens - q_words) + (t_tokens - t_words))
    return 100.0 * best / pairs - missing_words_penalty(abs(q_tokens - t_tokens))


def _most_missing_words(threshold: float) -> int:
    """How many words one name may lack and still reach the threshold with every other word equal."""
    missing = 0
    while 100.0 - missing_words_penalty(missing + 1) >= threshold:
        missing += 1
    return missing


def _deletions(word: str) -> set[str]:
    """The word and the word minus one letter: two words share one iff they are at most one edit apart
    (a swap of neighbouring letters included). Short words have too many such neighbours to be useful."""
    if len(word) < 4:
        return {word}
    return {word} | {word[:i] + word[i + 1:] for i in range(len(word))}


class SdnScreener:
    """Screens names against an SdnList; implements the SanctionsScreener port."""

    def __init__(self, sdn: SdnList, threshold: float = DEFAULT_THRESHOLD):
        if not 0.0 < threshold <= 100.0:
            raise ValueError(f"sanctions threshold must be in (0, 100], got {threshold}")
        self.sdn = sdn
        self.threshold = threshold
        listed = [_ListName(prepare(e.name), e, False) for e in sdn.entries.values()]
        listed += [_ListName(prepare(a.name), sdn.entries[a.ent_num], True) for a in sdn.aliases]
        self.index = NameIndex(listed)
        # The lowest full-name score that the phonetic raise could still lift to the threshold.
        self._full_cutoff = min(threshold, max(2 * threshold - 100.0, PHONETIC_FLOOR))

    @classmethod
    def from_directory(cls, directory: Path | str, threshold: float = DEFAULT_THRESHOLD) -> SdnScreener:
        """Load the list files from a folder and index them."""
        return cls(SdnList.load(directory), threshold)

    def screen(self, names: list[tuple[str, str]]) -> ScreeningResult:
        """Screen (name, role) pairs; candidates at or above the threshold, best first."""
        found: list[tuple[int, ScreeningCandidate]] = []
        for position, (name, role) in enumerate(names):
            found += [(position, c) for c in self.screen_name(name, role)]
        found.sort(key=lambda pc: (-pc[1].score, pc[0], int(pc[1].entry_id)))
        return ScreeningResult(list_date=self.sdn.list_date, entries=len(self.sdn.entries),
                               threshold=self.threshold, candidates=tuple(c for _, c in found))

    def screen_name(self, name: str, role: str) -> list[ScreeningCandidate]:
        """One candidate per list entry (its best-scoring name) at or above the threshold."""
        query = prepare(name)
        if not query.tokens:
            return []
        best: dict[str, tuple[NameScore, _ListName]] = {}
        for name_id in self.index.candidates(query, self.threshold, self._full_cutoff):
            listed = self.index.names[name_id]
            result = score_name(query, listed.name)
            current = best.get(listed.entry.ent_num)
            if result.score >= self.threshold and (current is None or _rank(result, listed) > _rank(*current)):
                best[listed.entry.ent_num] = (result, listed)
        return [_candidate(name, role, result, listed) for result, listed in best.values()]


def _rank(result: NameScore, listed: _ListName) -> tuple[float, bool]:
    # On equal scores the primary name wins over an alias: it is what a reviewer looks up.
    return result.score, not listed.is_alias


def _candidate(screened: str, role: str, result: NameScore, listed: _ListName) -> ScreeningCandidate:
    return ScreeningCandidate(
        screened_name=screened, role=role, list_name=listed.name.original, entry_id=listed.entry.ent_num,
        entry_type=listed.entry.type, programs=", ".join(listed.entry.programs), score=result.score,
        phonetic_match=result.phonetic_match, matched_alias=listed.is_alias)
