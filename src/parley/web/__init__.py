"""What browsers are served: the OAuth login page (`templates/`, rendered by the API's
/oauth/authorize) and the pages built on the public API (`static/`: agent desktop, admin
console, supervisor view, handset simulator, served by `pages.py`)."""

from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
