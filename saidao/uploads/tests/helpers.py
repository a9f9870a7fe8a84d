"""Speaking tus through Django's test client."""

from __future__ import annotations

import base64
from typing import Any

from django.test import Client

from .conftest import PURPOSE, Worker

TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_TYPE = "application/offset+octet-stream"
COLLECTION = "/uploads/tus/"


def metadata(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def tus_create(
    client: Client,
    worker: Worker | None,
    size: int,
    *,
    purpose: str = PURPOSE,
    filename: str = "作品.mp4",
    filetype: str = "video/mp4",
    headers: dict[str, str] | None = None,
) -> Any:
    h = {
        **TUS,
        **(worker.auth if worker else {}),
        "Upload-Length": str(size),
        "Upload-Metadata": metadata(filename=filename, filetype=filetype, purpose=purpose),
        **(headers or {}),
    }
    return client.post(COLLECTION, headers=h)


def tus_patch(
    client: Client,
    worker: Worker | None,
    url: str,
    offset: int,
    data: bytes,
    *,
    content_type: str = OFFSET_TYPE,
    headers: dict[str, str] | None = None,
) -> Any:
    h = {**TUS, **(worker.auth if worker else {}), "Upload-Offset": str(offset), **(headers or {})}
    # The test client drops the Content-Type of an empty body; a real client sends it.
    return client.generic(
        "PATCH", url, data=data, content_type=content_type, headers=h, CONTENT_TYPE=content_type
    )


def tus_head(client: Client, worker: Worker | None, url: str) -> Any:
    return client.head(url, headers={**TUS, **(worker.auth if worker else {})})


def tus_delete(client: Client, worker: Worker | None, url: str) -> Any:
    return client.delete(url, headers={**TUS, **(worker.auth if worker else {})})


def upload_id(response: Any) -> str:
    return str(response["Location"]).rstrip("/").rsplit("/", 1)[-1]
