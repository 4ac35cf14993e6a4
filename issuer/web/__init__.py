"""Public HTML pages: the verification page a QR code points to, and /verify for any badge."""
