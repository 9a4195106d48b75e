"""The agent: a LangGraph graph that routes requests and events to tool nodes, gates and executes changes through skill.changes, and records outcomes."""
