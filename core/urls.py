from django.urls import path

from core import probes, views, views_mfa, views_users

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    path("accounts/mfa/", views_mfa.verify, name="mfa_verify"),
    path("accounts/mfa/enrol/", views_mfa.enrol, name="mfa_enrol"),
    path("accounts/users/", views_users.user_list, name="users"),
    path("accounts/users/<int:user_id>/", views_users.user_detail, name="user"),
    path("accounts/users/<int:user_id>/mfa-reset/", views_mfa.reset, name="mfa_reset"),
    path("health/", views.health, name="health"),
    path("health/live/", probes.live, name="health_live"),
    path("health/ready/", probes.ready, name="health_ready"),
    path("metrics", probes.metrics, name="metrics"),
    path("notices/", views.notices, name="notices"),
    path("accounts/tokens/", views.api_tokens, name="api_tokens"),
]
