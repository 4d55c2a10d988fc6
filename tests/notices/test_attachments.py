"""Attachments are checked by their bytes, not their name or the browser's claim."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.notices.attachments import check_attachment
from portal.notices.models import Attachment
from portal.notices.services import notice_attach
from tests.notices.conftest import written

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 64


def upload(name: str, content: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_a_pdf_is_accepted_with_its_hash() -> None:
    checked = check_attachment(upload("letter.pdf", PDF))
    assert checked.content_type == "application/pdf"
    assert checked.size == len(PDF)
    assert len(checked.sha256) == 64


def test_an_executable_named_pdf_is_refused() -> None:
    with pytest.raises(ValidationError, match="is not a PDF or an image"):
        check_attachment(upload("letter.pdf", ELF))


def test_a_png_named_pdf_is_refused_by_its_name() -> None:
    with pytest.raises(ValidationError, match="its name must end in .png"):
        check_attachment(upload("letter.pdf", PNG, "application/pdf"))


def test_an_oversized_file_is_refused(settings) -> None:
    settings.NOTICE_ATTACHMENT_MAX_BYTES = 50
    with pytest.raises(ValidationError, match="attachments may be at most"):
        check_attachment(upload("letter.pdf", PDF))


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(ValidationError, match="empty"):
        check_attachment(upload("letter.pdf", b""))


@pytest.mark.django_db
def test_an_attachment_is_stored_through_the_storage_api(publisher, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    notice = written(publisher)
    attachment = notice_attach(
        editor=publisher, notice_id=notice.pk, upload=upload("工事.pdf", PDF)
    )
    assert attachment.file.read() == PDF
    assert attachment.name == "工事.pdf"


@pytest.mark.django_db
def test_a_refused_attachment_stores_nothing(publisher, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    notice = written(publisher)
    with pytest.raises(ValidationError):
        notice_attach(editor=publisher, notice_id=notice.pk, upload=upload("x.pdf", ELF))
    assert not Attachment.objects.exists()
    assert not any(tmp_path.rglob("*.pdf"))
