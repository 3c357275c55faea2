"""Passwords: hashing new ones, checking them against any hash Appwrite can import, and the policy.

New passwords are hashed with Argon2id (argon2-cffi). Imported users keep the hash they came with
(argon2, bcrypt, md5, sha*, phpass, scrypt, or Firebase's modified scrypt) and sign in with their
old password; the first password change re-hashes with Argon2id. Comparisons of computed hashes
are constant-time. The policy (minimum length, no reuse of the last N passwords, no common
password, no personal data) is a project setting; see policy.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import bcrypt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

ARGON2 = PasswordHasher()
SHA_VERSIONS = {
    "sha1": "sha1",
    "sha224": "sha224",
    "sha256": "sha256",
    "sha384": "sha384",
    "sha512/224": "sha512_224",
    "sha512/256": "sha512_256",
    "sha512": "sha512",
    "sha3-224": "sha3_224",
    "sha3-256": "sha3_256",
    "sha3-384": "sha3_384",
    "sha3-512": "sha3_512",
}
PHPASS_ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def hash_password(plain: str) -> tuple[str, str, dict]:
    """(hash, algorithm, options) for a new password."""
    return (
        ARGON2.hash(plain),
        "argon2",
        {
            "memoryCost": ARGON2.memory_cost,
            "timeCost": ARGON2.time_cost,
            "threads": ARGON2.parallelism,
        },
    )


def verify_password(plain: str, hashed: str | None, algorithm: str | None, options: dict) -> bool:
    """Whether `plain` is the password behind `hashed` (made with `algorithm` and `options`)."""
    if not hashed or not algorithm or not isinstance(plain, str):
        return False
    password = plain.encode("utf-8")
    if algorithm == "argon2":
        try:
            return ARGON2.verify(hashed, plain)
        except (VerificationError, InvalidHashError):
            return False
    if algorithm == "bcrypt" or (algorithm == "phpass" and hashed.startswith("$2")):
        try:
            return bcrypt.checkpw(password, hashed.replace("$2y$", "$2b$", 1).encode())
        except ValueError:
            return False
    if algorithm == "md5":
        return same(hashlib.md5(password).hexdigest(), hashed.lower())
    if algorithm == "sha":
        name = SHA_VERSIONS.get(options.get("version", "sha3-512"))
        return bool(name) and same(hashlib.new(name, password).hexdigest(), hashed.lower())
    if algorithm == "phpass":
        return same(phpass(password, hashed), hashed)
    if algorithm == "scrypt":
        derived = hashlib.scrypt(
            password,
            salt=options["salt"].encode("utf-8"),
            n=options["costCpu"],
            r=options["costMemory"],
            p=options["costParallel"],
            dklen=options["length"],
            maxmem=2**31 - 1,
        )
        return same(derived.hex(), hashed.lower())
    if algorithm == "scryptMod":
        return same(firebase_scrypt(password, options), hashed)
    return False


def same(computed: str, stored: str) -> bool:
    return hmac.compare_digest(computed.encode(), stored.encode())


def phpass(password: bytes, setting: str) -> str:
    """The portable phpass hash ($P$ / $H$) of `password` with the salt and cost in `setting`."""
    if len(setting) < 12 or setting[:3] not in ("$P$", "$H$") or setting[3] not in PHPASS_ALPHABET:
        return ""
    count = 1 << PHPASS_ALPHABET.index(setting[3])
    salt = setting[4:12].encode()
    digest = hashlib.md5(salt + password).digest()
    for _ in range(count):
        digest = hashlib.md5(digest + password).digest()
    return setting[:12] + phpass_encode(digest)


def phpass_encode(data: bytes) -> str:
    output, index = [], 0
    while index < len(data):
        value = data[index]
        index += 1
        output.append(PHPASS_ALPHABET[value & 0x3F])
        if index < len(data):
            value |= data[index] << 8
        output.append(PHPASS_ALPHABET[(value >> 6) & 0x3F])
        if index >= len(data):
            break
        index += 1
        if index < len(data):
            value |= data[index] << 16
        output.append(PHPASS_ALPHABET[(value >> 12) & 0x3F])
        if index >= len(data):
            break
        index += 1
        output.append(PHPASS_ALPHABET[(value >> 18) & 0x3F])
    return "".join(output)


def firebase_scrypt(password: bytes, options: dict) -> str:
    """Firebase Auth's modified scrypt: AES-256-CTR of the signer key under scrypt(password, salt +
    separator) (N=2^14, r=8, p=1), base64-encoded."""
    salt = base64.b64decode(options["salt"]) + base64.b64decode(options["saltSeparator"])
    derived = hashlib.scrypt(password, salt=salt, n=2**14, r=8, p=1, dklen=64, maxmem=2**31 - 1)
    encryptor = Cipher(algorithms.AES(derived[:32]), modes.CTR(b"\0" * 16)).encryptor()
    sealed = encryptor.update(base64.b64decode(options["signerKey"])) + encryptor.finalize()
    return base64.b64encode(sealed).decode()


def options_of(record) -> dict:
    return json.loads(record["hash_options"] or "{}")
