from django.contrib import admin
from django.urls import path
from django.views.decorators.http import require_safe

from negotiations import views
from negotiations.api import api
from negotiations.pagecache import cached

# A database that cannot be reached is a 503, not a 500 (see negotiations.errors).
handler500 = "negotiations.errors.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("overview/", views.overview, name="overview"),
    path("search/", views.search, name="search"),
    path("compare/", views.compare, name="compare"),
    path("demands/<slug:code>/", views.demand_detail, name="demand"),
    path("proposals/<slug:slug>/", views.proposal_detail, name="proposal"),
    path("topics/<slug:slug>/", views.topic_detail, name="topic"),
    path("sources/", views.source_list, name="sources"),
    path("sources/<slug:slug>/", views.source_detail, name="source"),
    path("parties/<slug:slug>/", views.party_detail, name="party"),
    path("rounds/", views.rounds, name="rounds"),
    path("changes/", views.changes, name="changes"),
    path("about/", views.about, name="about"),
    path("about/dataset.json", views.dataset, name="dataset"),
    # A Feed instance answers any method; the feed is read-only.
    path("changes/feed/", cached()(require_safe(views.ChangesFeed())), name="changes-feed"),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("api/", api.urls),
]
