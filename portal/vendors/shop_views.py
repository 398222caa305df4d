"""The shop's own pages: its profile, its staff, and the public page accepting an invitation."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    request,
    url_for,
)
from flask_login import current_user, login_user
from werkzeug.exceptions import RequestEntityTooLarge

from .. import htmx
from ..auth.services import EmailTaken, find_user_by_email
from ..errors import _render_error
from ..extensions import db
from ..media import delete_media, media_url
from ..security import dashboard_url_for, restrict_blueprint, token_page
from ..shell import toast
from . import profile as profiles
from . import staff as staffing
from .access import current_owner_vendor, current_vendor
from .forms import AcceptInvitationForm, InvitationForm, ProfileForm

# --- profile ------------------------------------------------------------------------------------

shop_bp = Blueprint("shop", __name__, url_prefix="/vendor/shop")
restrict_blueprint(shop_bp, "vendor")


@shop_bp.app_context_processor
def _shop_globals():
    # A function, so the nav asks the database only on pages that show vendor links.
    return {"is_shop_owner": lambda: staffing.is_owner(current_user)}


def _render_profile(vendor, form, status: int = 200):
    context = {
        "vendor": vendor,
        "form": form,
        "logo_url": media_url(vendor.logo_path),
        "map": {
            "tiles": current_app.config["MAP_TILE_URL"],
            "attribution": current_app.config["MAP_TILE_ATTRIBUTION"],
        },
    }
    return htmx.render(
        "vendors/shop/profile.html", "vendors/shop/_profile.html", status=status, **context
    )


@shop_bp.get("/")
def profile():
    vendor = current_vendor()
    return _render_profile(vendor, ProfileForm.for_vendor(vendor))


@shop_bp.post("/")
def save_profile():
    vendor = current_vendor()
    form = ProfileForm()
    if not form.validate_on_submit():
        return _render_profile(vendor, form, status=422)
    try:
        old_logo = profiles.save_profile(vendor, form.changes())
    except profiles.ProfileError as error:  # raised before anything changed
        form.show_error(error)
        return _render_profile(vendor, form, status=422)
    db.session.commit()
    delete_media(old_logo)
    if not htmx.is_partial_request():
        flash("Your shop profile is saved.", "success")
        return redirect(url_for("shop.profile"))
    response = _render_profile(vendor, ProfileForm.for_vendor(vendor))
    # The toast shows where the user is looking (the save button is far below the form's top).
    return toast(htmx.trigger(response, "profile-saved"), "Your shop profile is saved.")


@shop_bp.errorhandler(RequestEntityTooLarge)
def upload_too_large(error):
    limit = current_app.config["MAX_CONTENT_LENGTH"] or 0
    size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
    return _render_error(
        413,
        f"That upload is too large: the limit is {size}. Choose a smaller image; "
        "nothing was saved.",
    )


# --- staff --------------------------------------------------------------------------------------

staff_bp = Blueprint("staff", __name__, url_prefix="/vendor/staff")
restrict_blueprint(staff_bp, "vendor")
staff_bp.before_request(lambda: current_owner_vendor() and None)


def _render_staff(vendor, form, status: int = 200, new_link: str | None = None, **extra):
    context = {
        "vendor": vendor,
        "form": form,
        "members": staffing.list_members(vendor),
        "invitations": staffing.pending_invitations(vendor),
        "new_link": new_link,
        "invitation_days": current_app.config["STAFF_INVITATION_DAYS"],
        **extra,
    }
    return htmx.render(
        "vendors/shop/staff.html", "vendors/shop/_staff.html", status=status, **context
    )


@staff_bp.get("/")
def index():
    return _render_staff(current_vendor(), InvitationForm(formdata=None))


@staff_bp.post("/invitations")
def invite():
    vendor = current_vendor()
    form = InvitationForm()
    if not form.validate_on_submit():
        return _render_staff(vendor, form, status=422)
    try:
        invitation, token = staffing.invite_staff(vendor, form.email.data, invited_by=current_user)
    except staffing.StaffError as error:
        form.email.errors = [*form.email.errors, str(error)]
        return _render_staff(vendor, form, status=422)
    db.session.commit()
    link = url_for("invitations.accept", token=token, _external=True)
    # Rendered, not redirected: the link exists only in this response.
    response = _render_staff(
        vendor, InvitationForm(formdata=None), new_link=link, invited=invitation
    )
    response.headers["Cache-Control"] = "no-store"
    return toast(
        htmx.trigger(response, "staff-invited"),
        f"Invitation made for {invitation.email}: copy its link under the button.",
    )


def _after_change(vendor, message: str):
    db.session.commit()
    if not htmx.is_partial_request():
        flash(message, "success")
        return redirect(url_for("staff.index"))
    return toast(_render_staff(vendor, InvitationForm(formdata=None)), message)


def _refuse(vendor, message: str, status: int):
    if not htmx.is_partial_request():
        flash(message, "error")
        return redirect(url_for("staff.index"))
    return _render_error(status, message)


@staff_bp.post("/invitations/<uuid:invitation_id>/revoke")
def revoke(invitation_id):
    vendor = current_vendor()
    try:
        invitation = staffing.revoke_invitation(vendor, invitation_id)
    except LookupError as error:
        return _render_error(404, str(error))
    except staffing.StaffError as error:
        return _refuse(vendor, str(error), 409)
    return _after_change(vendor, f"The invitation for {invitation.email} is withdrawn.")


@staff_bp.post("/members/<uuid:member_id>/remove")
def remove(member_id):
    vendor = current_vendor()
    try:
        member = staffing.remove_member(vendor, member_id)
    except LookupError as error:
        return _render_error(404, str(error))
    except staffing.StaffError as error:
        return _refuse(vendor, str(error), 409)
    return _after_change(vendor, f"{member.user.email} no longer works for {vendor.name}.")


# --- accepting an invitation (public: the invited person may not have an account yet) -----------

invitations_bp = Blueprint("invitations", __name__, url_prefix="/invitations")


def _invitation_page(status: int = 200, **context):
    return token_page("vendors/shop/invitation.html", status, **context)


@invitations_bp.route("/<token>", methods=["GET", "POST"])
def accept(token: str):
    try:
        invitation = staffing.invitation_for_token(token, lock=request.method == "POST")
    except staffing.InvitationUnusable as error:
        return _invitation_page(error.status, problem=error.message)
    shop = invitation.vendor

    if current_user.is_authenticated:
        refusal = staffing.refusal_for(current_user, invitation)
        if refusal:
            return _invitation_page(403, problem=refusal, invitation=invitation, shop=shop)
        if request.method == "POST":  # one button; CSRFProtect has checked its token
            staffing.accept_invitation(invitation, current_user)
            db.session.commit()
            flash(f"Welcome to {shop.name}! You are on the shop's staff.", "success")
            return redirect(dashboard_url_for(current_user))
        return _invitation_page(invitation=invitation, shop=shop, signed_in=True)

    if find_user_by_email(invitation.email) is not None:
        return _invitation_page(
            invitation=invitation,
            shop=shop,
            existing=True,
            login_url=url_for("auth.login", next=request.path),
        )
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            user = staffing.join_with_new_account(invitation, form.password.data)
        except EmailTaken:  # created in the meantime; nothing was written
            form.password.errors = ["An account with this email exists now. Sign in instead."]
        else:
            db.session.commit()
            login_user(user)
            flash(f"Welcome to {shop.name}! Your account is ready.", "success")
            return redirect(dashboard_url_for(user))
    status = 422 if request.method == "POST" else 200
    return _invitation_page(status, invitation=invitation, shop=shop, form=form)
