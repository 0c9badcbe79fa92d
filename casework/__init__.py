"""The domain: contacts, cases, messages, intake, outbox, privacy and audit.

Nothing here knows about HTTP or any particular channel.
"""
