"""feedsvc: republishes RT Arabic as clean, per-topic Atom and JSON feeds.

The package is laid out by pipeline stage::

    fetch → discover/extract → normalize → dedupe → topics → store → render → publish → web

``pipeline`` wires the stages together for one poll; ``scheduler`` only ticks it;
``service`` builds every part from the settings, and ``changes`` carries "these topics
changed" from the pipeline and topic reloads to the feed cache and WebSub.
"""

__version__ = "0.1.0"
