"""Encryption at rest for columns created with `encrypt: true`.

Values are sealed with AES-256-GCM under a per-project key kept in `<project dir>/encryption.key`
(mode 0600), a separate file from the database, so a copy of the database alone does not reveal them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .private_files import create_private

NONCE_BYTES = 12
PREFIX = "enc1:"


class Cipher:
    def __init__(self, key_path: Path) -> None:
        self.key_path = key_path
        self._aead: AESGCM | None = None

    @property
    def aead(self) -> AESGCM:
        if self._aead is None:
            self._aead = AESGCM(self._load_key())
        return self._aead

    def _load_key(self) -> bytes:
        if self.key_path.exists():
            return self.key_path.read_bytes()
        key = AESGCM.generate_key(bit_length=256)
        with open(create_private(self.key_path), "wb") as handle:
            handle.write(key)
        return key

    def derive(self, label: bytes) -> bytes:
        """A separate key for one purpose (e.g. signing JWTs), derived from the project key."""
        return hmac.new(self._load_key(), b"baas-mcp:" + label, hashlib.sha256).digest()

    def encrypt(self, text: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self.aead.encrypt(nonce, text.encode("utf-8"), None)
        return PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def unseal(self, text: str) -> str:
        """The text, opened if it is sealed (`encrypt`), else as it is (kept plain by an older version)."""
        return self.decrypt(text) if text.startswith(PREFIX) else text

    def decrypt(self, token: str) -> str:
        raw = base64.b64decode(token[len(PREFIX) :])
        return self.aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], None).decode("utf-8")
