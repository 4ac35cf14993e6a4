"""Laurel as an OAuth 2.0 authorization server for learners' data (the OB 3.0 API): client
registration (``clients``), the grants and endpoints built on Authlib (``server``), and checking
bearer access tokens and the connected applications a learner sees (``tokens``)."""
