"""Master DevOps: the library behind the skill.

Kept import-free on purpose: ``guardrails.py hook`` runs on every tool call of an assistant,
so importing ``skill`` must not pull in langgraph, chromadb, anthropic or mcp. Each capability
lives in its own module and imports its heavy dependencies inside the functions that need them.
"""

__version__ = "0.1.0"
