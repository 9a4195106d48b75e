"""The safety gate: tier every action and shell command T1-T4 and answer allow, ask or block.

Import-free on purpose: ``guardrails.py hook`` runs before every tool call of an assistant, so
importing this package must cost nothing. Use the modules directly:

    from skill.guardrails.engine import check_action, check_command
"""
