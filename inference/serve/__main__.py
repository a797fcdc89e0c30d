"""``python -m inference.serve``: run ray_config.yaml on an embedded local Ray."""

import sys

from inference.serve.runner import main

sys.exit(main())
