from django.urls import path

from monitoring import views

urlpatterns = [
    path("livez", views.livez, name="livez"),
    path("healthz", views.livez, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics, name="metrics"),
]
