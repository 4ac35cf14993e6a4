"""The ground every other package stands on: settings, the database engine and unit of work,
errors, UTC times, the audit chain, mail, and the ``Services`` bundle a call runs in."""
