"""``python -m inference.serve``: run ray_config.yaml on an embedded local Ray."""

import os
import sys

from inference.serve import loopback

# Before anything imports ray: Ray reads this environment once, at import.
loopback.prepare_environment(os.environ)

from inference.serve.runner import main  # noqa: E402 (must follow prepare_environment)

sys.exit(main())
