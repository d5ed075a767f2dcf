"""The test URLs without the step-up view, which needs CAS 3 (check E101): for tests of a
site on another CAS version."""

from tests.urls import urlpatterns as base_urlpatterns

urlpatterns = [pattern for pattern in base_urlpatterns if pattern.name != "cas_ng_stepup"]
