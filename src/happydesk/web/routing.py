"""Websocket routes (presence and live updates arrive with the workspace)."""

websocket_urlpatterns: list = []
