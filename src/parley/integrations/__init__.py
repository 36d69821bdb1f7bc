"""Adapters to the outside world that are neither carriers nor the store: HTTP data actions."""
