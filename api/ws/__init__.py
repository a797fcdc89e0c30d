"""The real-time exercise WebSocket: ``/ws/exercise/{exercise_type}/`` (API.md)."""
