"""Silence third-party chatter (diffusers/transformers progress bars, truncation notices) in farm logs.

vfxgen reports progress itself (rich bar on a TTY, one line per shot otherwise); `--debug` keeps the
libraries' own logging.
"""

from __future__ import annotations

import os


def quiet_libraries() -> None:
    """Errors only from diffusers and transformers, no tqdm bars; a no-op under VFXGEN_DEBUG."""
    if os.environ.get("VFXGEN_DEBUG", "") not in ("", "0"):
        return
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    diffusers_logging.set_verbosity_error()
    diffusers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()
