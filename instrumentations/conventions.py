"""The attribute names and operation names the helpers emit and the compliance check expects.

GenAI names are those of the OpenTelemetry GenAI semantic conventions (memory operations
follow the proposed memory conventions); ``agent.run.*`` and ``routing.*`` are ours, for what
the conventions do not cover yet.
"""

OPERATION = "gen_ai.operation.name"
PROVIDER = "gen_ai.provider.name"
AGENT_NAME = "gen_ai.agent.name"
AGENT_ID = "gen_ai.agent.id"
AGENT_DESCRIPTION = "gen_ai.agent.description"
CONVERSATION_ID = "gen_ai.conversation.id"
USER_ID = "user.id"
REQUEST_MODEL = "gen_ai.request.model"
RESPONSE_MODEL = "gen_ai.response.model"
RESPONSE_ID = "gen_ai.response.id"
FINISH_REASONS = "gen_ai.response.finish_reasons"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
INPUT_MESSAGES = "gen_ai.input.messages"
OUTPUT_MESSAGES = "gen_ai.output.messages"
TOOL_NAME = "gen_ai.tool.name"
TOOL_TYPE = "gen_ai.tool.type"
TOOL_DESCRIPTION = "gen_ai.tool.description"
TOOL_CALL_ID = "gen_ai.tool.call.id"
TOOL_ARGUMENTS = "gen_ai.tool.call.arguments"
TOOL_RESULT = "gen_ai.tool.call.result"
MEMORY_STORE_ID = "gen_ai.memory.store.id"
MEMORY_ID = "gen_ai.memory.id"
MEMORY_TYPE = "gen_ai.memory.type"
MEMORY_QUERY = "gen_ai.memory.query"
MEMORY_RESULT_COUNT = "gen_ai.memory.search.result.count"
ERROR_TYPE = "error.type"

RUN_ID = "agent.run.id"
RUN_JOB_TYPE = "agent.run.job_type"
RUN_STATUS = "agent.run.status"
RUN_ITEMS = "agent.run.items"  # .discovered, .succeeded, .failed
RUN_METRICS = "agent.run.metrics"  # .<custom name>
COMPONENT = "agent.component"
COMPONENT_OPERATION = "agent.component.operation"
ROUTING_DECISION = "routing.decision"
ROUTING_CANDIDATES = "routing.candidates"
ROUTING_REASON = "routing.reason"
ROUTING_SCORE = "routing.score"
VCS_REVISION = "vcs.ref.head.revision"
VCS_REPOSITORY = "vcs.repository.url.full"
VCS_PROVIDER = "vcs.provider.name"

INVOKE_AGENT = "invoke_agent"
EXECUTE_TOOL = "execute_tool"
CHAT = "chat"
MODEL_OPERATIONS = ("chat", "text_completion", "generate_content", "embeddings")
MEMORY_OPERATIONS = (
    "search_memory",
    "update_memory",
    "delete_memory",
    "create_memory",
    "upsert_memory",
    "create_memory_store",
    "delete_memory_store",
)
ROUTE = "route"
