"""Proof formats: Data Integrity (embedded) and VC-JWT (enveloping)."""
