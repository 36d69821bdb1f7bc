"""Parley: a self-hosted SMS contact-centre server that speaks the Genesys Cloud API."""

__version__ = "0.1.0"
