"""The files of the browser pages: the OAuth login template, and the static pages and
scripts of the agent desktop, admin console, supervisor view and handset simulator.

Only files live here; the API layer serves them (`api/routes/pages.py`,
`api/routes/oauth.py`), so nothing under web/ imports the layers above it.
"""

from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
