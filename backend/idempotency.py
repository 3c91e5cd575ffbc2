"""Idempotency-Key: the first answer to a station's request is stored and replayed to every
retry with the same key; the same key with a different request is refused (422)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.models import IdempotentResponse
from backend.services import Services


def digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _replay(stored: IdempotentResponse, endpoint: str, request_hash: str) -> JSONResponse:
    if stored.endpoint != endpoint or stored.request_hash != request_hash:
        raise HTTPException(422, detail="Idempotency-Key was already used with a different request")
    return JSONResponse(
        stored.body, status_code=stored.status_code, headers={"Idempotent-Replayed": "true"}
    )


def lookup(
    svc: Services, station: str, key: str | None, endpoint: str, request_hash: str
) -> JSONResponse | None:
    """The stored answer for this key, or None when the key is new (or absent)."""
    if key is None:
        return None
    with svc.db.session() as s:
        stored = s.get(IdempotentResponse, (station, key))
        return None if stored is None else _replay(stored, endpoint, request_hash)


def remember(
    svc: Services,
    station: str,
    key: str | None,
    *,
    endpoint: str,
    request_hash: str,
    answer: tuple[int, dict[str, Any]],
) -> None:
    """Store an answer given outside run() (the first one stored wins)."""
    if key is None:
        return
    try:
        with svc.db.session() as s:
            s.add(
                _row(svc, station, key, endpoint=endpoint, request_hash=request_hash, answer=answer)
            )
    except IntegrityError:
        pass


def _row(
    svc: Services,
    station: str,
    key: str,
    *,
    endpoint: str,
    request_hash: str,
    answer: tuple[int, dict[str, Any]],
) -> IdempotentResponse:
    return IdempotentResponse(
        station_id=station,
        key=key,
        endpoint=endpoint,
        request_hash=request_hash,
        status_code=answer[0],
        body=answer[1],
        created_at=svc.settings.now(),
    )


def run(
    svc: Services,
    station: str,
    key: str | None,
    endpoint: str,
    raw: bytes,
    *,
    work: Callable[[Session], tuple[int, dict[str, Any]]],
) -> JSONResponse:
    """Run `work` once per key, in the same transaction that stores its answer."""
    request_hash = digest(raw)
    replay = lookup(svc, station, key, endpoint, request_hash)
    if replay is not None:
        return replay
    try:
        with svc.db.session() as s:
            status, body = work(s)
            if key is not None:
                s.add(
                    _row(
                        svc,
                        station,
                        key,
                        endpoint=endpoint,
                        request_hash=request_hash,
                        answer=(status, body),
                    )
                )
    except IntegrityError:
        if key is None:
            raise
        replay = lookup(svc, station, key, endpoint, request_hash)  # a concurrent twin won
        assert replay is not None
        return replay
    return JSONResponse(body, status_code=status)
