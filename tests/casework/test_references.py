from __future__ import annotations

import pytest

from casework.references import (
    ReferenceCheck,
    asks_about_status,
    damm_check_digit,
    find_reference_query,
    is_valid_reference,
    new_reference,
)

BODY = "572400"
REFERENCE = BODY + str(damm_check_digit(BODY))


def test_known_damm_check_digit() -> None:
    # Worked example from the Damm algorithm's description: 572 → check digit 4.
    assert damm_check_digit("572") == 4
    assert is_valid_reference("5724") is False  # wrong length for a reference


def test_new_references_are_seven_valid_digits() -> None:
    references = {new_reference() for _ in range(500)}
    assert all(len(ref) == 7 and ref.isdigit() and is_valid_reference(ref) for ref in references)
    assert len(references) > 490  # random, not sequential


@pytest.mark.parametrize("position", range(7))
def test_every_single_digit_error_is_detected(position: int) -> None:
    for digit in "0123456789":
        if digit == REFERENCE[position]:
            continue
        typo = REFERENCE[:position] + digit + REFERENCE[position + 1:]
        assert not is_valid_reference(typo), typo


@pytest.mark.parametrize("position", range(6))
def test_adjacent_swaps_are_detected(position: int) -> None:
    swapped = (REFERENCE[:position] + REFERENCE[position + 1] + REFERENCE[position]
               + REFERENCE[position + 2:])
    if swapped != REFERENCE:
        assert not is_valid_reference(swapped)


def _arabic(digits: str) -> str:
    return digits.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))


def _persian(digits: str) -> str:
    return digits.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))


WRONG = REFERENCE[:6] + str((int(REFERENCE[6]) + 1) % 10)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(REFERENCE, (REFERENCE, ReferenceCheck.VALID), id="ascii-alone"),
        pytest.param(_arabic(REFERENCE), (REFERENCE, ReferenceCheck.VALID), id="arabic-indic"),
        pytest.param(_persian(REFERENCE), (REFERENCE, ReferenceCheck.VALID), id="eastern-indic"),
        pytest.param(f"حالة {REFERENCE}", (REFERENCE, ReferenceCheck.VALID), id="with-hala"),
        pytest.param(f"status {REFERENCE}", (REFERENCE, ReferenceCheck.VALID), id="with-status"),
        pytest.param(f"رقم الحالة: {_arabic(REFERENCE)}؟", (REFERENCE, ReferenceCheck.VALID),
                     id="arabic-question"),
        pytest.param(f"{REFERENCE[:3]} {REFERENCE[3:5]} {REFERENCE[5:]}",
                     (REFERENCE, ReferenceCheck.VALID), id="spaced-digits"),
        pytest.param(f"ما هي حالة شكواي رقم {_arabic(REFERENCE)}؟",
                     (REFERENCE, ReferenceCheck.VALID), id="what-is-the-status-of-my-complaint"),
        pytest.param(f"شو صار بشكواي {_arabic(REFERENCE)}؟", (REFERENCE, ReferenceCheck.VALID),
                     id="levantine-with-clitic"),
        pytest.param(f"شنو صار بطلبي {REFERENCE}", (REFERENCE, ReferenceCheck.VALID),
                     id="iraqi-with-clitic"),
        pytest.param(f"any news about case {REFERENCE} please", (REFERENCE,
                                                                ReferenceCheck.VALID),
                     id="english-sentence"),
        pytest.param(f"ما وصلت السلة {REFERENCE}", None, id="complaint-with-the-number"),
        pytest.param(f"بالسلة {REFERENCE}", None, id="clitic-on-a-content-word"),
        pytest.param(f"ما هي حالة شكواي رقم {REFERENCE} وشو صار فيها يا اخي",
                     (REFERENCE, ReferenceCheck.VALID), id="asked-at-length"),
        pytest.param(f"شكوى رقم {REFERENCE} شو صار فيها؟", (REFERENCE, ReferenceCheck.VALID),
                     id="what-happened-with-it"),
        pytest.param(f"بدي اعرف شو صار بالشكوى تبعي {REFERENCE}",
                     (REFERENCE, ReferenceCheck.VALID), id="levantine-tabai"),
        pytest.param(f"السلام عليكم، شو صار بطلبي رقم {_arabic(REFERENCE)} لو سمحت",
                     (REFERENCE, ReferenceCheck.VALID), id="greeting-and-please"),
        pytest.param(f"ليش ما حدا رد علي؟ رقم الشكوى {REFERENCE}",
                     (REFERENCE, ReferenceCheck.VALID), id="why-no-answer"),
        pytest.param(f"اريد اسال عن معاملتي {REFERENCE}", (REFERENCE, ReferenceCheck.VALID),
                     id="iraqi-my-file"),
        pytest.param(f"what is the status of my case {REFERENCE}?",
                     (REFERENCE, ReferenceCheck.VALID), id="english-question"),
        pytest.param(f"hi, can you tell me what happened with my complaint {REFERENCE}",
                     (REFERENCE, ReferenceCheck.VALID), id="english-what-happened"),
        pytest.param(f"ما هي حالة شكواي رقم {REFERENCE} وشو صار فيها يا اخي ليش ما حدا رد "
                     "علي لهلق", None, id="too-many-words"),
        pytest.param(f"شو صار بشكوتي {REFERENCE} لسا ما وصلتني السلة", None,
                     id="status-and-a-new-complaint"),
        pytest.param(f"دۆخی سکاڵاکەم {REFERENCE}", (REFERENCE, ReferenceCheck.VALID),
                     id="sorani-status-of-my-complaint"),
        pytest.param(f"سڵاو، دۆخی سکاڵاکەم چییە؟ {_arabic(REFERENCE)}",
                     (REFERENCE, ReferenceCheck.VALID), id="sorani-question-arabic-digits"),
        pytest.param(f"رەوشا سکالا من {REFERENCE}", (REFERENCE, ReferenceCheck.VALID),
                     id="badini-status-of-my-complaint"),
        pytest.param(f"سەبەتەی خواردنم وەرنەگرتووە {REFERENCE}", None,
                     id="sorani-complaint-with-the-number"),
        pytest.param(WRONG, (WRONG, ReferenceCheck.BAD_CHECK_DIGIT), id="wrong-check-digit"),
        pytest.param(f"لم أستلم السلة والرقم {REFERENCE}", None, id="inside-a-complaint"),
        pytest.param("123456", None, id="six-digits"),
        pytest.param("12345678", None, id="eight-digits"),
        pytest.param("0991234567", None, id="phone-number"),
        pytest.param("", None, id="empty"),
        pytest.param("status", None, id="word-only"),
    ],
)
def test_find_reference_query(text: str, expected: tuple[str, ReferenceCheck] | None) -> None:
    assert find_reference_query(text) == expected


@pytest.mark.parametrize(("text", "asks"), [
    pytest.param("شو صار؟", True, id="what-happened"),
    pytest.param("شو صار بشكواي", True, id="with-my-complaint"),
    pytest.param("ليش ما حدا رد علي لهلق", True, id="why-nobody-answered"),
    pytest.param("في شي جديد؟", True, id="anything-new"),
    pytest.param("status", True, id="status-keyword"),
    pytest.param("any news about my complaint?", True, id="english"),
    pytest.param("ما وصلت", False, id="it-did-not-arrive-is-a-complaint"),
    pytest.param("مرحبا", False, id="a-greeting-asks-nothing"),
    pytest.param("شو صار بالسلة الغذائية؟", False, id="about-something-else"),
    pytest.param("شو صار 1234567", False, id="with-a-number-is-a-reference-query"),
    pytest.param("سکاڵاکەم چی لێهات؟", True, id="sorani-what-happened-to-my-complaint"),
    pytest.param("وەڵامی سکاڵاکەم کوا؟", True, id="sorani-where-is-the-answer"),
    pytest.param("سکاڵاکەم", False, id="sorani-my-complaint-asks-nothing"),
    pytest.param("", False, id="empty"),
    pytest.param("شو صار شو صار شو صار شو صار شو صار شو صار", False, id="too-long"),
])
def test_asks_about_status(text: str, asks: bool) -> None:
    assert asks_about_status(text) is asks
