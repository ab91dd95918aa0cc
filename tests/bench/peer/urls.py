from django.urls import path

from tests.bench.peer import views

urlpatterns = [
    path("tasks/", views.submit_task),
    path("tasks/<str:task_id>/", views.task_status),
    path("noops/", views.submit_noops),
    path("groups/<str:group_id>/", views.group_status),
    path("stats/", views.submit_stats),
]
