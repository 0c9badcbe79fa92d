"""The reference parser under arbitrary text, and the Damm check digit's promises."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from casework.references import (
    REFERENCE_LENGTH,
    ReferenceCheck,
    damm_check_digit,
    find_reference_query,
    is_valid_reference,
    new_reference,
)
from tests.fuzz.fuzz_helpers import FUZZ_SETTINGS, example
from tests.fuzz.fuzz_strategies import references, texts

bodies = st.text("0123456789", min_size=6, max_size=6)


@FUZZ_SETTINGS
@given(text=st.one_of(texts, references(), st.text()))
def test_parser_never_fails_and_agrees_with_the_check(text: str) -> None:
    example()
    found = find_reference_query(text)
    if found is not None:
        reference, check = found
        assert len(reference) == REFERENCE_LENGTH and reference.isascii() and reference.isdigit()
        assert (check is ReferenceCheck.VALID) is is_valid_reference(reference)
    assert isinstance(is_valid_reference(text), bool)


@FUZZ_SETTINGS
@given(body=bodies, position=st.integers(0, 6), digit=st.sampled_from("0123456789"))
def test_every_single_digit_typo_is_caught(body: str, position: int, digit: str) -> None:
    example()
    reference = body + str(damm_check_digit(body))
    typo = reference[:position] + digit + reference[position + 1:]
    assert is_valid_reference(reference)
    assert is_valid_reference(typo) is (typo == reference)


@FUZZ_SETTINGS
@given(body=bodies, position=st.integers(0, 5))
def test_every_adjacent_swap_is_caught(body: str, position: int) -> None:
    example()
    reference = body + str(damm_check_digit(body))
    swapped = (reference[:position] + reference[position + 1] + reference[position]
               + reference[position + 2:])
    assert is_valid_reference(swapped) is (swapped == reference)


@FUZZ_SETTINGS
@given(st.integers(0, 10))
def test_new_references_are_valid_in_any_digits(_: int) -> None:
    example()
    reference = new_reference()
    arabic = reference.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    persian = reference.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert is_valid_reference(reference) and is_valid_reference(arabic)
    assert is_valid_reference(persian)
    assert find_reference_query(f"حالة {arabic}") == (reference, ReferenceCheck.VALID)
