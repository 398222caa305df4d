import pytest

from portal.catalog.gtin import InvalidGtin, check_digit, is_valid_gtin, normalize_gtin


@pytest.mark.parametrize(
    "code",
    [
        "96385074",  # GTIN-8
        "036000291452",  # UPC-A
        "4006381333931",  # EAN-13
        "5901234123457",
        "10614141000415",  # GTIN-14
        "00012345600012",
    ],
)
def test_valid_codes(code):
    assert is_valid_gtin(code)
    assert normalize_gtin(code) == code


@pytest.mark.parametrize("code", ["96385075", "036000291453", "4006381333932", "10614141000416"])
def test_wrong_check_digit(code):
    with pytest.raises(InvalidGtin, match="check digit"):
        normalize_gtin(code)


@pytest.mark.parametrize("code", ["1234567", "12345678901", "123456789012345", "40063813339a1"])
def test_wrong_length_or_characters(code):
    assert not is_valid_gtin(code)


def test_spaces_and_dashes_are_ignored_and_empty_is_none():
    assert normalize_gtin(" 4006381-333931 ") == "4006381333931"
    assert normalize_gtin("") is None
    assert normalize_gtin(None) is None


def test_check_digit():
    assert check_digit("400638133393") == 1
    assert check_digit("9638507") == 4
