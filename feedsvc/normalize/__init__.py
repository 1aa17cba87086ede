"""Normalization: Arabic text for matching (``arabic``), article HTML for serving
(``html``), article URLs to one canonical form and the site's id (``urls``), and
the canonical ``Article`` (``article``)."""
