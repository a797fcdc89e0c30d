"""A posecoach client: the REST calls and the WebSocket stream ``posecoach client`` uses.

It talks to a server over the network only; nothing here loads the pose engine.
"""
