"""The dangerous parts: private keys (generation, encryption at rest, the key store) and
signing. The bytes that get signed come from ``verifier``; only the private key is added here."""
