"""The official Langfuse SDK beside the distro's Langfuse exporter: one path sends, not both.

The SDK adds its span processor to the global provider (the distro's, or one the distro put
behind its chain). With the distro's Langfuse exporter on for the same project, every span
would reach Langfuse twice. The exporter sends (it sits behind the privacy chain and maps every
GenAI convention); the SDK's processor stands down, and one warning says so.
"""

from __future__ import annotations

import logging

from otel_distro.runtime.say_once import SayOnce

_logger = logging.getLogger("otel_distro")
_say = SayOnce(_logger)


def is_langfuse_sdk_processor(processor: object) -> bool:
    kind = type(processor)
    return kind.__module__.startswith("langfuse") and any(
        base.__name__ == "LangfuseSpanProcessor" for base in kind.__mro__
    )


def stands_down(processor: object, public_key: str | None) -> bool:
    """Whether ``processor`` is the Langfuse SDK's, for the project the distro already sends to."""
    if not public_key or not is_langfuse_sdk_processor(processor):
        return False
    if getattr(processor, "public_key", None) != public_key:
        return False
    _say(
        "stands down",
        "otel-distro: the Langfuse SDK's span processor for project %s stands down: otel-distro's "
        "Langfuse exporter already sends every span to that project (redacted, every GenAI "
        "convention mapped), so each would arrive twice",
        public_key,
    )
    return True
