from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("jobs.api.urls")),
    path("api/", include("jobs.api.openapi")),
]

handler404 = "lepton.errors.not_found"
handler500 = "lepton.errors.server_error"
