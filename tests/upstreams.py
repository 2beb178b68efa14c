"""The settings' environment that points the gateway at a running sandbox's agencies.

Each agency's timeout is a bound on a hung call, not a speed requirement: a sandbox started
in a test's own process shares its interpreter, and a loaded machine must not turn a slow
answer into missing data. Tests about timeouts set their own.
"""

from __future__ import annotations

from sandbox import RunningSandbox

GENEROUS = 10.0  # seconds


def agency_env(sandbox: RunningSandbox, timeout: float = GENEROUS) -> dict[str, str]:
    """``UNEFOIS_<AGENCY>_URL`` and ``UNEFOIS_<AGENCY>_TIMEOUT`` for every agency of
    ``sandbox``."""
    env = {}
    for name, url in sandbox.urls.items():
        env[f"UNEFOIS_{name.upper()}_URL"] = url
        env[f"UNEFOIS_{name.upper()}_TIMEOUT"] = str(timeout)
    return env
