"""Verifying as this instance does: its trust policy and own issuers, the fetcher that answers
its own documents from its database, and one plain reading of a report for pages."""
