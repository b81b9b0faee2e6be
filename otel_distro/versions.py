"""Whether the installed OpenTelemetry API, SDK and contrib instrumentations belong together.

OTel releases the API and SDK as ``1.y.z`` and the contrib packages
(``opentelemetry-instrumentation`` and the instrumentations) as ``0.(y+21)bN`` on the same day:
SDK 1.45 goes with contrib 0.66. ``opentelemetry-bootstrap`` pins the instrumentations to its
own version, which the package index may not have, and an instrumentation installed unpinned
can pull the API below the SDK: :func:`version_warnings` names what does not fit. Packages of
the contrib repository released on their own line (``opentelemetry-instrumentation-genai-*``,
``-openai-v2``: versions 1.x, 2.x) are not compared.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib import metadata

from otel_distro.runtime.errors import caught

API, SDK, CONTRIB = "opentelemetry-api", "opentelemetry-sdk", "opentelemetry-instrumentation"
# SDK 1.y goes with contrib 0.(y + CONTRIB_OFFSET).
CONTRIB_OFFSET = 21
_RELEASE = re.compile(r"(\d+)\.(\d+)")


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_versions() -> dict[str, str]:
    """Versions of the API, the SDK and every ``opentelemetry-instrumentation*`` distribution
    importable here (the first found on ``sys.path`` for each name)."""
    found: dict[str, str] = {}
    for dist in metadata.distributions():
        try:
            name = _normalized(dist.metadata["Name"] or "")
            version = dist.version
        except Exception as exc:  # noqa: BLE001 - a broken dist-info is not ours to report here
            caught("reading installed versions", exc)
            continue
        if name in (API, SDK) or name.startswith(CONTRIB):
            found.setdefault(name, version)
    return found


def _minor(version: str) -> tuple[int, int] | None:
    match = _RELEASE.match(version)
    return (int(match[1]), int(match[2])) if match else None


def version_warnings(versions: Mapping[str, str] | None = None) -> list[str]:
    """One sentence per package that does not fit the installed SDK (empty when all do)."""
    versions = installed_versions() if versions is None else versions
    warnings: list[str] = []
    api, sdk = versions.get(API), versions.get(SDK)
    if api and sdk and api != sdk:
        warnings.append(
            f"{API} {api} and {SDK} {sdk} differ; the SDK is made for its own API version "
            f"(pip install '{API}=={sdk}')"
        )
    sdk_release = _minor(sdk) if sdk else None
    if sdk_release is None or sdk_release[0] != 1:
        return warnings
    expected = sdk_release[1] + CONTRIB_OFFSET
    base = versions.get(CONTRIB, "")
    pin = f"=={base}" if _minor(base) == (0, expected) else f">=0.{expected}b0,<0.{expected + 1}"
    for name, version in sorted(versions.items()):
        release = _minor(version)
        if not name.startswith(CONTRIB) or release is None or release[0] != 0:
            continue  # not a contrib package on the 0.x line
        if release[1] != expected:
            warnings.append(
                f"{name} {version} is not of the contrib release that goes with {SDK} {sdk} "
                f"(0.{expected}bN): pip install '{name}{pin}' (see the README, Install)"
            )
    return warnings
