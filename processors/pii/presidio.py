"""``PresidioScanner``: presidio-analyzer on free text, for what the fast path's patterns miss.

Presidio costs about a millisecond per string, so this is meant for a background thread and
for values known to be free text (prompts, answers). It loads on first use, not at import:
spaCy and presidio take seconds to import. Its recognizers run on a blank spaCy pipeline
(nothing downloaded); PERSON and LOCATION need a spaCy model, used only when it is
installed and named. Presidio's email recognizer is left out: it calls ``tldextract``,
which fetches the public-suffix list over the network, and the fast path finds emails.
If presidio cannot load, a warning says so and values pass with the fast path's redaction.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from otel_distro.runtime.errors import caught

_logger = logging.getLogger(f"otel_distro.{__name__}")

# Entity types presidio adds to the fast path with a blank pipeline; the fast path's own
# (email, phone, card, IBAN, IP, SSN) are not asked of it again. DATE_TIME and URL are left
# out by default: telemetry is full of timestamps and URLs that are not personal.
DEFAULT_ENTITIES = (
    "CRYPTO",
    "US_BANK_NUMBER",
    "US_DRIVER_LICENSE",
    "US_ITIN",
    "US_PASSPORT",
    "UK_NHS",
    "MEDICAL_LICENSE",
)
NER_ENTITIES = ("PERSON", "LOCATION")
ENTITIES = (*DEFAULT_ENTITIES, *NER_ENTITIES, "NRP", "ORGANIZATION", "DATE_TIME", "URL", "MAC_ADDRESS")
"""Every presidio entity type that may be named in the settings."""
_NETWORK_RECOGNIZERS = ("EmailRecognizer",)
_LANGUAGE = "en"


def _label(entity: str, value: str) -> str:
    return f"<{entity}>"


class PresidioScanner:
    """Finds presidio's entities in free text and replaces them; safe to share between threads."""

    def __init__(
        self,
        entities: Collection[str] | None = None,
        score_threshold: float = 0.5,
        ner_model: str | None = None,
        replace: Callable[[str, str], str] = _label,
    ) -> None:
        if entities is None:
            entities = (*DEFAULT_ENTITIES, *NER_ENTITIES) if ner_model else DEFAULT_ENTITIES
        self.entities = list(entities)
        self.score_threshold = score_threshold
        self.ner_model = ner_model
        self._replace = replace
        self._lock = threading.Lock()
        self._engine: Any = None
        self._failed = False

    def scan(self, text: str) -> tuple[str, Counter[str] | None]:
        """The text with each finding replaced, and counts per entity type (``None``: none)."""
        engine = self._engine if self._engine is not None else self._load()
        if engine is None or not text.strip() or not self.entities:
            return text, None
        results = engine.analyze(
            text, language=_LANGUAGE, entities=self.entities, score_threshold=self.score_threshold
        )
        if not results:
            return text, None
        chosen: list[Any] = []  # best first; a finding overlapping a better one is dropped
        for result in sorted(results, key=lambda r: (-r.score, r.start - r.end, r.start)):
            if all(result.end <= kept.start or result.start >= kept.end for kept in chosen):
                chosen.append(result)
        counts: Counter[str] = Counter()
        for result in sorted(chosen, key=lambda r: r.start, reverse=True):
            counts[result.entity_type] += 1
            replacement = self._replace(result.entity_type, text[result.start : result.end])
            text = text[: result.start] + replacement + text[result.end :]
        return text, counts

    def _load(self) -> Any:
        with self._lock:
            if self._engine is None and not self._failed:
                try:
                    self._engine = self._build()
                except Exception as exc:  # noqa: BLE001 - any failure: stay on the fast path
                    caught("loading presidio", exc)
                    self._failed = True
                    _logger.warning(
                        "otel-distro: presidio could not load (%r); free text gets the fast path's "
                        "redaction only",
                        exc,
                    )
            return self._engine

    def _build(self) -> Any:
        import spacy

        nlp = None
        if self.ner_model:
            if spacy.util.is_package(self.ner_model) or Path(self.ner_model).exists():
                nlp = spacy.load(self.ner_model)
            else:  # presidio would download it; we never do
                _logger.warning(
                    "otel-distro: spaCy model %r is not installed; presidio runs on a blank pipeline "
                    "without PERSON/LOCATION (install it with `python -m spacy download %s`)",
                    self.ner_model,
                    self.ner_model,
                )
        quiet = logging.getLogger("presidio-analyzer")  # it warns of every recognizer of other languages
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            return self._assemble(nlp)
        finally:
            quiet.setLevel(level)

    def _assemble(self, nlp: Any) -> Any:
        import spacy
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import SpacyNlpEngine

        engine = SpacyNlpEngine(models=[{"lang_code": _LANGUAGE, "model_name": self.ner_model or "blank"}])
        # Given loaded, so presidio never calls load(), which downloads missing models.
        engine.nlp = {_LANGUAGE: nlp if nlp is not None else spacy.blank(_LANGUAGE)}  # type: ignore[assignment]
        registry = RecognizerRegistry(supported_languages=[_LANGUAGE])
        registry.load_predefined_recognizers(nlp_engine=engine, languages=[_LANGUAGE])
        for name in _NETWORK_RECOGNIZERS:
            registry.remove_recognizer(name)
        return AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=[_LANGUAGE])
