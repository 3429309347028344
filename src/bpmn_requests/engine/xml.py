"""Safe XML reading for uploaded diagrams: no entities, no network, bounded size."""

from __future__ import annotations

from lxml import etree

from ..domain.errors import ValidationFailed

MAX_XML_BYTES = 5 * 1024 * 1024


def safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
                           dtd_validation=False, remove_comments=False, remove_blank_text=False)


def parse_xml(content: bytes, source: str) -> etree._Element:
    """Parse one XML file or refuse with its name and line."""
    if len(content) > MAX_XML_BYTES:
        raise ValidationFailed(f"{source}: {len(content)} bytes is larger than the limit of "
                               f"{MAX_XML_BYTES} bytes", field=source)
    if b"<!DOCTYPE" in content[:4096] or b"<!ENTITY" in content:
        raise ValidationFailed(f"{source}: DOCTYPE and entity declarations are not allowed in diagrams",
                               field=source)
    try:
        return etree.fromstring(content, safe_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or 0
        raise ValidationFailed(f"{source}, line {line}: not well-formed XML: {exc.msg}",
                               field=source) from None
