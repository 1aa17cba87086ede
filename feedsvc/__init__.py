"""feedsvc: republishes RT Arabic as clean, per-topic Atom and JSON feeds.

The package is laid out by pipeline stage::

    fetch → discover/extract → normalize → dedupe → topics → store → render → web

``pipeline`` wires the stages together; ``scheduler`` only ticks it.
"""

__version__ = "0.1.0"
