"""Name normalisation for screening."""

from __future__ import annotations

import pytest

from bpmn_requests.service_tasks.kyc.normalize import normalize, phonetic_key, prepare, tokens


@pytest.mark.parametrize(("raw", "expected"), [
    ("José Müller", "jose muller"),
    ("Søren Łukasiewicz", "soren lukasiewicz"),
    ("Æbeltoft Straße", "aebeltoft strasse"),
    ("Đorđe Þórsson", "dorde thorsson"),
])
def test_accents_and_special_letters_become_ascii(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("Contoso Ltd", "contoso"),
    ("Northwind Traders Inc.", "northwind traders"),
    ("Adventure Works Cycles LLC", "adventure works cycles"),
    ("Isthmus Maritime Trading S.A.", "isthmus maritime trading"),
    ("RED MUNDIAL INMOBILIARIA, S.A. DE C.V.", "red mundial inmobiliaria"),
    ("Siemens GmbH & Co. KG", "siemens"),
    ("The Coca-Cola Company", "coca cola"),
    ("OOO Romashka", "romashka"),
    ("JOINT STOCK COMPANY ROSNEFT", "rosneft"),
])
def test_legal_forms_and_noise_words_are_dropped(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_legal_form_words_inside_a_name_are_kept() -> None:
    assert normalize("Trading Co Partners") == "trading co partners"
    assert normalize("Co") == "co"  # never normalised to nothing


@pytest.mark.parametrize(("raw", "expected"), [
    ("NORIEGA, Manuel Antonio", "manuel antonio noriega"),
    ("AL-ZAWAHIRI, Ayman", "ayman al zawahiri"),
    ("ABU-MARZUQ, Dr. Musa", "musa abu marzuq"),
    ("ZAYDAN, Muhammad, Jr.", "muhammad zaydan"),
])
def test_surname_comma_given_is_reordered_to_given_surname(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("ANGLO-CARIBBEAN CO., LTD.", "anglo caribbean"),
    ("TROVER, S.A.", "trover"),
    ("HAVANA INTERNATIONAL BANK, LTD", "havana international bank"),
])
def test_a_comma_before_a_legal_form_does_not_reorder_a_company(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("O'Brien, Seán", "sean obrien"),
    ("Manuel A. Noriega", "manuel a noriega"),
    ("J.P. Morgan", "jp morgan"),
    ("Jean-Pierre  (Paris)", "jean pierre paris"),
    ("  Nancy \t Davolio  ", "nancy davolio"),
])
def test_punctuation_is_removed_and_whitespace_collapsed(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_a_name_without_latin_letters_has_no_tokens() -> None:
    assert tokens("Владимир Иванов") == ()


@pytest.mark.parametrize("variants", [
    ("mohammed", "muhammad", "mohamed"),
    ("hussein", "husayn"),
    ("catherine", "kathryn"),
    ("meyer", "mayer"),
])
def test_spelling_variants_share_a_phonetic_key(variants: tuple[str, ...]) -> None:
    assert len({phonetic_key(v) for v in variants}) == 1


def test_prepare_gives_one_key_per_token() -> None:
    name = prepare("NORIEGA, Manuel Antonio")
    assert name.tokens == ("manuel", "antonio", "noriega")
    assert name.keys == tuple(phonetic_key(t) for t in name.tokens)
    assert name.text == "manuel antonio noriega"
    assert phonetic_key("1572") == "1572"
