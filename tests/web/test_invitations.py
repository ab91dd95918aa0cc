"""Admin's "Send invitation" action on users: a one-time password-set link."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

User = get_user_model()


def admin_client(user):
    client = Client()
    client.force_login(user)
    return client


def invite(client, *users):
    return client.post(
        "/admin/auth/user/", {"action": "send_invitation", "_selected_action": [u.pk for u in users]}, follow=True
    )


def test_it_mails_users_with_an_address_and_shows_the_link_for_the_others(db, mailoutbox):
    operator = User.objects.create_superuser("operator", password="operator-password-123")
    with_mail = User.objects.create_user("bob", email="bob@example.com")
    without = User.objects.create_user("carol")

    html = invite(admin_client(operator), with_mail, without).content.decode()

    assert [mail.to for mail in mailoutbox] == [["bob@example.com"]]
    assert "Mailed an invitation to bob" in html
    assert "Carol has no email address" in html and "/accounts/reset/" in html


def test_the_link_lets_the_user_set_a_password_once(db, mailoutbox):
    operator = User.objects.create_superuser("operator", password="operator-password-123")
    bob = User.objects.create_user("bob", email="bob@example.com")
    invite(admin_client(operator), bob)
    path = "/accounts/" + mailoutbox[0].body.split("/accounts/")[1].split()[0]
    client = Client()

    form = client.get(path, follow=True)
    client.post(form.redirect_chain[-1][0], {"new_password1": "bobs new password 7", "new_password2": "bobs new password 7"})

    bob.refresh_from_db()
    assert bob.check_password("bobs new password 7")
    assert "This link no longer works" in client.get(path, follow=True).content.decode()


def test_a_view_only_staff_member_cannot_send_invitations(db, mailoutbox):
    viewer = User.objects.create_user("viewer", password="viewer-password-123", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_user"))
    bob = User.objects.create_user("bob", email="bob@example.com")

    invite(admin_client(viewer), bob)

    assert mailoutbox == []
