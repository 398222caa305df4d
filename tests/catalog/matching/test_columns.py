import re

import pytest

from portal.catalog.matching.columns import detect_columns, parse_price, read_pairs, read_table


def _write(path, text):
    path.write_text(text)
    return path


def test_other_benchmarks_columns_map_to_the_same_roles(tmp_path):
    table = _write(
        tmp_path / "tableA.csv",
        "id,title,manufacturer,modelno,category,price,colour\n"
        '7,Acme Widget Pro,ACME Corp,WP-100,Gadgets,"$1,299.00",red\n'
        "8,Acme Widget,,,,,\n",
    )
    records, roles = read_table(table)
    assert roles == {
        "name": "title",
        "brand": "manufacturer",
        "modelno": "modelno",
        "category": "category",
        "price": "price",
    }
    widget = records["7"]
    assert (widget.name, widget.brand, widget.modelno, widget.category) == (
        "Acme Widget Pro",
        "ACME Corp",
        "WP-100",
        "Gadgets",
    )
    assert widget.price == 1299.0
    # A column with no role is kept as text rather than dropped.
    assert widget.extra == "red"
    assert records["8"].price is None and records["8"].brand == ""


def test_abt_buy_header():
    assert detect_columns(["id", "name", "description", "price"]) == {
        "name": "name",
        "description": "description",
        "price": "price",
    }


def test_a_table_without_a_name_is_refused_with_its_columns(tmp_path):
    table = _write(tmp_path / "tableA.csv", "id,colour\n1,red\n")
    with pytest.raises(ValueError, match=r"no name or title column.*colour"):
        read_table(table)


@pytest.mark.parametrize(
    ("text", "price"), [("399.0", 399.0), ("", None), ("n/a", None), ("USD 12", 12.0), ("0", None)]
)
def test_parse_price(text, price):
    assert parse_price(text) == price


def test_read_pairs(tmp_path):
    pairs = _write(tmp_path / "train.csv", "ltable_id,rtable_id,label\n1,2,0\n3,4,1\n")
    assert read_pairs(pairs) == [("1", "2", 0), ("3", "4", 1)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("left,right,label\n1,2,0\n", "no ltable_id, rtable_id column"),
        ("ltable_id,rtable_id,label\n1,2,yes\n", "line 2: label 'yes' is not 0 or 1"),
    ],
)
def test_bad_pair_files_say_what_is_wrong(tmp_path, text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        read_pairs(_write(tmp_path / "train.csv", text))
