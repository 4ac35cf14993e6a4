"""Laurel as an Open Badges 3.0 API client ("Service Consumer (Write)", 1EdTech OB 3.0 §6 and
its security profile): discover a host from its Service Description Document, register with it
(RFC 7591), connect a learner (authorization code with PKCE), push badges (``upsertCredential``)
with refreshing tokens and retries."""
