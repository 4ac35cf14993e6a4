"""Telling people and systems: learners' emails (``emails``, ``optout``) and issuers' webhooks
(``webhooks`` to manage endpoints, ``deliveries`` to send, ``signing`` for the signature)."""
