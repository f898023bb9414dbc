"""What a demo site answers when it needs more than (status, content type, text): raw bytes,
headers of its own (or none), a delay, a body streamed without Content-Length."""

from dataclasses import dataclass, field


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: list = field(default_factory=list)  # [(name, value)], Content-Type included if any
    delay: float = 0.0  # seconds before answering (slow sites)
    chunks: object = None  # an iterable of bytes, sent after body, close-delimited (no Content-Length)


def json_reply(obj, status=200):
    import json

    body = json.dumps(obj, ensure_ascii=False, indent=1).encode("utf-8")
    return Reply(status, body, [("Content-Type", "application/json; charset=utf-8")])
