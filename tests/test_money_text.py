"""How pages write amounts and rates (portal/money.py), and that the templates' money() is it."""

from decimal import Decimal

import pytest
from flask import render_template_string

from portal.money import money_text, rate_text


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Decimal("1234.5"), "$1,234.50"),
        (Decimal("-4.99"), "-$4.99"),
        (Decimal("0.005"), "$0.01"),  # half-up, as amounts are stored
        (Decimal("-0.004"), "$0.00"),  # never "-$0.00"
        (Decimal("1000000"), "$1,000,000.00"),
        (None, "—"),
    ],
)
def test_amounts_read_as_dollars_and_cents(amount, text):
    assert money_text(amount) == text


@pytest.mark.parametrize(
    ("rate", "text"),
    [(Decimal("0.1250"), "12.50%"), (Decimal("0.1000"), "10%"), (Decimal("0.0850"), "8.50%")],
)
def test_rates_read_as_percentages(rate, text):
    assert rate_text(rate) == text


def test_templates_import_the_same_functions(app):
    source = '{% from "_money.html" import money, percent %}{{ money(m) }} at {{ percent(r) }}'
    with app.test_request_context():
        rendered = render_template_string(source, m=Decimal("-12.5"), r=Decimal("0.08"))
    assert rendered == "-$12.50 at 8%"
