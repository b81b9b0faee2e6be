"""Configuration problems found while resolving: warned once each, raised (strict), or collected."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from otel_distro.settings import SettingsError

_logger = logging.getLogger("otel_distro")


@dataclass
class Problems:
    """Configuration problems found while resolving: warned, raised (strict), or collected (check)."""

    strict: bool = False
    collect: bool = False
    messages: list[str] = field(default_factory=list)

    def report(self, message: str) -> None:
        self.messages.append(message)
        if self.strict:
            raise SettingsError(message)
        if not self.collect:
            _logger.warning("otel-distro: %s", message)
