"""Print a new VAPID key pair for Web Push, as the settings take them."""

from __future__ import annotations

import base64
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management.base import BaseCommand


def generate_vapid_keys() -> tuple[str, str]:
    """A new P-256 key pair: the public key as an uncompressed point (what a browser's
    ``applicationServerKey`` takes) and the private key as its raw 32 bytes (what pywebpush's
    ``Vapid.from_string`` and ``webpush(vapid_private_key=…)`` read), both unpadded base64url."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    private = key.private_numbers().private_value.to_bytes(32, "big")
    return _base64url(public), _base64url(private)


def _base64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class Command(BaseCommand):
    help = (
        "Print a new VAPID key pair for Web Push as VAPID_PUBLIC_KEY=… and VAPID_PRIVATE_KEY=… "
        "lines for the environment. Changing the pair makes every browser subscribe again."
    )
    # Keys are made before a site has a database: nothing here needs the checks (which open it).
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        public, private = generate_vapid_keys()
        self.stdout.write(f"VAPID_PUBLIC_KEY={public}")
        self.stdout.write(f"VAPID_PRIVATE_KEY={private}")
