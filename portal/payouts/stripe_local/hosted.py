"""Stand-ins for Stripe's hosted pages: the Connect onboarding an Account Link opens, the
Express dashboard a login link opens, and the card step of a PaymentIntent (what Stripe's Payment
Element does in the checkout page). Like Stripe's, an Account Link works once: opened again,
or after it expired, it sends the person to the link's ``refresh_url``."""

from __future__ import annotations

import copy
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, redirect, render_template_string, request

from . import objects
from .payments_api import confirm
from .wire import StripeError

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


# --- the card step: a stand-in for Stripe's Payment Element ------------------------------------
# The portal sends the customer here with the intent's client secret and a return URL; the
# customer picks a test card (no card number ever reaches the portal, nor this page), and is
# sent back to ``return_url`` with ``payment_intent``, ``payment_intent_client_secret`` and
# ``redirect_status`` as Stripe's redirect does. A decline stays on the page with the reason,
# as the Payment Element shows it.

CARD_CHOICES = (
    ("pm_card_visa", "Visa ending 4242: succeeds, nothing else asked"),
    ("pm_card_chargeDeclined", "Visa ending 0002: declined (card_declined)"),
    ("pm_card_chargeDeclinedInsufficientFunds", "Visa ending 9995: declined, insufficient funds"),
)

CARD = """{% extends page %}{% block content %}
<p>Pay <strong>{{ "%.2f"|format(intent.amount / 100) }} {{ intent.currency|upper }}</strong>
{% if intent.description %}for {{ intent.description }}{% endif %}.</p>
{% if error %}<p role="alert">{{ error }}</p>{% endif %}
{% if intent.status in ("requires_payment_method", "requires_confirmation", "requires_action") %}
<form method="post">
<input type="hidden" name="client_secret" value="{{ intent.client_secret }}">
<input type="hidden" name="return_url" value="{{ return_url }}">
<fieldset><legend>Test card</legend>
{% for value, label in cards %}<label><input type="radio" name="payment_method" value="{{ value }}"
{% if loop.first %}checked{% endif %}> {{ label }}</label><br>{% endfor %}
</fieldset>
<button type="submit">Pay</button>
</form>
{% else %}<p>This payment is {{ intent.status|replace("_", " ") }}.</p>{% endif %}
<p><a href="{{ return_url }}">Back to the shop</a></p>
{% endblock %}"""


def _intent_for_page(intent_id: str):
    """The intent, if the client secret given is its own (as Stripe.js needs it)."""
    intent = _store().state.payment_intents.get(intent_id)
    secret = request.values.get("client_secret")
    if intent is None or secret != intent["client_secret"]:
        abort(404)
    return_url = request.values.get("return_url") or ""
    if not return_url.startswith(("http://", "https://")):
        abort(400, "return_url is an http(s) URL")
    return intent, return_url


@bp.route("/pay/<intent_id>", methods=["GET", "POST"])
def card_page(intent_id: str):
    store = _store()
    with store.lock:
        intent, return_url = _intent_for_page(intent_id)
        error = None
        if request.method == "POST":
            choice = request.form.get("payment_method")
            if choice not in dict(CARD_CHOICES):
                abort(400, "choose one of the test cards")
            try:
                confirm(store, intent, choice)
            except StripeError as declined:
                error = declined.message
            else:
                query = urlencode(
                    {
                        "payment_intent": intent["id"],
                        "payment_intent_client_secret": intent["client_secret"],
                        "redirect_status": "succeeded",
                    }
                )
                separator = "&" if "?" in return_url else "?"
                return redirect(f"{return_url}{separator}{query}", code=303)
        status = 402 if error else 200
        return _render(
            CARD,
            title="Pay",
            intent=intent,
            return_url=return_url,
            cards=CARD_CHOICES,
            error=error,
        ), status
