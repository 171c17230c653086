from django.urls import path

from vetvol.stats import views

app_name = "stats"
urlpatterns = [
    path("", views.index, name="index"),
    path("<str:code>/", views.dashboard, name="dashboard"),
    path("<str:code>/xlsx/<str:which>/", views.chart_xlsx, name="chart_xlsx"),
    path("<str:code>/civilisation.xlsx", views.civilisation_xlsx, name="civilisation"),
    path("<str:code>/population/", views.population, name="population"),
]
