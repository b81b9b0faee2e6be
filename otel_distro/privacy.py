"""The privacy processors the settings ask for: project-ID hashing, then PII redaction.

The hashing key is ``TELEMETRY_HASH_KEY``, else a per-install random key kept in the store
(``hash.key``, mode 0600) so hashes stay stable across restarts; if the store cannot hold
it, a key for this process only is used and a warning says hashes will not match later runs.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from otel_distro.problems import Problems
from otel_distro.runtime.files import private_dirs
from otel_distro.runtime.worker import run_later
from otel_distro.settings import Settings
from processors.base import RecordProcessor

_logger = logging.getLogger("otel_distro")

KEY_FILE = "hash.key"


def install_key(store_dir: Path) -> bytes:
    """The per-install key, created once (0600) and read by every later process."""
    path = store_dir / KEY_FILE
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    private_dirs(store_dir)
    key = secrets.token_hex(32).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


def hash_key(settings: Settings) -> bytes:
    if settings.hash_key:
        return settings.hash_key.encode()
    try:
        key = install_key(settings.store_dir)
        if key:
            return key
    except OSError as exc:
        _logger.warning(
            "otel-distro: cannot keep a hash key in %s (%s); project ids are hashed with a key for "
            "this process only, so they will not match other runs (set TELEMETRY_HASH_KEY)",
            settings.store_dir,
            exc,
        )
    return secrets.token_hex(32).encode()


def chain_processors(
    settings: Settings, problems: Problems, extra: tuple[RecordProcessor, ...] = ()
) -> tuple[RecordProcessor, ...]:
    """Every processor of the chain, in order: the second span of a model call that two
    instrumentations recorded marked (so GenAI readers count the call once), the privacy
    processors (plugin processors after them, or before where their table says
    ``redaction = "after"``), then those passed to ``configure(processors=...)``."""
    from otel_distro.plugins import plugin_processors
    from processors.genai_duplicates import DuplicateModelCalls

    before, after = plugin_processors(settings, problems) if settings.plugin_processors else ((), ())
    return (DuplicateModelCalls(), *before, *privacy_processors(settings, problems), *after, *extra)


def privacy_processors(settings: Settings, problems: Problems | None = None) -> list[RecordProcessor]:
    """Hashing first, then the content filter (when inputs or outputs are not to be kept), then
    redaction (when on), as every record must pass them before exporters.

    With presidio on (or an NER model named), a free-text scan follows the fast path.
    """
    from processors.hashing import ProjectHashingProcessor

    problems = problems or Problems()
    key = hash_key(settings)
    chain: list[RecordProcessor] = [ProjectHashingProcessor(key, settings.project_keys)]
    if not (settings.record_inputs and settings.record_outputs):
        from processors.content_filter import ContentFilter

        chain.append(ContentFilter(inputs=not settings.record_inputs, outputs=not settings.record_outputs))
    if not settings.pii_redaction:
        return chain
    from processors.hashing import KeyedDigest
    from processors.key_names import ALLOW_KEYS, DENY_KEYS
    from processors.pii import PiiRedactor
    from processors.redaction import RedactionProcessor

    patterns = safe_patterns(settings, problems)
    fast, deep = known_entities(settings, problems, patterns)
    style = settings.redaction_style
    redactor = PiiRedactor(
        style=style,  # type: ignore[arg-type]
        hash_key=key if style == "hash" else None,
        entities=fast,
        patterns=patterns,
    )
    run_later(0, redactor.warm, "warm-redactor")  # its first span need not compile the patterns
    chain.append(
        RedactionProcessor(
            redactor,
            deny_keys=DENY_KEYS | set(settings.redaction_deny_keys),
            allow_keys=ALLOW_KEYS | set(settings.redaction_allow_keys),
            allow_values=settings.redaction_allow_values,
            id_keys=settings.redaction_id_keys,
            id_digest=KeyedDigest(key),
            cut_lengths=_cut_lengths(),
        )
    )
    if settings.redaction_presidio or settings.redaction_ner_model:
        from processors.free_text import FreeTextProcessor
        from processors.pii.presidio import PresidioScanner

        scanner = PresidioScanner(
            entities=deep,
            score_threshold=settings.redaction_score_threshold,
            ner_model=settings.redaction_ner_model,
            replace=redactor.replacement,
        )
        chain.append(FreeTextProcessor(scanner, settings.redaction_free_text_keys))
    return chain


def _cut_lengths() -> tuple[int | None, ...]:
    """The lengths the SDK cuts attribute values to: what its span limits read from
    OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT and OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT, as the providers
    it builds will (log records take the first)."""
    from opentelemetry.sdk.trace import SpanLimits

    limits = SpanLimits()
    return limits.max_attribute_length, limits.max_span_attribute_length


def safe_patterns(settings: Settings, problems: Problems) -> dict[str, str]:
    """The user's extra patterns that compile and cannot hang; each refused one is reported."""
    from processors.pii.custom import UnsafePatternError, compile_pattern

    accepted = {}
    for entity, source in settings.redaction_patterns:
        try:
            compile_pattern(entity, source)
        except UnsafePatternError as exc:
            problems.report(f"TELEMETRY_REDACTION_PATTERNS: {exc}; the pattern is not used")
            continue
        accepted[entity] = source
    return accepted


def known_entities(
    settings: Settings, problems: Problems, patterns: Mapping[str, str] | None = None
) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """The configured entity types for the fast path and for presidio (``None``: their defaults).

    An unknown type is reported by name and ignored; the user's pattern names are known types.
    """
    from processors.pii import ENTITIES
    from processors.pii.presidio import ENTITIES as PRESIDIO_ENTITIES

    wanted = tuple(entity.upper() for entity in settings.redaction_entities)
    if not wanted:
        return None, None
    known = (*ENTITIES, *PRESIDIO_ENTITIES, *(patterns or {}))
    unknown = [entity for entity in wanted if entity not in known]
    if unknown:
        problems.report(
            f"TELEMETRY_REDACTION_ENTITIES names {', '.join(unknown)}, which are not entity types; "
            f"accepted: {', '.join(known)}"
        )
    if len(unknown) == len(wanted):  # nothing usable named: redact everything rather than nothing
        return None, None
    fast = tuple(entity for entity in wanted if entity in ENTITIES or entity in (patterns or {}))
    deep = tuple(entity for entity in wanted if entity in PRESIDIO_ENTITIES)
    return fast, deep
