"""Loading the OFAC SDN list and screening names against it (the shipped copy in data/sanctions)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from kyc_fakes import SANCTIONS_DIR

from bpmn_requests.service_tasks.kyc.normalize import prepare
from bpmn_requests.service_tasks.kyc.sanctions import SanctionsListError, SdnList, SdnScreener, score_name

NORIEGA = "1572"
DEMO_NAMES = [
    "Northwind Traders Inc.", "Nancy Davolio", "Andrew Fuller", "Contoso Ltd", "Olivia Bennett",
    "Harriet Lowe", "Fabrikam Inc.", "Kevin Brandt", "Adventure Works Cycles LLC", "Sofia Lindqvist",
    "Tailspin Toys Corp", "Peter Hollis", "Litware Inc.", "Amelia Stratton", "Wide World Importers Ltd",
    "Thomas Whitcombe", "Isthmus Maritime Trading S.A.", "Ricardo Vidal Herrera", "Hannah Meyer",
]
SDN_ROW = '{n},"{name}","individual","CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n'


@pytest.fixture(scope="module")
def sdn() -> SdnList:
    return SdnList.load(SANCTIONS_DIR)


@pytest.fixture(scope="module")
def screener(sdn: SdnList) -> SdnScreener:
    return SdnScreener(sdn)


def entry_ids(screener: SdnScreener, name: str) -> list[str]:
    return [c.entry_id for c in screener.screen([(name, "customer")]).candidates]


def test_shipped_list_loads_entries_aliases_and_its_date(sdn: SdnList) -> None:
    assert len(sdn.entries) == 7379
    assert len(sdn.aliases) == 9393
    assert sdn.list_date == "2024-01-08"  # from the README's "List date:" line, not the file times
    noriega = sdn.entries[NORIEGA]
    assert (noriega.name, noriega.type, noriega.programs) == ("NORIEGA, Manuel Antonio", "individual", ("CUBA",))


def test_entities_get_type_entity_and_every_program(sdn: SdnList) -> None:
    assert sdn.entries["306"].type == "entity"  # SDN_Type is null for companies in the legacy format
    assert all(p and "[" not in p and "]" not in p for e in sdn.entries.values() for p in e.programs)
    assert any(len(e.programs) > 1 for e in sdn.entries.values())


@pytest.mark.parametrize("name", ["Manuel A. Noriega", "Noriega Manuel Antonio", "NORIEGA MANUEL"])
def test_noriega_is_found_with_an_initial_another_order_or_no_middle_name(
        screener: SdnScreener, name: str) -> None:
    result = screener.screen([(name, "customer")])
    best = result.candidates[0]
    assert (best.entry_id, best.list_name, best.entry_type, best.programs) == (
        NORIEGA, "NORIEGA, Manuel Antonio", "individual", "CUBA")
    assert best.score >= 88.0
    assert best.phonetic_match and not best.matched_alias
    assert (best.screened_name, best.role) == (name, "customer")


def test_a_name_found_only_under_an_alias_reports_the_alias(screener: SdnScreener) -> None:
    best = screener.screen([("National Bank of Cuba", "customer")]).candidates[0]
    assert (best.entry_id, best.list_name, best.matched_alias) == ("306", "NATIONAL BANK OF CUBA", True)


def test_a_phonetic_spelling_variant_is_found(screener: SdnScreener) -> None:
    best = screener.screen([("Saddam Husein", "director")]).candidates[0]
    assert best.entry_id == "7843"
    assert best.phonetic_match


def test_spacing_variants_match(screener: SdnScreener) -> None:
    assert "3754" in entry_ids(screener, "Musa Abumarzuq")


@pytest.mark.parametrize("name", DEMO_NAMES)
def test_ordinary_demo_customer_names_screen_clear(screener: SdnScreener, name: str) -> None:
    assert screener.screen([(name, "customer")]).candidates == ()


@pytest.mark.parametrize("name", ["Noriega", "Manuel Smith", "Andrew Fuller"])
def test_one_shared_word_never_makes_a_hit(screener: SdnScreener, name: str) -> None:
    assert NORIEGA not in entry_ids(screener, name)
    assert "23645" not in entry_ids(screener, name)  # KARUME, Andrew: a shared first name is not enough


def test_result_carries_list_date_size_threshold_and_sorts_best_first(screener: SdnScreener) -> None:
    result = screener.screen([("Manuel A. Noriega", "director"), ("Hussein Saddam", "owner")])
    assert (result.list_date, result.entries, result.threshold) == ("2024-01-08", 7379, 88.0)
    scores = [c.score for c in result.candidates]
    assert scores == sorted(scores, reverse=True)
    assert {(c.screened_name, c.role) for c in result.candidates} == {
        ("Manuel A. Noriega", "director"), ("Hussein Saddam", "owner")}


def test_threshold_given_at_construction_filters_candidates(sdn: SdnList) -> None:
    strict = SdnScreener(sdn, threshold=99.0)
    assert strict.screen([("Manuel A. Noriega", "customer")]).candidates == ()
    assert [c.entry_id for c in strict.screen([("Manuel Antonio Noriega", "customer")]).candidates] == [NORIEGA]


def test_a_missing_middle_name_costs_four_points_and_an_initial_a_little_more() -> None:
    listed = prepare("NORIEGA, Manuel Antonio")
    assert score_name(prepare("Noriega Manuel Antonio"), listed).score == 100.0
    assert score_name(prepare("Manuel Noriega"), listed).score == 96.0
    assert 96.0 < score_name(prepare("Manuel A. Noriega"), listed).score < 97.0


# --- files --------------------------------------------------------------------------------------------

def write_list(folder: Path, sdn: str, alt: str = "") -> Path:
    (folder / "sdn.csv").write_text(sdn, encoding="utf-8")
    (folder / "alt.csv").write_text(alt, encoding="utf-8")
    return folder


def test_a_malformed_row_names_the_file_and_line(tmp_path: Path) -> None:
    rows = SDN_ROW.format(n=1, name="DOE, John") + '2,"ROE, Richard","individual"\n'
    write_list(tmp_path, rows)
    with pytest.raises(SanctionsListError, match=r"sdn\.csv, line 2: expected 12 columns, found 3"):
        SdnList.load(tmp_path)


def test_a_non_numeric_ent_num_in_the_aliases_names_the_file_and_line(tmp_path: Path) -> None:
    write_list(tmp_path, SDN_ROW.format(n=1, name="DOE, John"),
               '1,10,"aka","DOE, Johnny",-0- \r\nX1,11,"aka","DOE, J.",-0- \r\n')
    with pytest.raises(SanctionsListError, match=r"alt\.csv, line 2: ent_num 'X1' is not a number"):
        SdnList.load(tmp_path)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "sdn.csv").write_text(SDN_ROW.format(n=1, name="DOE, John"), encoding="utf-8")
    with pytest.raises(SanctionsListError, match=r"alt\.csv: file not found"):
        SdnList.load(tmp_path)


def test_end_of_file_marker_is_ignored_and_orphan_aliases_are_counted(tmp_path: Path) -> None:
    write_list(tmp_path, SDN_ROW.format(n=1, name="DOE, John"),
               '1,10,"aka","DOE, Johnny",-0- \r\n99,11,"aka","NOBODY",-0- \r\n\x1a')
    loaded = SdnList.load(tmp_path)
    assert [a.name for a in loaded.aliases] == ["DOE, Johnny"]
    assert loaded.skipped_aliases == 1


def test_list_date_prefers_list_date_txt_then_readme_then_file_times(tmp_path: Path) -> None:
    write_list(tmp_path, SDN_ROW.format(n=1, name="DOE, John"))
    stamp = 1_700_000_000  # 2023-11-14 UTC
    for name in ("sdn.csv", "alt.csv"):
        os.utime(tmp_path / name, (stamp, stamp))
    assert SdnList.load(tmp_path).list_date == "2023-11-14"
    (tmp_path / "README.md").write_text("# SDN\n\nList date: 2024-01-08\n", encoding="utf-8")
    assert SdnList.load(tmp_path).list_date == "2024-01-08"
    (tmp_path / "list_date.txt").write_text("2025-03-14\n", encoding="utf-8")
    assert SdnList.load(tmp_path).list_date == "2025-03-14"


def test_a_list_date_that_is_not_a_date_is_refused(tmp_path: Path) -> None:
    write_list(tmp_path, SDN_ROW.format(n=1, name="DOE, John"))
    (tmp_path / "list_date.txt").write_text("last Tuesday\n", encoding="utf-8")
    with pytest.raises(SanctionsListError, match=r"list_date\.txt: list date 'last Tuesday'"):
        SdnList.load(tmp_path)
