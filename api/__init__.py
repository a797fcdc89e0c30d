"""posecoach API: the Starlette front end (REST, auth, WebSocket sessions)."""
