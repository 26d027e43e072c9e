"""Reading back what an exported figure holds: SVG elements by id, PDF drawing operators and images."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
import zlib

SVG = "{http://www.w3.org/2000/svg}"


def svg_paths_under(data: bytes, id_prefix: str) -> int:
    """Number of <path>/<use> elements inside elements whose id starts with ``id_prefix``."""
    root = ElementTree.fromstring(data)
    count = 0
    for element in root.iter():
        if element.get("id", "").startswith(id_prefix):
            count += sum(1 for child in element.iter() if child.tag in (f"{SVG}path", f"{SVG}use"))
    return count


def svg_images(data: bytes) -> int:
    return sum(1 for element in ElementTree.fromstring(data).iter() if element.tag == f"{SVG}image")


def pdf_content(data: bytes) -> bytes:
    """All decompressed content streams of a PDF, joined."""
    streams = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            streams.append(zlib.decompress(raw))
        except zlib.error:
            continue  # an image or font stream
    return b"\n".join(streams)


def pdf_path_operators(data: bytes) -> int:
    """Line-to, curve-to and rectangle operators: the vector drawing in the PDF's pages."""
    return len(re.findall(rb"(?:^|\s)(?:l|c|re)\s", pdf_content(data)))


def pdf_images(data: bytes) -> int:
    return data.count(b"/Subtype /Image")
