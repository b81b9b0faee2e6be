"""GenAI and agent instrumentation helpers, in the OpenTelemetry GenAI semantic conventions.

They use the OpenTelemetry API only, so they work under any SDK or distro (and do nothing,
cheaply, with none). No exception from a helper reaches the caller; the caller's own
exceptions pass through, recorded on the span.
"""

from instrumentations.decorators import instrument_method, trace_agent_run, trace_tool_execution
from instrumentations.records import (
    record_conversation_turn,
    record_memory_operation,
    record_model_interaction,
    record_routing_decision,
)
from instrumentations.runs import RunHandle, end_run, get_run, start_run, track_run

__all__ = [
    "RunHandle",
    "end_run",
    "get_run",
    "instrument_method",
    "record_conversation_turn",
    "record_memory_operation",
    "record_model_interaction",
    "record_routing_decision",
    "start_run",
    "trace_agent_run",
    "trace_tool_execution",
    "track_run",
]
