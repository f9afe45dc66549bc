import copy

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from negotiations.changelog import bulk_create, bulk_link
from negotiations.curated import SYNTHETIC
from negotiations.dataversion import bump_data_version
from negotiations.models import (
    Citation,
    Demand,
    Option,
    Parameter,
    Proposal,
    ProvisionLink,
    Section,
)

REASON = "Synthetic data for scale tests"


def copy_of(obj, **changes):
    clone = copy.copy(obj)
    clone.pk = None
    clone._state = copy.copy(obj._state)
    clone._state.adding = True
    clone._change_reason = REASON
    for name, value in changes.items():
        setattr(clone, name, value)
    return clone


class Command(BaseCommand):
    help = (
        "Add N copies of every curated proposal and its provisions, clearly marked synthetic "
        "(slugs start with 'synthetic-', titles and summaries with [Synthetic]), to measure the "
        "site at N times its size. Never exported to fixtures/. Use a scratch database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=int, required=True, help="How many copies to add.")

    @transaction.atomic
    def handle(self, *args, scale, **options):
        if not 1 <= scale <= 1000:
            raise CommandError("--scale must be between 1 and 1000.")
        originals = list(
            Proposal.objects.exclude(slug__startswith=SYNTHETIC).prefetch_related(
                "sections__options",
                "sections__demands__citations",
                "sections__demands__parameters",
                "sections__demands__secondary_topics",
            )
        )
        start = Proposal.objects.filter(slug__startswith=SYNTHETIC).count() // max(
            len(originals), 1
        )
        numbers = range(start + 1, start + scale + 1)
        links = list(
            ProvisionLink.objects.exclude(
                demand__section__proposal__slug__startswith=SYNTHETIC
            ).select_related("demand", "counterpart")
        )
        demands = copy_all([(n, p) for n in numbers for p in originals])
        for number in numbers:
            copy_links(links, number)
        bump_data_version()  # bulk writes send no signal
        self.stdout.write(f"Added {scale} synthetic copies: {demands} synthetic demands.")


def copy_all(copies):
    """Copy each (number, proposal) with its sections, options and provisions, a bulk write
    per model for all of them: a save per row took half a minute for a hundred copies."""
    proposals = [
        Proposal(
            slug=f"{SYNTHETIC}{number}-{proposal.slug}"[:50],
            party_id=proposal.party_id,
            round_id=proposal.round_id,
            title=f"[Synthetic {number}] {proposal.title}"[:200],
            kind=proposal.kind,
            date_presented=proposal.date_presented,
            date_published=proposal.date_published,
            summary="Synthetic copy for scale and load tests; not real data.",
        )
        for number, proposal in copies
    ]
    bulk_create(Proposal, proposals, reason=REASON)
    # Copies, so the prefetched originals stay intact for the next round.
    sections = [
        (index, section, copy_of(section, proposal=new))
        for index, ((_, proposal), new) in enumerate(zip(copies, proposals, strict=True))
        for section in proposal.sections.all()
    ]
    bulk_create(Section, [clone for _, _, clone in sections], reason=REASON)
    options = [
        (index, option, copy_of(option, section=clone))
        for index, section, clone in sections
        for option in section.options.all()
    ]
    bulk_create(Option, [clone for _, _, clone in options], reason=REASON)
    section_map = {(index, s.pk): clone for index, s, clone in sections}
    option_map = {(index, o.pk): clone for index, o, clone in options}
    demands = [
        (
            d,
            Demand(
                code=f"SYN{number}-{d.code}"[:20],
                section=section_map[index, d.section_id],
                option=option_map.get((index, d.option_id)),
                label=d.label,
                order=d.order,
                topic_id=d.topic_id,
                kind=d.kind,
                summary=f"[Synthetic] {d.summary}"[:200],
                paraphrase=d.paraphrase,
                status=d.status,
            ),
        )
        for index, (number, proposal) in enumerate(copies)
        for s in proposal.sections.all()
        for d in s.demands.all()
    ]
    bulk_create(Demand, [clone for _, clone in demands], reason=REASON)
    citations = [
        Citation(demand=clone, source_id=c.source_id, quote=c.quote, order=c.order)
        for original, clone in demands
        for c in original.citations.all()
    ]
    parameters = [
        Parameter(
            demand=clone,
            name=p.name,
            bound=p.bound,
            value=p.value,
            value_max=p.value_max,
            unit=p.unit,
        )
        for original, clone in demands
        for p in original.parameters.all()
    ]
    bulk_create(Citation, citations, reason=REASON)
    bulk_create(Parameter, parameters, reason=REASON)
    secondary = [
        (clone, topic.pk)
        for original, clone in demands
        for topic in original.secondary_topics.all()
    ]
    if secondary:
        bulk_link(Demand._meta.get_field("secondary_topics"), secondary)
    return len(demands)


def copy_links(links, number):
    """The links between the originals, between their copies of this number."""
    codes = {f"SYN{number}-{link.demand.code}"[:20] for link in links}
    codes |= {f"SYN{number}-{link.counterpart.code}"[:20] for link in links}
    ids = dict(Demand.objects.filter(code__in=codes).values_list("code", "pk"))
    copies = [
        ProvisionLink(
            demand_id=ids[f"SYN{number}-{link.demand.code}"[:20]],
            counterpart_id=ids[f"SYN{number}-{link.counterpart.code}"[:20]],
            kind=link.kind,
            rationale=link.rationale,
        )
        for link in links
    ]
    bulk_create(ProvisionLink, copies, reason=REASON)
