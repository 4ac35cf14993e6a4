"""Issuing credentials: achievements, the one issuing path (single, bulk, xAPI, programme
awards), status lists and revocation, VC-JWTs and CLR transcripts."""
