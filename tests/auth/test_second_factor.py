"""Admins' second factor: enrollment, codes, replays, recovery codes, the gate, the CLI."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa

from portal.admin.models import AuditEvent
from portal.auth import totp
from portal.auth.second_factor_models import (
    AdminSecondFactor,
    RecoveryCode,
    SecondFactorCheck,
)
from portal.clock import utcnow
from portal.extensions import db
from portal.tiers.models import ShopTier
from portal.vendors.services import vendor_for_user
from tests.factories import MAKERS, PASSWORD, make_admin, make_vendor
from tests.second_factor import VERIFY, code_for, enroll, prove, sign_in_verified

SET_UP = "/admin/second-factor/set-up"
HTMX = {"HX-Request": "true"}


def audit_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))


# --- the service -----------------------------------------------------------------------------


def test_enrollment_keeps_its_secret_until_confirmed_and_seals_it(app, db_session):
    admin = make_admin()
    first = totp.start_enrollment(admin)
    assert totp.start_enrollment(admin).secret == first.secret  # a reload shows the same key
    assert first.uri.startswith("otpauth://totp/") and f"secret={first.secret}" in first.uri
    assert "issuer=Marketplace%20Portal" in first.uri
    assert not totp.is_enrolled(admin)

    with pytest.raises(totp.CodeRefused):
        totp.confirm_enrollment(admin, "000000" if code_for(first.secret) != "000000" else "1")
    codes = totp.confirm_enrollment(admin, pyotp.TOTP(first.secret).now())
    assert totp.is_enrolled(admin) and len(codes) == 10 == len(set(codes))
    assert all(re.fullmatch(r"[A-Z2-9]{4}(-[A-Z2-9]{4}){3}", code) for code in codes)

    # At rest: neither the key nor any recovery code appears in clear.
    row = db.session.get(AdminSecondFactor, admin.id)
    assert first.secret not in row.secret_sealed and row.pending_sealed is None
    stored = db.session.scalars(sa.select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not {c.replace("-", "") for c in codes} & set(stored)
    with pytest.raises(totp.AlreadyEnrolled):
        totp.start_enrollment(admin)


def test_the_adjacent_steps_are_accepted_and_no_further(app, db_session):
    admin = make_admin()
    secret = enroll(admin)
    now = utcnow()
    code = pyotp.TOTP(secret)
    for far in (-2, 2):
        with pytest.raises(totp.CodeRefused, match="not the one"):
            totp.verify(admin, code.at(now, counter_offset=far), now=now)
    assert totp.verify(admin, code.at(now, counter_offset=-1), now=now) == "totp"
    assert totp.verify(admin, code.at(now, counter_offset=1), now=now) == "totp"
    later = now + timedelta(seconds=60)
    spaced = code.at(later, counter_offset=1)
    assert totp.verify(admin, f"{spaced[:3]} {spaced[3:]}", now=later) == "totp"  # as apps show it


def test_a_code_is_refused_once_used_and_so_is_an_older_one(app, db_session):
    admin = make_admin()
    secret = enroll(admin)
    now = utcnow()
    code = pyotp.TOTP(secret)
    assert totp.verify(admin, code.at(now), now=now) == "totp"
    with pytest.raises(totp.CodeRefused, match="used already"):
        totp.verify(admin, code.at(now), now=now)  # the replay
    with pytest.raises(totp.CodeRefused, match="used already"):
        totp.verify(admin, code.at(now, counter_offset=-1), now=now)  # older than the used one
    later = now + timedelta(seconds=30)
    assert totp.verify(admin, code.at(later), now=later) == "totp"


def test_a_recovery_code_works_once_in_any_case_and_spacing(app, db_session):
    admin = make_admin()
    totp.start_enrollment(admin)
    pending = totp.factor_of(admin).pending_sealed
    codes = totp.confirm_enrollment(admin, pyotp.TOTP(totp.unseal(pending)).now())
    typed = codes[0].lower().replace("-", " ")
    assert totp.verify(admin, typed) == "recovery"
    with pytest.raises(totp.CodeRefused, match="used already"):
        totp.verify(admin, codes[0])
    assert totp.recovery_codes_left(admin) == 9
    with pytest.raises(totp.CodeRefused):
        totp.verify(admin, "ABCD-EFGH-JKLM-NPQR")  # the right shape, not one of theirs

    fresh = totp.regenerate_recovery_codes(admin)
    with pytest.raises(totp.CodeRefused):
        totp.verify(admin, codes[1])  # the earlier set stopped working
    assert totp.verify(admin, fresh[0]) == "recovery"
    used = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.action == "recovery_code.used")
    ).all()
    assert len(used) == 2


def test_a_rotated_secret_key_still_opens_the_secret(app, db_session):
    admin = make_admin()
    secret = enroll(admin)
    old_key = app.config["SECRET_KEY"]
    try:
        app.config.update(SECRET_KEY="a-new-key-after-rotation", SECRET_KEY_FALLBACKS=[old_key])
        assert totp.current_code(admin) == pyotp.TOTP(secret).now()
        app.config.update(SECRET_KEY_FALLBACKS=[])
        with pytest.raises(totp.CodeRefused, match="reset"):
            totp.current_code(admin)  # said plainly, never a 500
    finally:
        app.config.update(SECRET_KEY=old_key, SECRET_KEY_FALLBACKS=[])


# --- the pages -----------------------------------------------------------------------------


def test_enrolling_over_http_shows_key_uri_and_qr_then_the_codes_once(client, auth, db_session):
    admin = make_admin()
    auth.login(admin.email)
    page = client.get(f"{SET_UP}?next=/admin/month-close")
    body = page.get_data(as_text=True)
    secret = re.search(r'id="enroll-secret">([A-Z2-7 ]+)<', body)[1].replace(" ", "")
    assert f"otpauth://totp/Marketplace%20Portal:{admin.email.replace('@', '%40')}" in body
    assert '<svg viewBox="0 0' in body and "style=" not in body.split("<svg")[1].split("</svg>")[0]
    assert page.headers["Cache-Control"] == "no-store"

    wrong = client.post(f"{SET_UP}?next=/admin/month-close", data={"code": "12345"})
    assert wrong.status_code == 422 and "6-digit code" in wrong.get_data(as_text=True)
    done = client.post(f"{SET_UP}?next=/admin/month-close", data={"code": pyotp.TOTP(secret).now()})
    shown = done.get_data(as_text=True)
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<li><code>([A-Z2-9-]{19})</code></li>", shown)
    assert len(codes) == 10 and 'href="/admin/month-close"' in shown
    # Shown once: the set-up page now refuses to start another without a fresh code, and the
    # security page says the factor is on, with no code in it.
    security = client.get("/security/").get_data(as_text=True)
    assert "On" in security and "10 recovery codes left" in security
    assert not any(code in security for code in codes)
    # Confirming counted as a verification of this session.
    check = db.session.get(SecondFactorCheck, _session_id(client, admin))
    assert check is not None


def _session_id(client, admin):
    from portal.auth.models import UserSession

    return db.session.scalar(
        sa.select(UserSession.id)
        .where(UserSession.user_id == admin.id)
        .order_by(UserSession.created_at.desc())
    )


def _vendor():
    vendor = vendor_for_user(make_vendor(shop_name="Gated Goods"))
    db.session.commit()  # a refused code's rollback must not take the shop with it
    return vendor


def _promote(client, vendor, **headers):
    expires = (utcnow().date() + timedelta(days=10)).isoformat()
    return client.post(
        f"/admin/vendors/{vendor.id}/promotion",
        data={"tier": "gold", "reason": "launch", "expires_on": expires},
        headers=headers,
    )


def _tier(vendor) -> str:
    db.session.expire_all()
    return db.session.scalar(sa.select(ShopTier.tier).where(ShopTier.shop_id == vendor.id))


def test_not_enrolled_the_gate_sends_to_set_up_and_does_nothing(client, auth, db_session):
    admin = make_admin()
    auth.login(admin.email)
    vendor = _vendor()
    before = audit_count()
    response = _promote(client, vendor)
    assert response.status_code == 303
    assert response.headers["Location"] == f"{SET_UP}?next=/admin/vendors/{vendor.id}"
    assert _tier(vendor) == "bronze" and audit_count() == before


def test_enrolled_the_gate_sends_to_verify_and_back_to_the_form(client, auth, db_session):
    admin = make_admin()
    secret = enroll(admin)
    auth.login(admin.email)
    vendor = _vendor()
    before = audit_count()
    response = _promote(client, vendor)
    assert response.headers["Location"] == f"{VERIFY}?next=/admin/vendors/{vendor.id}"
    assert _tier(vendor) == "bronze" and audit_count() == before
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nothing was done yet" in page  # the flash says the action did not happen

    verified = client.post(
        f"{VERIFY}?next=/admin/vendors/{vendor.id}", data={"code": code_for(secret)}
    )
    assert verified.status_code == 303
    assert verified.headers["Location"] == f"/admin/vendors/{vendor.id}"
    assert _promote(client, vendor).status_code == 302  # now it runs
    assert _tier(vendor) == "gold" and audit_count() == before + 1


def test_an_htmx_request_gets_hx_redirect(client, auth, db_session):
    admin = make_admin()
    enroll(admin)
    auth.login(admin.email)
    vendor = _vendor()
    response = _promote(client, vendor, **HTMX)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == f"{VERIFY}?next=/admin/vendors/{vendor.id}"
    assert "HX-Trigger" not in response.headers and _tier(vendor) == "bronze"


def test_the_proof_expires_and_signing_out_forgets_it(client, auth, app, db_session):
    admin = make_admin()
    secret = sign_in_verified(client, admin)
    vendor = _vendor()
    check = db.session.get(SecondFactorCheck, _session_id(client, admin))
    minutes = app.config["ADMIN_SECOND_FACTOR_MINUTES"]
    check.verified_at = utcnow() - timedelta(minutes=minutes, seconds=5)
    db.session.flush()
    assert _promote(client, vendor).headers["Location"].startswith(VERIFY)

    prove(client, secret)
    auth.logout()
    auth.login(admin.email)  # a new session: no proof yet
    assert _promote(client, vendor).headers["Location"].startswith(VERIFY)
    assert _tier(vendor) == "bronze"


def test_next_stays_on_this_site(client, auth, db_session):
    admin = make_admin()
    secret = enroll(admin)
    auth.login(admin.email)
    response = client.post(f"{VERIFY}?next=//evil.example/x", data={"code": code_for(secret)})
    assert response.headers["Location"] == "/security/"


def test_wrong_codes_are_limited_per_account(client, auth, app, db_session):
    admin = make_admin()
    secret = enroll(admin)
    auth.login(admin.email)
    for _ in range(5):
        assert client.post(VERIFY, data={"code": "not a code"}).status_code == 422
    limited = client.post(VERIFY, data={"code": code_for(secret)})
    assert limited.status_code == 429 and "Too many wrong codes" in limited.get_data(True)


def test_a_recovery_code_over_http_verifies_and_says_how_many_are_left(client, auth, db_session):
    admin = make_admin()
    codes = totp.enroll_with_secret(admin, pyotp.random_base32())
    auth.login(admin.email)
    response = client.post(VERIFY, data={"code": codes[3]})
    assert response.status_code == 303
    assert "9 left" in client.get("/security/").get_data(as_text=True)
    again = client.post(VERIFY, data={"code": codes[3]})
    assert again.status_code == 422 and "used already" in again.get_data(as_text=True)


def test_new_recovery_codes_need_a_fresh_verification(client, app, db_session):
    admin = make_admin()
    sign_in_verified(client, admin)
    check = db.session.get(SecondFactorCheck, _session_id(client, admin))
    check.verified_at = utcnow() - timedelta(
        minutes=app.config["ADMIN_SECOND_FACTOR_FRESH_MINUTES"] + 1
    )
    db.session.flush()
    old = db.session.scalars(sa.select(RecoveryCode.code_hash)).all()
    stale = client.post("/admin/second-factor/recovery-codes")
    assert stale.headers["Location"] == f"{VERIFY}?next=/security/"
    assert db.session.scalars(sa.select(RecoveryCode.code_hash)).all() == old

    check.verified_at = utcnow()
    db.session.flush()
    fresh = client.post("/admin/second-factor/recovery-codes")
    assert fresh.status_code == 200 and fresh.headers["Cache-Control"] == "no-store"
    assert len(re.findall(r"<li><code>", fresh.get_data(as_text=True))) == 10
    db.session.expire_all()
    assert set(db.session.scalars(sa.select(RecoveryCode.code_hash)).all()).isdisjoint(old)


def test_a_new_phone_replaces_the_key_only_once_confirmed(client, app, db_session):
    admin = make_admin()
    old_secret = sign_in_verified(client, admin)
    page = client.get(SET_UP).get_data(as_text=True)  # fresh from sign-in: allowed
    new_secret = re.search(r'id="enroll-secret">([A-Z2-7 ]+)<', page)[1].replace(" ", "")
    assert new_secret != old_secret and "keeps working" in page
    assert totp.current_code(admin) == pyotp.TOTP(old_secret).now()  # not replaced yet
    assert client.post(SET_UP, data={"code": code_for(new_secret)}).status_code == 200
    assert totp.current_code(admin) == pyotp.TOTP(new_secret).now()


@pytest.mark.parametrize("role", ["customer", "driver", "vendor"])
@pytest.mark.parametrize("path", [SET_UP, VERIFY, "/admin/audit/"])
def test_only_admins_open_the_second_factor_pages(client, auth, role, path):
    auth.login(MAKERS[role]().email)
    assert client.get(path).status_code == 403
    if path != "/admin/audit/":
        assert client.post(path, data={"code": "123456"}).status_code == 403


def test_anonymous_users_are_sent_to_sign_in(client, db_session):
    response = client.post(VERIFY, data={"code": "123456"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- the CLI -------------------------------------------------------------------------------


def test_totp_code_prints_the_code_outside_production_only(app, db_session):
    admin = make_admin(email="cli-admin@example.com")
    secret = enroll(admin)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["auth", "totp-code", "cli-admin@example.com"])
    assert result.exit_code == 0 and result.output.strip() in {
        pyotp.TOTP(secret).now(),
        code_for(secret, 1),
    }
    assert runner.invoke(args=["auth", "totp-code", "nobody@example.com"]).exit_code != 0
    try:
        app.config["ENV_NAME"] = "production"
        refused = runner.invoke(args=["auth", "totp-code", "cli-admin@example.com"])
        assert refused.exit_code != 0 and "only with PORTAL_ENV=development" in refused.output
        assert pyotp.TOTP(secret).now() not in refused.output
    finally:
        app.config["ENV_NAME"] = "test"


def test_reset_second_factor_removes_it(app, db_session):
    admin = make_admin(email="lost-phone@example.com")
    enroll(admin)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["auth", "reset-second-factor", "lost-phone@example.com"])
    assert result.exit_code == 0, result.output
    assert not totp.is_enrolled(admin) and totp.recovery_codes_left(admin) == 0
    again = runner.invoke(args=["auth", "reset-second-factor", "lost-phone@example.com"])
    assert again.exit_code != 0 and "no second factor" in again.output


def test_the_password_is_still_needed(client, db_session):
    # The second factor comes after the password, never instead of it.
    admin = make_admin()
    enroll(admin)
    response = client.post("/login", data={"email": admin.email, "password": PASSWORD + "x"})
    assert response.status_code == 422
