"""Ray Serve: the ingress deployment (the Starlette app) and the batched pose deployment.

The only package that imports ``ray``. Deployments are thin shells over plain code
(``PoseEngine``, ``run_batch``, the API's app factory). ``ray_config.yaml`` at the
repository root builds the application through :func:`inference.serve.app.build`.
"""
