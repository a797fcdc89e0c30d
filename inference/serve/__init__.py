"""Ray Serve: the ingress deployment (the Starlette app) and the batched pose deployment.

The composition root and the top layer: the only package that imports ``ray``, and the
one that builds the API (the Ingress calls :func:`api.app.create_app`; the ``posecoach``
console script is :mod:`inference.serve.cli`). Deployments are thin shells over plain code
(``PoseEngine`` through :mod:`inference.engine_batch`, the API's app). ``ray_config.yaml``
at the repository root builds the application through :func:`inference.serve.app.build`.
"""
