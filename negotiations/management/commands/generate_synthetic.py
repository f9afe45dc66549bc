import copy

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from negotiations.curated import SYNTHETIC
from negotiations.history import bulk_create
from negotiations.models import Citation, Demand, Parameter, Proposal, ProvisionLink

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
        links = list(
            ProvisionLink.objects.exclude(
                demand__section__proposal__slug__startswith=SYNTHETIC
            ).select_related("demand", "counterpart")
        )
        demands = 0
        for number in range(start + 1, start + scale + 1):
            for proposal in originals:
                demands += self.copy(proposal, number)
            self.copy_links(links, number)
        self.stdout.write(f"Added {scale} synthetic copies: {demands} synthetic demands.")

    def copy(self, proposal, number):
        sections = list(proposal.sections.all())
        new = Proposal(
            slug=f"{SYNTHETIC}{number}-{proposal.slug}"[:50],
            party_id=proposal.party_id,
            round_id=proposal.round_id,
            title=f"[Synthetic {number}] {proposal.title}"[:200],
            kind=proposal.kind,
            date_presented=proposal.date_presented,
            date_published=proposal.date_published,
            summary="Synthetic copy for scale and load tests; not real data.",
        )
        new._change_reason = REASON
        new.save()
        section_map, option_map = {}, {}
        for section in sections:
            # Copies, so the prefetched originals stay intact for the next round.
            clone = copy_of(section, proposal=new)
            clone.save()
            section_map[section.pk] = clone
            for option in section.options.all():
                option_clone = copy_of(option, section=clone)
                option_clone.save()
                option_map[option.pk] = option_clone
        originals = [d for s in sections for d in s.demands.all()]
        clones = [
            Demand(
                code=f"SYN{number}-{d.code}"[:20],
                section=section_map[d.section_id],
                option=option_map.get(d.option_id),
                label=d.label,
                order=d.order,
                topic_id=d.topic_id,
                kind=d.kind,
                summary=f"[Synthetic] {d.summary}"[:200],
                paraphrase=d.paraphrase,
                status=d.status,
            )
            for d in originals
        ]
        clones = bulk_create(Demand, clones, reason=REASON)
        created = {c.code: c for c in Demand.objects.filter(code__in=[c.code for c in clones])}
        citations, parameters = [], []
        for original in originals:
            clone = created[f"SYN{number}-{original.code}"[:20]]
            citations += [
                Citation(demand=clone, source_id=c.source_id, quote=c.quote, order=c.order)
                for c in original.citations.all()
            ]
            parameters += [
                Parameter(
                    demand=clone,
                    name=p.name,
                    bound=p.bound,
                    value=p.value,
                    value_max=p.value_max,
                    unit=p.unit,
                )
                for p in original.parameters.all()
            ]
            secondary = original.secondary_topics.all()
            if secondary:
                clone.secondary_topics.set(secondary)  # through the m2m signal: recorded
        bulk_create(Citation, citations, reason=REASON)
        bulk_create(Parameter, parameters, reason=REASON)
        return len(clones)

    def copy_links(self, links, number):
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
