from django.conf import settings
from django.urls import include, path
from django.views.generic import RedirectView

from vetvol.accounts.views import home
from vetvol.api import api
from vetvol.core.views import healthz
from vetvol.notify import views as notify_views

urlpatterns = [
    path("favicon.ico", RedirectView.as_view(url=settings.STATIC_URL + "favicon.svg", permanent=True)),
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("sw.js", notify_views.service_worker, name="service_worker"),
    path("manifest.webmanifest", notify_views.manifest, name="manifest"),
    path("accounts/", include("vetvol.accounts.urls")),
    path("regions/", include("vetvol.regions.urls")),
    path("registry/", include("vetvol.registry.urls")),
    path("activities/", include("vetvol.activities.urls")),
    path("dispatch/", include("vetvol.dispatch.urls")),
    path("care/", include("vetvol.care.urls")),
    path("notify/", include("vetvol.notify.urls")),
    path("fund/", include("vetvol.fund.urls")),
    path("stats/", include("vetvol.stats.urls")),
    path("national/", include("vetvol.national.urls")),
    path("core/", include("vetvol.core.urls")),
    path("public/", include("vetvol.portal.urls")),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]
