"""Attachments are checked by what they contain, not by their name or the browser's claim."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import PurePath

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

# What a notice may carry, by the type its bytes show, with the file name extensions that fit.
ALLOWED_TYPES: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/webp": (".webp",),
}
# filetype needs the first few kilobytes to tell a type.
HEAD_BYTES = 8192


@dataclass(frozen=True)
class CheckedFile:
    name: str
    content_type: str
    size: int
    sha256: str


def check_attachment(upload: UploadedFile[bytes]) -> CheckedFile:
    """The file's real type, size and hash; ValidationError saying why it is refused."""
    limit: int = settings.NOTICE_ATTACHMENT_MAX_BYTES
    size = int(upload.size or 0)
    if size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    if size > limit:
        raise ValidationError(
            _("The file is %(size)s; attachments may be at most %(limit)s.")
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)},
            code="too_big",
        )
    upload.seek(0)
    kind = filetype.guess(upload.read(HEAD_BYTES))
    detected = kind.mime if kind is not None else None
    name = _shortened(PurePath(upload.name or "attachment").name)
    if detected not in ALLOWED_TYPES:
        raise ValidationError(
            _("“%(name)s” is not a PDF or an image (PNG, JPEG, WebP), whatever its name says.")
            % {"name": name},
            code="type",
        )
    if PurePath(name).suffix.lower() not in ALLOWED_TYPES[detected]:
        raise ValidationError(
            _("“%(name)s” is a %(type)s file: its name must end in %(suffixes)s.")
            % {"name": name, "type": detected, "suffixes": " / ".join(ALLOWED_TYPES[detected])},
            code="name",
        )
    return CheckedFile(name=name, content_type=detected, size=size, sha256=_sha256(upload))


def _shortened(name: str, limit: int = 150) -> str:
    """A name that fits the database, keeping its extension."""
    if len(name) <= limit:
        return name
    path = PurePath(name)
    return path.stem[: limit - len(path.suffix)] + path.suffix


def _sha256(upload: UploadedFile[bytes]) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()
