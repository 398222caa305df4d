"""The remap request forms. They carry CSRF and the fields; the rules (a note's length, one open
request per product, an open request only) live in ``catalog.remaps``, which says what is wrong."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField

from .remaps import NOTE_MAX


class RemapRequestForm(FlaskForm):
    note = TextAreaField(
        "What is wrong, and which product is it?", render_kw={"maxlength": NOTE_MAX, "rows": 3}
    )


class ResolveForm(FlaskForm):
    master = StringField("Master product")  # the radio buttons of the search results
    q = StringField("Find the master product")
    note = TextAreaField(
        "Note to the shop (optional)", render_kw={"maxlength": NOTE_MAX, "rows": 2}
    )


class DeclineForm(FlaskForm):
    note = TextAreaField("Why not?", render_kw={"maxlength": NOTE_MAX, "rows": 2})
