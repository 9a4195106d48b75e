"""Webhook intake: payloads normalised to events, a durable inbox, and the `devops serve` receiver."""
