"""Normalization: Arabic text for matching (``arabic``) and article HTML for serving (``html``)."""
