"""One switch for the distro's own output: every logger of ours is under ``otel_distro``."""

from __future__ import annotations

import importlib
import logging
import pkgutil

import pytest

PACKAGES = ("otel_distro", "processors", "exporters", "instrumentations")


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        module = importlib.import_module(package)
        names.append(package)
        names += [info.name for info in pkgutil.walk_packages(module.__path__, f"{package}.")]
    return names


@pytest.mark.parametrize("name", _modules())
def test_every_module_logs_under_otel_distro(name: str) -> None:
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:  # an extra's module (serve: starlette) where it is not installed
        if (exc.name or "").split(".")[0] in PACKAGES:
            raise
        pytest.skip(f"{name} needs {exc.name}, an optional dependency not installed here")
    logger = getattr(module, "_logger", None)
    if isinstance(logger, logging.Logger):
        assert logger.name == "otel_distro" or logger.name.startswith("otel_distro."), logger.name
