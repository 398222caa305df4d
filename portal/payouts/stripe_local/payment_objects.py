"""Stripe-shaped payment objects (API version 2024-04-10, test mode): PaymentIntents, Charges,
Refunds and Disputes, with every field Stripe returns for a card payment of a platform's own
account (separate charges and transfers). tests/payouts check them against Stripe's spec."""

from __future__ import annotations

from typing import Any

from .wire import new_id

# Stripe's test payment methods the local server knows, and what confirming with each does.
TEST_CARDS = {
    "pm_card_visa": {"brand": "visa", "last4": "4242", "decline_code": None},
    "pm_card_mastercard": {"brand": "mastercard", "last4": "4444", "decline_code": None},
    "pm_card_chargeDeclined": {"brand": "visa", "last4": "0002", "decline_code": "generic_decline"},
    "pm_card_chargeDeclinedInsufficientFunds": {
        "brand": "visa",
        "last4": "9995",
        "decline_code": "insufficient_funds",
    },
}
DECLINE_MESSAGES = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
}


def payment_intent(
    *,
    amount: int,
    currency: str,
    created: int,
    description: str | None,
    metadata: dict[str, str],
    statement_descriptor_suffix: str | None,
    transfer_group: str | None,
    automatic_payment_methods: dict[str, Any] | None,
    receipt_email: str | None,
) -> dict[str, Any]:
    intent_id = new_id("pi")
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": automatic_payment_methods,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic",
        "client_secret": f"{intent_id}_secret_{new_id('s')[2:]}",
        "confirmation_method": "automatic",
        "created": created,
        "currency": currency,
        "customer": None,
        "description": description,
        "invoice": None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "metadata": metadata,
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": receipt_email,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": statement_descriptor_suffix,
        "status": "requires_payment_method",
        "transfer_data": None,
        "transfer_group": transfer_group,
    }


def charge(
    intent: dict[str, Any], *, payment_method: str, created: int, decline_code: str | None
) -> dict[str, Any]:
    card = TEST_CARDS[payment_method]
    failed = decline_code is not None
    suffix = intent["statement_descriptor_suffix"]
    return {
        "id": new_id("ch"),
        "object": "charge",
        "amount": intent["amount"],
        "amount_captured": 0 if failed else intent["amount"],
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": None if failed else new_id("txn"),
        "billing_details": {"address": None, "email": None, "name": None, "phone": None},
        "calculated_statement_descriptor": (
            f"MARKETPLACE* {suffix}"[:22] if suffix else "MARKETPLACE"
        ),
        "captured": not failed,
        "created": created,
        "currency": intent["currency"],
        "customer": None,
        "description": intent["description"],
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": "card_declined" if failed else None,
        "failure_message": DECLINE_MESSAGES[decline_code] if failed else None,
        "fraud_details": {},
        "invoice": None,
        "livemode": False,
        "metadata": dict(intent["metadata"]),
        "on_behalf_of": None,
        "outcome": {
            "network_status": "declined_by_network" if failed else "approved_by_network",
            "reason": decline_code,
            "risk_level": "normal",
            "risk_score": 20,
            "seller_message": (
                "The bank did not return any further details with this decline."
                if failed
                else "Payment complete."
            ),
            "type": "issuer_declined" if failed else "authorized",
        },
        "paid": not failed,
        "payment_intent": intent["id"],
        "payment_method": payment_method,
        "payment_method_details": {
            "type": "card",
            "card": {
                "amount_authorized": None if failed else intent["amount"],
                "brand": card["brand"],
                "checks": {
                    "address_line1_check": None,
                    "address_postal_code_check": None,
                    "cvc_check": "pass",
                },
                "country": "US",
                "exp_month": 12,
                "exp_year": 2034,
                "fingerprint": "LocalTestCard" + card["last4"],
                "funding": "credit",
                "installments": None,
                "last4": card["last4"],
                "mandate": None,
                "network": card["brand"],
                "network_token": {"used": False},
                "three_d_secure": None,
                "wallet": None,
            },
        },
        "radar_options": {},
        "receipt_email": intent["receipt_email"],
        "receipt_number": None,
        "receipt_url": None,
        "refunded": False,
        "review": None,
        "shipping": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": suffix,
        "status": "failed" if failed else "succeeded",
        "transfer_data": None,
        "transfer_group": intent["transfer_group"],
    }


def last_payment_error(charge_obj: dict[str, Any]) -> dict[str, Any]:
    decline_code = charge_obj["outcome"]["reason"]
    return {
        "charge": charge_obj["id"],
        "code": "card_declined",
        "decline_code": decline_code,
        "doc_url": "https://stripe.com/docs/error-codes/card-declined",
        "message": DECLINE_MESSAGES[decline_code],
        "type": "card_error",
    }


def refund(
    charge_obj: dict[str, Any],
    *,
    amount: int,
    created: int,
    metadata: dict[str, str],
    reason: str | None,
) -> dict[str, Any]:
    return {
        "id": new_id("re"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": new_id("txn"),
        "charge": charge_obj["id"],
        "created": created,
        "currency": charge_obj["currency"],
        "metadata": metadata,
        "payment_intent": charge_obj["payment_intent"],
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }


def dispute(
    charge_obj: dict[str, Any], *, amount: int, reason: str, created: int, inquiry: bool
) -> dict[str, Any]:
    evidence_fields = [
        "access_activity_log",
        "billing_address",
        "cancellation_policy",
        "cancellation_policy_disclosure",
        "cancellation_rebuttal",
        "customer_communication",
        "customer_email_address",
        "customer_name",
        "customer_purchase_ip",
        "customer_signature",
        "duplicate_charge_documentation",
        "duplicate_charge_explanation",
        "duplicate_charge_id",
        "product_description",
        "receipt",
        "refund_policy",
        "refund_policy_disclosure",
        "refund_refusal_explanation",
        "service_date",
        "service_documentation",
        "shipping_address",
        "shipping_carrier",
        "shipping_date",
        "shipping_documentation",
        "shipping_tracking_number",
        "uncategorized_file",
        "uncategorized_text",
    ]
    return {
        "id": new_id("dp"),
        "object": "dispute",
        "amount": amount,
        "balance_transactions": (
            [] if inquiry else [_dispute_withdrawal(charge_obj, amount, created)]
        ),
        "charge": charge_obj["id"],
        "created": created,
        "currency": charge_obj["currency"],
        "evidence": dict.fromkeys(evidence_fields),
        "evidence_details": {
            "due_by": created + 7 * 86400,
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": inquiry,
        "livemode": False,
        "metadata": {},
        "payment_intent": charge_obj["payment_intent"],
        "payment_method_details": {
            "type": "card",
            "card": {
                "brand": charge_obj["payment_method_details"]["card"]["brand"],
                "network_reason_code": "10.4",
            },
        },
        "reason": reason,
        "status": "warning_needs_response" if inquiry else "needs_response",
    }


def _dispute_withdrawal(charge_obj: dict[str, Any], amount: int, created: int) -> dict[str, Any]:
    """The balance transaction a chargeback takes the disputed amount (and Stripe's fee) with."""
    fee = 1500
    return {
        "id": new_id("txn"),
        "object": "balance_transaction",
        "amount": -amount,
        "available_on": created,
        "created": created,
        "currency": charge_obj["currency"],
        "description": f"Chargeback withdrawal for {charge_obj['id']}",
        "exchange_rate": None,
        "fee": fee,
        "fee_details": [
            {
                "amount": fee,
                "application": None,
                "currency": charge_obj["currency"],
                "description": "Dispute fee",
                "type": "stripe_fee",
            }
        ],
        "net": -amount - fee,
        "reporting_category": "dispute",
        "source": None,
        "status": "available",
        "type": "adjustment",
    }
