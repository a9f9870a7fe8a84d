from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from saidao.core.errors import NotFound

from .selectors import region_cities


def city_options(request: HttpRequest) -> HttpResponse:
    """<option>s of the city zones under a province, for the htmx-driven region pickers."""
    province = request.GET.get("province", "")
    try:
        cities = list(region_cities(province=province)) if province else []
    except NotFound:
        cities = []
    return render(request, "regions/city_options.html", {"cities": cities})
