"""Personal particulars: resident ID numbers, mobile numbers and their masks (DOMAIN R34–R36)."""

from __future__ import annotations

import pytest
from stdnum.cn import ric

from mediation.validation import clean_id_number, clean_mobile, mask_id_number, mask_phone, normalise_width

VALID_ID = "11010519491231002X"  # GB 11643-1999's own example: born 31 Dec 1949, check character X
FULL_WIDTH = str.maketrans("0123456789xX", "０１２３４５６７８９ｘＸ")


def with_check(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


@pytest.mark.parametrize(
    "given",
    [
        VALID_ID,
        "11010519491231002x",  # lower-case x
        VALID_ID.translate(FULL_WIDTH),  # full-width digits and Ｘ
        "11010519491231002x".translate(FULL_WIDTH),  # full-width ｘ
        " 110105 19491231 002X ",  # spaces typed or pasted
    ],
)
def test_valid_id_number_is_stored_in_ascii_upper_case(given):
    """R34 (GB 11643-1999): lower-case and full-width forms are accepted and stored as ASCII."""
    assert clean_id_number(given) == VALID_ID


def test_an_id_number_with_a_digit_check_character_is_valid():
    """R34 (GB 11643-1999): check = '10X98765432'[Σ dᵢ·wᵢ mod 11]."""
    assert clean_id_number("510824196903150379") == "510824196903150379"


def test_the_check_character_follows_the_standards_weights():
    """R34 (GB 11643-1999): the weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    body = VALID_ID[:17]
    assert "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11] == VALID_ID[17]


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ("110105194912310021", "check character"),  # wrong check character
        ("11010519491231002Y", "17 digits"),
        ("1101051949123100", "17 digits"),  # too short
        ("1101051949123100211", "17 digits"),  # too long
        (with_check("11010519490230002"), "birth date"),  # 30 February
        (with_check("11010519491331002"), "birth date"),  # month 13
        (with_check("11010520991231002"), "birth date"),  # born in the future
    ],
)
def test_invalid_id_number_is_refused_with_a_reason(given, words):
    """R34 (GB 11643-1999): 17 digits, a real birth date, the right check character."""
    with pytest.raises(ValueError, match=words):
        clean_id_number(given)


def test_old_15_digit_number_is_converted_to_18():
    """R34 (GB 11643-1999): the 15-digit number gains the century 19 and a check character."""
    assert clean_id_number("110105491231002") == VALID_ID


def test_old_15_digit_number_with_an_impossible_date_is_refused():
    """R34 (GB 11643-1999): a 15-digit number is converted only if its date is valid (here 30 February 1949)."""
    with pytest.raises(ValueError, match="birth date"):
        clean_id_number("110105490230002")


@pytest.mark.parametrize(
    "given",
    ["13800138000", "+86 138 0013 8000", "+8613800138000", "0086 138-0013-8000", "１３８００１３８０００",
     " 138 0013 8000 "],
)
def test_mobile_number_with_country_code_spaces_or_full_width_digits_is_cleaned(given):
    """R35 (DOMAIN.md; mainland mobile numbering): 11 digits 1[3-9]xxxxxxxxx, an optional +86."""
    assert clean_mobile(given) == "13800138000"


@pytest.mark.parametrize(
    "given",
    ["12800138000", "1380013800", "138001380001", "+85213800138000", "02787654321", "1380013800a", ""],
)
def test_not_a_mainland_mobile_number_is_refused(given):
    """R35 (DOMAIN.md; mainland mobile numbering): a mainland mobile number is 11 digits starting 13–19."""
    with pytest.raises(ValueError, match="11 digits"):
        clean_mobile(given)


def test_id_number_is_masked_to_its_first_six_and_last_four():
    """R36 (个人信息保护法 第28–30条): 110105********002X on screens and in lists."""
    assert mask_id_number(VALID_ID) == "110105********002X"
    assert mask_id_number(None) == mask_id_number("") == ""


def test_phone_is_masked_to_its_first_three_and_last_four():
    """R36 (个人信息保护法 第28–30条): 138****5678."""
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone(None) == ""


def test_short_values_are_masked_whole():
    """R36 (个人信息保护法 第28–30条): a value too short to show a part of is hidden entirely."""
    assert mask_id_number("12345") == "*****"
    assert mask_phone("1234") == "****"


def test_full_width_text_folds_to_ascii():
    assert normalise_width("ＡＢ１２３") == "AB123"
