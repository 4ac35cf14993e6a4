"""Artifacts of a credential: badge images, QR codes and printable certificates.

Modules: :mod:`.fonts` (bundled Latin + Hangul font), :mod:`.images` (badge PNG/SVG),
:mod:`.qr` (verification QR codes) and :mod:`.certificate` (A4 PDF certificate).
See docs/artifacts.md.
"""
