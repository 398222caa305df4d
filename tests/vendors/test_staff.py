"""Staff of a shop: invitations by link, accepting them, and what only the owner may do."""

import hashlib
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.clock import utcnow
from portal.vendors import staff
from portal.vendors.models import VendorInvitation, VendorMember
from portal.vendors.services import vendor_for_user
from tests.factories import PASSWORD, make_admin, make_customer, make_driver, make_vendor
from tests.toasts import toast_of

HX = {"HX-Request": "true"}
NEW_PASSWORD = "a long new password"


@pytest.fixture
def shop(db_session):
    owner = make_vendor(email="owner@example.com", shop_name="Sunny Books")
    return owner, vendor_for_user(owner)


@pytest.fixture
def rival(db_session):
    owner = make_vendor(email="rival@example.com", shop_name="Rival Books")
    return owner, vendor_for_user(owner)


def invite_through_page(client, email):
    response = client.post("/vendor/staff/invitations", data={"email": email}, headers=HX)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_data(as_text=True)
    link = re.search(r'value="(http[^"]+/invitations/[^"]+)"', body)
    assert link, body
    return link.group(1), body


def test_owner_invites_and_the_link_is_shown_once(client, auth, shop, db_session):
    owner, vendor = shop
    auth.login(owner.email)
    link, body = invite_through_page(client, "Clerk@Example.com")
    assert "No email is sent" in body and "shown only now" in body
    token = link.rsplit("/invitations/", 1)[1]
    invitation = db_session.scalar(sa.select(VendorInvitation))
    assert invitation.email == "clerk@example.com" and invitation.vendor_id == vendor.id
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in invitation.token_hash
    expected = utcnow() + timedelta(days=7)
    assert abs((invitation.expires_at - expected).total_seconds()) < 60
    page = client.get("/vendor/staff/").get_data(as_text=True)
    assert "clerk@example.com" in page and token not in page  # listed, the link is not


def test_new_person_signs_up_through_the_link_and_joins_as_staff(client, auth, shop, db_session):
    owner, vendor = shop
    auth.login(owner.email)
    link, _ = invite_through_page(client, "clerk@example.com")
    auth.logout()

    path = link[link.index("/invitations/") :]
    page = client.get(path)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Join Sunny Books" in text and 'value="clerk@example.com" readonly' in text

    bad = client.post(path, data={"password": NEW_PASSWORD, "confirm": "different"})
    assert bad.status_code == 422 and "The passwords differ." in bad.get_data(as_text=True)

    response = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/vendor/"
    member = db_session.scalar(sa.select(VendorMember).where(VendorMember.role == "staff"))
    assert member.vendor_id == vendor.id and member.user.email == "clerk@example.com"
    assert member.user.role == "vendor"
    # Signed in: staff see the shop's pages, not the staff page.
    assert client.get("/vendor/").status_code == 200
    assert client.get("/vendor/shop/").status_code == 200
    refused = client.get("/vendor/staff/")
    assert refused.status_code == 403
    assert "can manage staff and payouts." in refused.get_data(as_text=True)

    # The link works once.
    auth.logout()
    again = client.get(path)
    assert again.status_code == 410 and "used already" in again.get_data(as_text=True)


def test_a_signed_in_vendor_without_a_shop_accepts_with_one_button(client, auth, shop, db_session):
    owner, vendor = shop
    invitation, token = staff.invite_staff(vendor, "loner@example.com", invited_by=owner)
    loner = make_vendor(email="loner@example.com")
    db_session.execute(sa.delete(VendorMember).where(VendorMember.user_id == loner.id))
    auth.login(loner.email)

    page = client.get(f"/invitations/{token}").get_data(as_text=True)
    assert "Join Sunny Books</button>" in page
    response = client.post(f"/invitations/{token}")
    assert response.status_code == 302
    assert vendor_for_user(loner).id == vendor.id
    db_session.refresh(invitation)
    assert invitation.accepted_by_id == loner.id and invitation.accepted_at is not None


def test_signed_out_invitee_with_an_account_is_asked_to_sign_in(client, shop, db_session):
    owner, vendor = shop
    _, token = staff.invite_staff(vendor, "loner@example.com", invited_by=owner)
    loner = make_vendor(email="loner@example.com")
    db_session.execute(sa.delete(VendorMember).where(VendorMember.user_id == loner.id))
    page = client.get(f"/invitations/{token}").get_data(as_text=True)
    assert "exists already" in page and f"next=/invitations/{token}" in page


@pytest.mark.parametrize(
    ("who", "reason"),
    [
        ("customer", "is a customer account"),
        ("driver", "is a driver account"),
        ("in-a-shop", "already works for a shop"),
        ("other-email", "This invitation is for"),
    ],
)
def test_users_who_cannot_join_are_refused_clearly(client, auth, shop, db_session, who, reason):
    owner, vendor = shop
    email = "invitee@example.com"
    invitation, token = staff.invite_staff(vendor, email, invited_by=owner)
    makers = {
        "customer": lambda: make_customer(email=email),
        "driver": lambda: make_driver(email=email),
        "in-a-shop": lambda: make_vendor(email=email, shop_name="Own Shop"),
        "other-email": lambda: _shopless_vendor("someone-else@example.com", db_session),
    }
    user = makers[who]()
    auth.login(user.email)
    page = client.get(f"/invitations/{token}")
    assert page.status_code == 403 and reason in page.get_data(as_text=True)
    assert client.post(f"/invitations/{token}").status_code == 403
    db_session.refresh(invitation)
    assert invitation.accepted_at is None


def _shopless_vendor(email, db_session):
    user = make_vendor(email=email)
    db_session.execute(sa.delete(VendorMember).where(VendorMember.user_id == user.id))
    return user


def test_the_invitation_form_does_not_reveal_whether_an_address_has_an_account(
    client, auth, shop, db_session
):
    """A customer's, a driver's and an unknown address get the same answer (no enumeration);
    the link tells its holder if they cannot join."""
    owner, _ = shop
    make_customer(email="shopper@example.com")
    make_driver(email="rider@example.com")
    auth.login(owner.email)
    answers = []
    for email in ("shopper@example.com", "rider@example.com", "nobody@example.com"):
        response = client.post("/vendor/staff/invitations", data={"email": email}, headers=HX)
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert "customer account" not in page and "driver account" not in page
        notice = re.search(r'<div id="new-invitation".*?</div>', page, re.S).group(0)
        notice = re.sub(r"\d\d:\d\d", "TIME", notice)  # the expiry, to the minute
        answers.append(re.sub(r"/invitations/[\w-]+", "LINK", notice.replace(email, "ADDRESS")))
    assert answers[0] == answers[1] == answers[2]
    response = client.post("/vendor/staff/invitations", data={"email": owner.email}, headers=HX)
    assert response.status_code == 422 and "already a member" in response.get_data(as_text=True)


def test_unknown_expired_and_revoked_tokens_get_clear_pages(client, auth, shop, db_session):
    owner, vendor = shop
    unknown = client.get("/invitations/not-a-real-token")
    assert unknown.status_code == 404 and "not valid" in unknown.get_data(as_text=True)

    _, expired_token = staff.invite_staff(
        vendor, "late@example.com", invited_by=owner, now=utcnow() - timedelta(days=8)
    )
    response = client.get(f"/invitations/{expired_token}")
    assert response.status_code == 410 and "expired" in response.get_data(as_text=True)
    response = client.post(
        f"/invitations/{expired_token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert response.status_code == 410

    revoked, revoked_token = staff.invite_staff(vendor, "gone@example.com", invited_by=owner)
    auth.login(owner.email)
    response = client.post(f"/vendor/staff/invitations/{revoked.id}/revoke", headers=HX)
    assert response.status_code == 200 and "withdrawn" in toast_of(response)
    auth.logout()
    response = client.get(f"/invitations/{revoked_token}")
    assert response.status_code == 410 and "withdrawn" in response.get_data(as_text=True)


def test_a_new_invitation_for_the_same_address_replaces_the_old_link(shop, db_session):
    owner, vendor = shop
    first, first_token = staff.invite_staff(vendor, "clerk@example.com", invited_by=owner)
    staff.invite_staff(vendor, "clerk@example.com", invited_by=owner)
    assert first.revoked_at is not None
    with pytest.raises(staff.InvitationUnusable) as refused:
        staff.invitation_for_token(first_token)
    assert refused.value.status == 410
    assert len(staff.pending_invitations(vendor)) == 1


def test_owner_removes_staff_but_never_themselves(client, auth, shop, db_session):
    owner, vendor = shop
    invitation, _ = staff.invite_staff(vendor, "clerk@example.com", invited_by=owner)
    clerk = staff.join_with_new_account(invitation, NEW_PASSWORD)
    owner_member = db_session.scalar(
        sa.select(VendorMember).where(VendorMember.user_id == owner.id)
    )
    clerk_member = db_session.scalar(
        sa.select(VendorMember).where(VendorMember.user_id == clerk.id)
    )
    auth.login(owner.email)

    refused = client.post(f"/vendor/staff/members/{owner_member.id}/remove", headers=HX)
    assert refused.status_code == 409
    assert "owner cannot be removed" in refused.get_data(as_text=True)
    assert db_session.get(VendorMember, owner_member.id) is not None

    response = client.post(f"/vendor/staff/members/{clerk_member.id}/remove", headers=HX)
    assert response.status_code == 200
    assert toast_of(response) == "clerk@example.com no longer works for Sunny Books."
    assert vendor_for_user(clerk) is None


def test_staff_cannot_manage_staff(client, auth, shop, db_session):
    owner, vendor = shop
    invitation, _ = staff.invite_staff(vendor, "clerk@example.com", invited_by=owner)
    staff.join_with_new_account(invitation, NEW_PASSWORD)
    pending, _ = staff.invite_staff(vendor, "next@example.com", invited_by=owner)
    owner_member = db_session.scalar(
        sa.select(VendorMember).where(VendorMember.user_id == owner.id)
    )
    auth.login("clerk@example.com", NEW_PASSWORD)
    for method, path in [
        ("get", "/vendor/staff/"),
        ("post", "/vendor/staff/invitations"),
        ("post", f"/vendor/staff/invitations/{pending.id}/revoke"),
        ("post", f"/vendor/staff/members/{owner_member.id}/remove"),
    ]:
        response = getattr(client, method)(path, data={"email": "x@example.com"})
        assert response.status_code == 403, path
        assert "can manage staff and payouts" in response.get_data(as_text=True)
    assert pending.revoked_at is None


def test_an_owner_never_touches_another_shops_staff(client, auth, shop, rival, db_session):
    owner, _ = shop
    rival_owner, rival_shop = rival
    rival_invitation, _ = staff.invite_staff(
        rival_shop, "theirs@example.com", invited_by=rival_owner
    )
    rival_member = db_session.scalar(
        sa.select(VendorMember).where(VendorMember.user_id == rival_owner.id)
    )
    auth.login(owner.email)
    page = client.get("/vendor/staff/").get_data(as_text=True)
    assert "theirs@example.com" not in page and rival_owner.email not in page
    response = client.post(f"/vendor/staff/invitations/{rival_invitation.id}/revoke", headers=HX)
    assert response.status_code == 404
    response = client.post(f"/vendor/staff/members/{rival_member.id}/remove", headers=HX)
    assert response.status_code == 404
    db_session.refresh(rival_invitation)
    assert rival_invitation.revoked_at is None
    assert db_session.get(VendorMember, rival_member.id) is not None


@pytest.mark.parametrize("maker", [make_customer, make_driver, make_admin])
def test_other_roles_are_refused_on_every_staff_route(client, auth, db_session, maker):
    user = maker()
    auth.login(user.email)
    some_id = "00000000-0000-0000-0000-000000000000"
    assert client.get("/vendor/staff/").status_code == 403
    assert client.post("/vendor/staff/invitations", data={"email": "a@b.co"}).status_code == 403
    assert client.post(f"/vendor/staff/invitations/{some_id}/revoke").status_code == 403
    assert client.post(f"/vendor/staff/members/{some_id}/remove").status_code == 403


def test_anonymous_users_are_sent_to_sign_in_from_staff_routes(client, db_session):
    some_id = "00000000-0000-0000-0000-000000000000"
    for path in [
        "/vendor/staff/invitations",
        f"/vendor/staff/invitations/{some_id}/revoke",
        f"/vendor/staff/members/{some_id}/remove",
    ]:
        response = client.post(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_staff_link_in_nav_is_for_owners_only(client, auth, shop, db_session):
    owner, _ = shop
    auth.login(owner.email)
    assert ">Staff</a>" in client.get("/vendor/").get_data(as_text=True)
    assert PASSWORD  # the owner signed in with the factories' password
