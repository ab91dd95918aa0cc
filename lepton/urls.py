from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from monitoring import feedback_views

urlpatterns = [
    # Admin's "View site" and a bare visit land on the user's jobs.
    path("", RedirectView.as_view(url="/jobs/", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/", include("jobs.api.urls")),
    # Monitoring: /livez, /healthz, /readyz, /metrics (the health page is in admin).
    path("", include("monitoring.urls")),
    path("accounts/", include("jobs.web.account_urls")),
    path("", include("jobs.web.urls")),
    path("feedback/", feedback_views.feedback_page, name="feedback"),
    path("api/", include("jobs.api.openapi")),
]

handler404 = "lepton.errors.not_found"
handler500 = "lepton.errors.server_error"
