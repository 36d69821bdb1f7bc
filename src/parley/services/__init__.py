"""Use cases. Each opens one unit of work; none knows about HTTP or SQL."""
