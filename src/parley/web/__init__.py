"""Pages served to browsers: the OAuth login page now; the desktop and console later."""

from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
