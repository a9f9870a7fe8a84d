from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from saidao.core.links import absolute_url

from . import selectors
from .errors import CertificateNotFound
from .files import certificate_file
from .models import Certificate
from .render import display_code, mask_name


def verify_url(request: HttpRequest, certificate: Certificate) -> str:
    return absolute_url(request, reverse("certificates:verify", args=[certificate.code]))


@require_GET
def verify(request: HttpRequest, code: str) -> HttpResponse:
    """Public: is this a real certificate, and is it still valid? No personal data shown."""
    try:
        certificate = selectors.certificate_get(code=code)
    except CertificateNotFound:
        response = render(request, "certificates/verify.html", {"code": code}, status=404)
    else:
        context = {
            "code": code,
            "certificate": certificate,
            "masked_name": mask_name(certificate.holder_name),
            "display_code": display_code(certificate.code),
        }
        response = render(request, "certificates/verify.html", context)
    # Found by scanning, not by searching: keep holders' certificates out of search engines.
    response["X-Robots-Tag"] = "noindex"
    return response


@require_GET
def lookup(request: HttpRequest) -> HttpResponse:
    """The form to type a code from a paper certificate; sends on to its verify page."""
    code = request.GET.get("code", "").strip()
    if code:
        return redirect("certificates:verify", code=code[:40].replace("/", ""))
    return render(request, "certificates/lookup.html")


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    certificates = list(selectors.certificates_of_holder(user=request.user))
    return render(request, "certificates/mine.html", {"certificates": certificates})


def _download(request: HttpRequest, code: str, ext: str) -> HttpResponse:
    try:
        certificate = selectors.certificate_get_for_download(user=request.user, code=code)
    except CertificateNotFound:
        raise Http404 from None
    data = certificate_file(certificate, ext=ext, verify_url=verify_url(request, certificate))
    content_type = "image/png" if ext == "png" else "application/pdf"
    response = HttpResponse(data, content_type=content_type)
    disposition = "attachment" if request.GET.get("download") else "inline"
    response["Content-Disposition"] = (
        f'{disposition}; filename="certificate-{certificate.code}.{ext}"'
    )
    response["Cache-Control"] = "private, max-age=300"
    return response


@login_required
@require_GET
def png(request: HttpRequest, code: str) -> HttpResponse:
    return _download(request, code, "png")


@login_required
@require_GET
def pdf(request: HttpRequest, code: str) -> HttpResponse:
    return _download(request, code, "pdf")
