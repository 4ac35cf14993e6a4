"""The learner's wallet: the badges they hold, sharing links and public profiles, and imports
of badges from other issuers."""
