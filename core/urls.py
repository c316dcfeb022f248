from django.urls import path

from core import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    path("health/", views.health, name="health"),
    path("notices/", views.notices, name="notices"),
]
