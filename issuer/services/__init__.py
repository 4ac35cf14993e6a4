"""Issuer services: plain functions over a ``Services`` bundle. They never import FastAPI."""
