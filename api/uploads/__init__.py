"""Uploaded videos: receiving them and the worker that analyses them."""
