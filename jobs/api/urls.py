from rest_framework.routers import DefaultRouter

from jobs.api.views import JobTypeViewSet, JobViewSet

router = DefaultRouter()
router.register("jobs", JobViewSet, basename="job")
router.register("job-types", JobTypeViewSet, basename="job-type")

urlpatterns = router.urls
