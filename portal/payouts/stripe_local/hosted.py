"""Stand-ins for Stripe's hosted pages: the Connect onboarding an Account Link opens, and the
Express dashboard a login link opens. Like Stripe's, an Account Link works once: opened again,
or after it expired, it sends the person to the link's ``refresh_url``."""

from __future__ import annotations

import copy

from flask import Blueprint, abort, current_app, redirect, render_template_string, request

from . import objects

bp = Blueprint("hosted", __name__)

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · local Stripe</title></head>
<body>
<main>
<h1>{{ title }}</h1>
<p>This page stands in for Stripe's hosted page (local Stripe server, test mode).</p>
{% block content %}{% endblock %}
</main>
</body>
</html>"""

ONBOARDING = """{% extends page %}{% block content %}
<p>Account <code>{{ account.id }}</code>{% if account.email %} ({{ account.email }}){% endif %}.
Stripe would now ask for the business's details, a bank account and the terms of service.</p>
<form method="post" action="{{ url_for('hosted.complete', token=token) }}">
<button type="submit">Agree and submit</button>
</form>
<p><a href="{{ link.return_url }}">Return without finishing</a></p>
{% endblock %}"""

EXPRESS = """{% extends page %}{% block content %}
<p>Account <code>{{ account.id }}</code>: payouts
{{ "enabled" if account.payouts_enabled else "not enabled yet" }}.</p>
<h2>Transfers received</h2>
{% if transfers %}<table><thead><tr><th scope="col">Transfer</th><th scope="col">Amount</th>
</tr></thead><tbody>{% for transfer in transfers %}<tr><td>{{ transfer.id }}</td>
<td>{{ "%.2f"|format(transfer.amount / 100) }} {{ transfer.currency|upper }}</td></tr>
{% endfor %}</tbody></table>{% else %}<p>None yet.</p>{% endif %}
{% endblock %}"""


def _store():
    return current_app.extensions["stripe_local"].store


def _render(template: str, **context) -> str:
    return render_template_string(template, page=current_app.jinja_env.from_string(PAGE), **context)


def _usable_link(token: str, *, opening: bool):
    store = _store()
    link = store.state.account_links.get(token)
    if link is None:
        abort(404)
    spent = link.completed or (link.visited if opening else not link.visited)
    if spent or store.now() >= link.expires_at:
        return link, redirect(link.refresh_url)
    return link, None


@bp.get("/setup/e/<token>")
def onboarding(token: str):
    store = _store()
    with store.lock:
        link, expired = _usable_link(token, opening=True)
        if expired:
            return expired
        link.visited = True
        account_obj = store.state.accounts[link.account]
        return _render(
            ONBOARDING, title="Set up payouts", token=token, link=link, account=account_obj
        )


@bp.post("/setup/e/<token>/complete")
def complete(token: str):
    store = _store()
    with store.lock:
        link, expired = _usable_link(token, opening=False)
        if expired:
            return expired
        link.completed = True
        account_obj = store.state.accounts[link.account]
        before = copy.deepcopy(account_obj)
        objects.onboarded(account_obj, now=store.now(), ip=request.remote_addr or "127.0.0.1")
        store.account_changed(account_obj, before)
        return redirect(link.return_url, code=303)


@bp.get("/express/<account_id>")
def express_dashboard(account_id: str):
    store = _store()
    with store.lock:
        account_obj = store.state.accounts.get(account_id)
        if account_obj is None:
            abort(404)
        transfers = [t for t in store.state.transfers.values() if t["destination"] == account_id]
        return _render(EXPRESS, title="Express dashboard", account=account_obj, transfers=transfers)
