"""Django's own auth views at /accounts/, with our templates.

Templates are named explicitly: admin's `registration/*` templates would otherwise win,
admin being installed first. Login is Django's LoginView, so login throttling (axes)
applies to it as it does to the admin's.
"""

from django.contrib.auth import views as auth
from django.urls import path, reverse_lazy

urlpatterns = [
    path("login/", auth.LoginView.as_view(template_name="jobs/accounts/login.html"), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path(
        "password_change/",
        auth.PasswordChangeView.as_view(
            template_name="jobs/accounts/password_change.html", success_url=reverse_lazy("password_change_done")
        ),
        name="password_change",
    ),
    path(
        "password_change/done/",
        auth.PasswordChangeDoneView.as_view(template_name="jobs/accounts/password_change_done.html"),
        name="password_change_done",
    ),
    # Invitations (jobs.invitations) link here: a new user sets their first password.
    path(
        "reset/<uidb64>/<token>/",
        auth.PasswordResetConfirmView.as_view(
            template_name="jobs/accounts/password_set.html", success_url=reverse_lazy("password_reset_complete")
        ),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth.PasswordResetCompleteView.as_view(template_name="jobs/accounts/password_set_done.html"),
        name="password_reset_complete",
    ),
]
