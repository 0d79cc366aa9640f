"""Xero answers XML unless the client asks for JSON (`Accept: application/json`). The
sandbox does the same, so a client that forgets the header fails here as it would there.
The XML is a faithful-enough rendering of the same data (element names as Xero's)."""

import json
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from fastapi.responses import Response

_ITEM = {
    "Addresses": "Address",
    "Tracking": "TrackingCategory",
    "Elements": "DataContractBase",
    "Accounts": "Account",
    "Organisations": "Organisation",
}


def wants_json(accept: str | None) -> bool:
    return accept is not None and "json" in accept.lower()


def as_xml(answer: Response) -> Response:
    body = json.loads(bytes(answer.body))
    root_name = "ApiException" if isinstance(body, dict) and "ErrorNumber" in body else "Response"
    root = Element(root_name)
    _fill(root, body)
    content = tostring(root, encoding="utf-8", xml_declaration=False)
    headers = {k: v for k, v in answer.headers.items() if k.lower().startswith("x")}
    return Response(content, answer.status_code, headers, media_type="text/xml; charset=utf-8")


def _fill(node: Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if item is not None:
                _fill(SubElement(node, key), item)
    elif isinstance(value, list):
        name = _ITEM.get(node.tag, node.tag[:-1] if node.tag.endswith("s") else node.tag)
        for item in value:
            _fill(SubElement(node, name), item)
    elif isinstance(value, bool):
        node.text = "true" if value else "false"
    else:
        node.text = str(value)
