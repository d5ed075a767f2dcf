from django.http import HttpRequest, HttpResponse
from django.urls import path

from django_cas_ng import views
from django_cas_ng.decorators import login_required, permission_required
from django_cas_ng.stepup import StepUpView


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"home {request.user.get_username()}")


@login_required
def private(request: HttpRequest) -> HttpResponse:
    return HttpResponse("private")


@permission_required("auth.add_user")
def staff_only(request: HttpRequest) -> HttpResponse:
    return HttpResponse("staff")


urlpatterns = [
    path("", home, name="home"),
    path("private/", private, name="private"),
    path("staff/", staff_only, name="staff"),
    path("accounts/login/", views.LoginView.as_view(), name="cas_ng_login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="cas_ng_logout"),
    path("accounts/callback/", views.CallbackView.as_view(), name="cas_ng_proxy_callback"),
    path("accounts/stepup/", StepUpView.as_view(), name="cas_ng_stepup"),
]
