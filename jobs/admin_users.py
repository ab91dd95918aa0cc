"""Django's user admin plus "Send invitation": a one-time link to set a password.

A user made by `lepton_user` (or in admin without a password) cannot log in until they
set one through such a link (jobs.invitations).
"""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from jobs.invitations import invite

User = get_user_model()


class InvitingUserAdmin(UserAdmin):
    actions = [*UserAdmin.actions, "send_invitation"]

    @admin.action(description="Send invitation (one-time password-set link)", permissions=["change"])
    def send_invitation(self, request, queryset):
        site_url = request.build_absolute_uri("/")
        for user in queryset:
            link, mailed = invite(user, site_url)
            if mailed:
                self.message_user(request, f"Mailed an invitation to {user.get_username()} ({user.email}).", messages.SUCCESS)
            else:
                self.message_user(
                    request, f"{user.get_username()} has no email address (or mail failed); give them this link: {link}",
                    messages.WARNING,
                )


admin.site.unregister(User)
admin.site.register(User, InvitingUserAdmin)
