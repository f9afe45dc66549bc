from django.shortcuts import render
from django.views.decorators.http import require_GET

from negotiations.models import Demand, Proposal, Source


@require_GET
def home(request):
    return render(
        request,
        "negotiations/home.html",
        {
            "proposals": Proposal.objects.select_related("party", "round"),
            "demand_count": Demand.objects.count(),
            "source_count": Source.objects.count(),
        },
    )
