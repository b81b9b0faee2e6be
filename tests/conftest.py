"""For the whole suite: errors of the distro's own code are raised, not swallowed (in this
process and, through tests/support/proc.py's clean_env, in the child apps)."""

from __future__ import annotations

import os

from otel_distro.runtime.errors import STRICT_ENV

os.environ[STRICT_ENV] = "1"
