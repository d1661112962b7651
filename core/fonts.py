"""Is a Chinese font installed for the PDFs?

WeasyPrint finds fonts through fontconfig. Without a CJK font (Debian: ``fonts-noto-cjk``) a
Chinese PDF renders every character as an empty box, and nothing in WeasyPrint says so. The
PDF renderers ask here first and refuse to store such a PDF; ``/health/`` reports it.
"""

from __future__ import annotations

import functools
import shutil
import subprocess

#: Put in the state of every stored PDF rendered with a CJK font: a PDF stored under a state
#: without it (rendered before this check existed, perhaps as boxes) is rendered again.
FONT_STATE = "cjk1"


@functools.lru_cache(maxsize=1)
def cjk_font_available() -> bool:
    """Whether fontconfig knows a font covering Chinese. Cached for the process: installing
    fonts needs a restart of the web and worker processes anyway."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    try:
        out = subprocess.run(
            [fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return bool(out.strip())
