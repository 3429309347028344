"""Politically exposed persons (PEP) screening against a small in-memory list.

The list is SYNTHETIC: every person on SYNTHETIC_PEPS is invented for the demo and none is a real person.
A production deployment would pass entries from a licensed PEP data provider instead. Names are compared
with the same normaliser and score as the sanctions list (sanctions.score_name).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ...domain.ports import PepMatch
from .normalize import NormalizedName, prepare
from .sanctions import score_name

DEFAULT_PEP_THRESHOLD = 90.0


@dataclass(frozen=True)
class PepEntry:
    name: str
    position: str
    country: str  # ISO 3166-1 alpha-2


# Invented people (synthetic demo data). Any likeness to a real person is unintended.
SYNTHETIC_PEPS: tuple[PepEntry, ...] = (
    PepEntry("Marisol Quintanar Obregón", "Senator", "MX"),
    PepEntry("Teodor Vasilescu-Brandl", "Deputy Governor of the Central Bank", "RO"),
    PepEntry("Ingrid Halvorsen Dahl", "Member of Parliament", "NO"),
    PepEntry("Oluwaseun Adebanjo-Crane", "State Governor", "NG"),
    PepEntry("Rafael Ortuño Villaseca", "Ambassador", "CL"),
    PepEntry("Katarzyna Wielgosz-Tarnowska", "Deputy Minister of Infrastructure", "PL"),
    PepEntry("Dmitri Salnikov-Rovner", "Chief Executive of a state-owned enterprise", "KZ"),
    PepEntry("Amara Nwachukwu-Bell", "Supreme Court Judge", "GH"),
    PepEntry("Henrik Østervald", "Mayor of the capital", "DK"),
    PepEntry("Leilani Kahananui Ortiz", "Cabinet Secretary", "PH"),
    PepEntry("Farid Haddadin Qasrawi", "Minister of Energy", "JO"),
    PepEntry("Beatriz Souto Carvalhal", "Director of the state oil company", "BR"),
    PepEntry("Jean-Baptiste Moreau-Lanvin", "Member of the European Parliament", "FR"),
    PepEntry("Yuki Tanabe-Horikawa", "Vice-Minister of Finance", "JP"),
    PepEntry("Elena Mirković Stanić", "Minister of Justice", "RS"),
    PepEntry("Colm Ó Briain-Hegarty", "Senator", "IE"),
)


class SyntheticPepList:
    """A PEP list held in memory, the synthetic demo list unless given entries; implements the PepList port."""

    def __init__(self, entries: Iterable[PepEntry] = SYNTHETIC_PEPS, threshold: float = DEFAULT_PEP_THRESHOLD):
        self.threshold = threshold
        self._entries: list[tuple[PepEntry, NormalizedName]] = [(e, prepare(e.name)) for e in entries]

    def __len__(self) -> int:
        return len(self._entries)

    def screen(self, names: list[tuple[str, str]]) -> list[PepMatch]:
        """Matches at or above the threshold, best first (then in the order the names were given)."""
        found: list[tuple[int, PepMatch]] = []
        for position, (name, _role) in enumerate(names):
            query = prepare(name)
            for entry, listed in self._entries:
                score = score_name(query, listed).score
                if score >= self.threshold:
                    found.append((position, PepMatch(screened_name=name, pep_name=entry.name,
                                                     position=entry.position, country=entry.country,
                                                     score=score)))
        found.sort(key=lambda pm: (-pm[1].score, pm[0], pm[1].pep_name))
        return [match for _, match in found]
