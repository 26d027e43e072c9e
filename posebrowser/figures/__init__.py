"""The thesis' figures drawn with matplotlib (Agg canvases, no pyplot state), Qt-free.

:mod:`.panels` draws skeletons, images and frames on axes; :mod:`.thesis` builds whole figures from plain
arrays; :mod:`.live` gathers those arrays from an open gallery, engine and search result; :mod:`.export`
writes a figure as PNG, SVG or PDF (vector content for points, lines, bars and frames; images stay
bitmaps) at publication size.
"""
