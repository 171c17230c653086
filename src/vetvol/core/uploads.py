"""The request-size limit: a request whose body is larger than VETVOL_MAX_REQUEST_BYTES is refused with 413
before any of it is read.

Django bounds only the non-file part of a body (DATA_UPLOAD_MAX_MEMORY_SIZE); a file field of any size is
streamed to a temporary file first and only then seen by the view, so a 200 MB "spreadsheet" costs 200 MB
of disk and the time to receive it before the import's own size check refuses it. This middleware reads
the declared length (WSGI servers give the length of chunked bodies too, or none, which Django then reads
as empty) and answers at once: JSON in the API's error shape under /api/, the 413 page elsewhere. The
limit covers the largest legitimate request, an Excel import of 20 MiB with its multipart framing (the
README's proxy cap of about 21 MB is the same figure), and a fund evidence file of 10 MB sent as base64
in the API's JSON."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext


def too_large_message() -> str:
    megabytes = settings.VETVOL_MAX_REQUEST_BYTES // (1024 * 1024)
    text = gettext("上传的内容超过 %(mb)d MB，已拒绝。Excel 文件请拆分后分批上传，证明材料每个不超过 10 MB")
    return text % {"mb": megabytes}


def declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class RequestSizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if declared_length(request) > settings.VETVOL_MAX_REQUEST_BYTES:
            return refuse(request)
        return self.get_response(request)


def refuse(request: HttpRequest) -> HttpResponse:
    message = too_large_message()
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"detail": message, "errors": [{"field": "body", "message": message}]}, status=413
        )
    else:
        response = render(request, "413.html", {"message": message}, status=413)
    # The unread body is still on the connection: close it rather than parse what follows as a request.
    response["Connection"] = "close"
    return response
