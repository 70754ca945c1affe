"""Where the packaged defaults live: `config/` and `templates/` beside the packages.

yuqing is installed editable from its source tree (`make` does this), so the data directories
are found relative to this file rather than copied into site-packages.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_DIR = ROOT / "config"
TEMPLATES_DIR = ROOT / "templates"
