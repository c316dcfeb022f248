from django.urls import path

from recognition import consumers

websocket_urlpatterns = [
    path(
        "ws/deployments/<int:deployment_id>/alerts/",
        consumers.AlertConsumer.as_asgi(),
        name="alerts_socket",
    ),
]
