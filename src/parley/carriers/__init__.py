"""Carrier adapters: one file per kind of connection, each implementing `services.ports.Carrier`."""
