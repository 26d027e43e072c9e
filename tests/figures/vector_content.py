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


def svg_image_ids(data: bytes) -> list[str]:
    """The id of every <image> element, in document order."""
    root = ElementTree.fromstring(data)
    return [element.get("id", "") for element in root.iter() if element.tag == f"{SVG}image"]


def svg_texts(data: bytes) -> list[str]:
    """The text of every <text> element (figures keep text as text: ``svg.fonttype`` none)."""
    root = ElementTree.fromstring(data)
    return ["".join(element.itertext()) for element in root.iter() if element.tag == f"{SVG}text"]


def pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", data))


def pdf_stroke_colours(data: bytes) -> set[tuple[float, float, float]]:
    """Every RGB stroke colour (``r g b RG``) the pages set, rounded to two decimals."""
    found = re.findall(rb"([\d.]+) ([\d.]+) ([\d.]+) RG", pdf_content(data))
    return {(round(float(r), 2), round(float(g), 2), round(float(b), 2)) for r, g, b in found}


def pdf_marker_uses(data: bytes) -> int:
    """How often a marker (a scatter point: a vector path stored once as ``/M…``) is placed."""
    return len(re.findall(rb"/M\d+ Do", pdf_content(data)))


def svg_image_pixels(data: bytes) -> dict[str, bytes]:
    """id → the embedded PNG bytes of every inline <image>."""
    import base64

    root = ElementTree.fromstring(data)
    images = {}
    for element in root.iter():
        if element.tag == f"{SVG}image":
            href = element.get("{http://www.w3.org/1999/xlink}href", "")
            images[element.get("id", "")] = base64.b64decode(href.split(",", 1)[1])
    return images


def svg_marker_uses(data: bytes, id_prefix: str) -> int:
    """Number of placed markers (<use>: one per scatter point) inside elements whose id starts with
    ``id_prefix`` (each scatter also defines its marker once as a <path>)."""
    root = ElementTree.fromstring(data)
    return sum(
        1
        for element in root.iter()
        if element.get("id", "").startswith(id_prefix)
        for child in element.iter()
        if child.tag == f"{SVG}use"
    )


def svg_ids(data: bytes) -> list[str]:
    """The id of every element that has one, in document order."""
    return [e.get("id", "") for e in ElementTree.fromstring(data).iter() if e.get("id")]
