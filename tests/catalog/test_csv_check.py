"""The whole-file check of a CSV upload: every bad row, with its line number and reason."""

import pytest

from portal.catalog.imports import check_csv
from tests.catalog.helpers import HEADER


def errors_of(text, **kwargs):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return [(e.line, e.message) for e in check_csv(data, **kwargs).errors]


def test_a_good_file_with_bom_and_blank_lines(app):
    text = (
        "\ufeff"
        + HEADER
        + "\nA1,Apple,,4006381333931,Acme,Fruit,1.005,3,active,colour=red; size=L"
        + "\n\nA2,Pear,,,,,2,,,\n"
    )
    with app.app_context():
        result = check_csv(text.encode())
    assert result.ok
    first, second = result.rows
    assert str(first.price) == "1.01"  # half-up to the cent
    assert first.attributes == {"colour": "red", "size": "L"}
    assert (second.line, second.inventory, second.status) == (4, 0, "active")


def test_every_kind_of_bad_row_is_reported_with_its_line(app):
    text = "\n".join(
        [
            HEADER,
            "A1,,,,,,1,1,,",  # 2: missing title
            "A2,Pear,,,,,abc,1,,",  # 3: bad price
            "A3,Plum,,,,,1,-2,,",  # 4: negative inventory
            "A4,Kiwi,,,,,1,1.5,,",  # 5: non-integer inventory
            "A5,Lime,,4006381333932,,,1,1,,",  # 6: GTIN check digit
            "A1,Again,,,,,1,1,,",  # 7: duplicate SKU
            ",No sku,,,,,1,1,,",  # 8: missing SKU
            "A8,Fig,,,,,1,1,sold,",  # 9: bad status
            "A9,Date,,,,,1,1,,colour",  # 10: bad attributes
            "A10,Too,few",  # 11: wrong number of fields
            "A11,Cherry,,,,,-1,1,,",  # 12: negative price
            "A12,Fine,,,,,1,1,,",
        ]
    )
    with app.app_context():
        errors = errors_of(text)
    lines = dict(errors)
    assert sorted(lines) == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    assert "title is missing" in lines[2]
    assert "'abc' is not a price" in lines[3]
    assert "cannot be negative" in lines[4]
    assert "whole number" in lines[5]
    assert "check digit" in lines[6]
    assert "already on line 2" in lines[7]
    assert "SKU is missing" in lines[8]
    assert "status" in lines[9]
    assert "key=value" in lines[10]
    assert "Expected 10 fields, found 3" in lines[11]
    assert "price cannot be negative" in lines[12]


def test_line_numbers_count_multi_line_fields(app):
    text = HEADER + '\nA1,Apple,"two\nlines",,,,1,1,,\nA2,,,,,,1,1,,\n'
    with app.app_context():
        assert errors_of(text) == [(4, "The title is missing.")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"", "The file is empty."),
        (b"  \n", "The file is empty."),
        (HEADER.encode() + b"\n", "The file has a header but no products."),
        (b"sku,title,price,colour\nA,B,1,red\n", "Unknown column(s): 'colour'"),
        (b"sku,title\nA,B\n", "lacks the column(s): price"),
        (b"A1,Apple,1\n", "Unknown column(s)"),  # no header at all
        (HEADER.encode() + b"\nA1,Caf\xe9,,,,,1,1,,\n", "not UTF-8"),
    ],
)
def test_file_level_errors(app, text, expected):
    with app.app_context():
        errors = errors_of(text)
    assert errors and expected in errors[0][1]


def test_non_utf8_names_its_line(app):
    with app.app_context():
        assert errors_of(HEADER.encode() + b"\nA1,Caf\xe9,,,,,1,1,,\n")[0][0] == 2


def test_too_many_rows(app):
    text = HEADER + "".join(f"\nS{n},T,,,,,1,1,," for n in range(6))
    with app.app_context():
        errors = errors_of(text, max_rows=5)
    assert errors == [(0, "The file has 6 rows; at most 5 can be imported.")]


def test_columns_in_any_order_and_a_subset(app):
    with app.app_context():
        result = check_csv(b"price,title,sku\n3.50,Bread,B1\n")
    assert result.ok and result.rows[0].sku == "B1"
