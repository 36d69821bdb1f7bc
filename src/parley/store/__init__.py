"""The store adapter: SQLAlchemy Core over SQLite (embedded) or PostgreSQL (scaled)."""
