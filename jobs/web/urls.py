from django.urls import path

from jobs.web import account, downloads, submission, views

urlpatterns = [
    path("account/", account.account_page, name="account"),
    path("account/token/", account.rotate_token, name="rotate-token"),
    path("jobs/", views.job_list, name="job-list"),
    path("jobs/new/", submission.job_types, name="job-new"),
    path("jobs/new/<str:type_name>/", submission.new_job, name="job-new-type"),
    path("jobs/<int:pk>/", views.job_detail, name="job-detail"),
    path("jobs/<int:pk>/progress/", views.job_progress, name="job-progress"),
    path("jobs/<int:pk>/cancel/", views.cancel, name="job-cancel"),
    path("jobs/<int:pk>/retry/", views.retry, name="job-retry"),
    path("jobs/<int:pk>/delete/", views.delete, name="job-delete"),
    path("jobs/<int:pk>/result.json", downloads.result_json, name="job-result-json"),
    path("jobs/<int:pk>/result.csv", downloads.result_csv, name="job-result-csv"),
]
