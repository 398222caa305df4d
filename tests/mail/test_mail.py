"""The one mail module: SMTP through a real local server, the folder backend and the pages
that read it, and mail that waits for the commit."""

import pytest

from portal import mail, queues
from tests.factories import PASSWORD, make_admin
from tests.mailbox import body, links, path_of

SIGNUP = {"password": PASSWORD, "confirm": PASSWORD, "full_name": "Mo Mail"}


def _queued(app) -> int:
    return queues.get_queue("default", app).count


def test_a_mail_is_queued_after_the_commit_and_sent_through_smtp(app, client, mailbox):
    assert _queued(app) == 0
    client.post("/signup/customer", data={"email": "smtp@example.com", **SIGNUP})
    assert _queued(app) == 1  # the request committed, then queued the job
    assert mailbox.messages == []  # nothing sent until the job runs
    message = mailbox.last_to("smtp@example.com")
    assert message["From"] == app.config["MAIL_DEFAULT_SENDER"]
    assert message["Subject"] == "Finish creating your Marketplace Portal account"
    assert "/signup/finish/" in body(message)


def test_a_rolled_back_session_sends_nothing(app, db_session, mailbox):
    with app.test_request_context():
        mail.send_after_commit("never@example.com", "verify_email", link="x", hours=1)
        db_session.rollback()
        mail.send_after_commit("kept@example.com", "verify_email", link="y", hours=1)
        db_session.commit()
    assert [m["To"] for m in mailbox.to("never@example.com")] == []
    assert len(mailbox.to("kept@example.com")) == 1


@pytest.fixture
def folder_mail(app, tmp_path):
    saved = {key: app.config[key] for key in ("MAIL_BACKEND", "MAIL_FOLDER", "ENV_NAME")}
    app.config.update(MAIL_BACKEND="file", MAIL_FOLDER=str(tmp_path))
    yield tmp_path
    app.config.update(saved)


def test_the_folder_backend_writes_messages_the_admin_reads(
    app, client, auth, mailbox, folder_mail
):
    client.post("/signup/customer", data={"email": "folder@example.com", **SIGNUP})
    mailbox.deliver()
    assert mailbox.messages == []  # nothing went through SMTP
    written = list(folder_mail.glob("*.eml"))
    assert len(written) == 1

    admin = make_admin()
    auth.login(admin.email)
    listing = client.get("/admin/mail/").get_data(as_text=True)
    assert "folder@example.com" in listing
    assert "Finish creating your Marketplace Portal account" in listing
    opened = client.get(f"/admin/mail/{written[0].stem}").get_data(as_text=True)
    assert "/signup/finish/" in opened
    assert client.get("/admin/mail/no-such-message").status_code == 404
    assert client.get("/admin/mail/" + "9" * 300).status_code == 404  # never a path on disk


def test_in_development_the_check_email_page_links_to_the_message(
    app, client, mailbox, folder_mail
):
    app.config["ENV_NAME"] = "development"
    page = client.post("/signup/customer", data={"email": "dev@example.com", **SIGNUP})
    link = next(p for p in links_in_page(page.get_data(as_text=True)) if "/dev/mail/" in p)
    assert "not written this message yet" in client.get(link).get_data(as_text=True)
    mailbox.deliver()
    message = client.get(link).get_data(as_text=True)
    finish = next(p for p in links_in_page(message) if "/signup/finish/" in p)
    assert client.post(path_of(finish)).status_code == 302  # signing up stays quick


def links_in_page(page: str) -> list[str]:
    import re

    return re.findall(r'href="([^"]+)"', page)


def test_outside_development_the_mail_folder_page_does_not_exist(client, folder_mail):
    assert client.get("/dev/mail/20261202000000-abcdef012345").status_code == 404


def test_admin_only(client, auth):
    from tests.factories import make_customer

    auth.login(make_customer().email)
    assert client.get("/admin/mail/").status_code == 403


def test_links_point_at_the_public_url(app, client, mailbox):
    client.post("/signup/customer", data={"email": "public@example.com", **SIGNUP})
    (link,) = links(mailbox.last_to("public@example.com"))
    assert link.startswith(app.config["PUBLIC_URL"].rstrip("/") + "/signup/finish/")
