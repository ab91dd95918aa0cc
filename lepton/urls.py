from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("jobs.api.urls")),
    # Monitoring: /livez, /healthz, /readyz, /metrics (the health page is in admin).
    path("", include("monitoring.urls")),
]
