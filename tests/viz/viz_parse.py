"""Test helpers: read the nodes and edges back out of DOT text and the node groups out of SVG."""

import re
import xml.etree.ElementTree as ET

_NODE = re.compile(r'^\s*"(?P<id>[^"]+)" \[(?P<attrs>.*)\];$')
_EDGE = re.compile(r'^\s*"(?P<src>[^"]+)" -> "(?P<dst>[^"]+)" \[(?P<attrs>.*)\];$')
_ATTR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^,\s]+)')
SVG_NS = {"svg": "http://www.w3.org/2000/svg", "xlink": "http://www.w3.org/1999/xlink"}


def _attrs(text: str) -> dict[str, str]:
    out = {}
    for key, value in _ATTR.findall(text):
        if value.startswith('"'):
            if key == "tooltip":  # backslashes are escaped twice in tooltips
                value = value.replace("\\\\\\\\", "\x00")
            value = re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), value[1:-1])
            value = value.replace("&amp;", "&").replace("\x00", "\\")
        out[key] = value
    return out


def dot_nodes(dot: str) -> dict[str, dict[str, str]]:
    """Node id -> attributes (unescaped) for every node statement of the DOT text."""
    return {m["id"]: _attrs(m["attrs"]) for m in map(_NODE.match, dot.splitlines()) if m}


def dot_edges(dot: str) -> list[tuple[str, str, dict[str, str]]]:
    """(source, target, attributes) for every edge statement."""
    return [(m["src"], m["dst"], _attrs(m["attrs"])) for m in map(_EDGE.match, dot.splitlines()) if m]


def classes(attrs: dict[str, str]) -> set[str]:
    return set(attrs.get("class", "").split())


def svg_groups(svg: str) -> dict[str, set[str]]:
    """SVG ``<g>`` id -> its classes, for groups with a class."""
    root = ET.fromstring(svg)
    return {g.get("id"): set(g.get("class").split()) for g in root.iter("{http://www.w3.org/2000/svg}g")
            if g.get("class")}


def svg_texts(svg: str, group_id: str) -> list[str]:
    """The text lines drawn inside the group with id ``group_id``."""
    root = ET.fromstring(svg)
    for g in root.iter("{http://www.w3.org/2000/svg}g"):
        if g.get("id") == group_id:
            return [t.text or "" for t in g.iter("{http://www.w3.org/2000/svg}text")]
    raise KeyError(group_id)


def svg_tooltip(svg: str, group_id: str) -> str:
    """The hover text (``xlink:title``) of the group with id ``group_id``."""
    root = ET.fromstring(svg)
    for g in root.iter("{http://www.w3.org/2000/svg}g"):
        if g.get("id") == group_id:
            for a in g.iter("{http://www.w3.org/2000/svg}a"):
                return a.get("{http://www.w3.org/1999/xlink}title")
    raise KeyError(group_id)
