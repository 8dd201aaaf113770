"""Sign-in lockout (django-axes): staff unlock accounts and addresses here."""

from __future__ import annotations

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class SignInAttemptAdmin(AccessAttemptAdmin):
    """Axes' list of failed sign-ins (filter "locked out"), with an action that unlocks at once."""

    actions = ["unlock"]

    @admin.action(description="Unlock: forget the selected failed sign-ins", permissions=["delete"])
    def unlock(self, request: HttpRequest, queryset: QuerySet[AccessAttempt]) -> None:
        # An account or address is locked by its attempt rows; without them it may sign in again.
        who = sorted({f"{a.username or '?'} from {a.ip_address or '?'}" for a in queryset})
        queryset.delete()
        self.message_user(request, f"Unlocked: {', '.join(who)}.")
