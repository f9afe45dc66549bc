"""A read-only JSON API over the curated data, with its OpenAPI schema and interactive docs.

Records are addressed by their natural keys (slugs; a demand by its code), as in the fixtures
and on the pages; citations, which have none, by their id. Every list is paginated.
"""

from datetime import date, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

import ninja
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.html import format_html, json_script
from ninja import Field, NinjaAPI, Path, Query, Schema
from ninja.openapi.docs import Swagger
from ninja.pagination import LimitOffsetPagination, paginate

from negotiations.models import (
    LINK_KINDS,
    Citation,
    ContextFigure,
    Counterpart,
    CounterpartStatus,
    Demand,
    Disagreement,
    LinkStatus,
    Parameter,
    Party,
    Proposal,
    Relation,
    Round,
    Section,
    Source,
    Topic,
    Version,
)

# Natural keys are slugs (demand codes fit the same pattern). Saying so in the schema turns a
# malformed key into a 422 before it reaches the database, which refuses some characters (NUL).
SLUG = r"^[-a-zA-Z0-9_]+$"
Slug = Annotated[str, Path(pattern=SLUG, max_length=80)]
Code = Annotated[str, Path(pattern=SLUG, max_length=20)]

# Swagger UI as django-ninja ships it. Ninja's own docs page loads it from a CDN unless "ninja"
# is an installed app; this API serves the files itself instead, so the page needs no other host.
SWAGGER_FILES = FilePath(ninja.__file__).parent / "static" / "ninja"
SWAGGER_ASSETS = {"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-init.js", "favicon.svg"}
SWAGGER_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="{css}">
<link rel="icon" href="{icon}" type="image/svg+xml">
</head>
<body>
{settings}
<div id="swagger-ui"></div>
<script src="{bundle}"></script>
<script src="{init}"></script>
</body>
</html>
"""


class LocalSwagger(Swagger):
    # No validatorUrl: Swagger UI would otherwise send the schema to swagger.io for a badge.
    default_settings = {**Swagger.default_settings, "validatorUrl": None}

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        def asset(name):
            return reverse(f"{api.urls_namespace}:docs-asset", args=[name])

        settings = {**self.settings, "url": self.get_openapi_url(api, kwargs)}
        page = format_html(
            SWAGGER_PAGE,
            title=api.title,
            css=asset("swagger-ui.css"),
            icon=asset("favicon.svg"),
            bundle=asset("swagger-ui-bundle.js"),
            init=asset("swagger-ui-init.js"),
            # Read by swagger-ui-init.js: a JSON data block, so the page has no inline script.
            settings=json_script(settings, "swagger-settings"),
        )
        return HttpResponse(page)


api = NinjaAPI(
    title="Istanbul talks 2025 API",
    version="1",
    description=(
        "The negotiating positions of the 2025 Istanbul talks, read-only. Relations between "
        "positions are our analysis, not a sourced fact; everything else carries its citations."
    ),
    urls_namespace="api",
    docs=LocalSwagger(),
)


class Pagination(LimitOffsetPagination):
    """50 items a page unless asked for up to 200; a larger limit is refused, not cut short."""

    class Input(Schema):
        limit: int = Field(50, ge=1, le=200, description="Items per page, at most 200.")
        # Bounded so that no offset overflows the database's integers.
        offset: int = Field(0, ge=0, le=1_000_000)


class NotFound(Schema):
    detail: str


class Invalid(Schema):
    detail: list[dict[str, Any]]


# Every operation may refuse a malformed parameter (422); lookups by key may find nothing (404).
LIST = {422: Invalid}
ONE = {404: NotFound, 422: Invalid}


class PartyOut(Schema):
    slug: str
    name: str
    order: int
    description: str
    url: str = Field(description="The party's page on this site.")
    proposals: list[str] = Field(description="Slugs of its proposals.")

    @staticmethod
    def resolve_url(party: Party) -> str:
        return party.get_absolute_url()

    @staticmethod
    def resolve_proposals(party: Party) -> list[str]:
        return [proposal.slug for proposal in party.proposals.all()]


class RoundOut(Schema):
    slug: str
    number: int
    date: date
    place: str
    summary: str
    url: str = Field(description="The round on this site's page of rounds.")
    proposals: list[str] = Field(description="Slugs of the proposals made for or at it.")

    @staticmethod
    def resolve_url(round: Round) -> str:
        return round.get_absolute_url()

    @staticmethod
    def resolve_proposals(round: Round) -> list[str]:
        return [proposal.slug for proposal in round.proposals.all()]


class ContextFigureOut(Schema):
    slug: str
    label: str
    figure: str = Field(description='As the source gives it, e.g. "79.8 %".')
    as_of: date | None = Field(description="The day the figure refers to.")
    as_of_note: str
    note: str
    source: str = Field(description="The source's slug.")
    source_url: str = Field(description="The page as published; empty when none is known.")
    publisher: str
    quote: str = Field(description="Verbatim from the source.")
    translation: str
    locator: str
    quote_verified: bool

    @staticmethod
    def resolve_source(figure: ContextFigure) -> str:
        return figure.source.slug

    @staticmethod
    def resolve_source_url(figure: ContextFigure) -> str:
        return figure.source.url

    @staticmethod
    def resolve_publisher(figure: ContextFigure) -> str:
        return figure.source.publisher


class TopicOut(Schema):
    slug: str
    code: str
    name: str
    description: str
    order: int
    url: str = Field(description="The topic's page on this site.")
    context_figures: list[ContextFigureOut] = Field(
        description="Dated figures reported by a source that give the topic its context; "
        "not a position of either side."
    )

    @staticmethod
    def resolve_url(topic: Topic) -> str:
        return topic.get_absolute_url()

    @staticmethod
    def resolve_context_figures(topic: Topic) -> list[ContextFigure]:
        return list(topic.context_figures.all())


class OptionOut(Schema):
    label: str
    title: str
    order: int


# Choices are given as Literal types: as enums, Django's many classes named Kind would share,
# and overwrite, one name in the schema's components.
class SectionOut(Schema):
    label: str
    title: str
    kind: Literal[*Section.Kind.values]
    order: int
    note: str
    options: list[OptionOut]


class ProposalOut(Schema):
    slug: str
    party: str
    round: str
    title: str
    kind: Literal[*Proposal.Kind.values]
    date_presented: date | None
    date_published: date | None
    dates_note: str
    summary: str
    url: str = Field(description="The proposal's page on this site.")
    sections: list[SectionOut] = Field(description="Its structure, in document order.")

    @staticmethod
    def resolve_party(proposal: Proposal) -> str:
        return proposal.party.slug

    @staticmethod
    def resolve_round(proposal: Proposal) -> str:
        return proposal.round.slug

    @staticmethod
    def resolve_url(proposal: Proposal) -> str:
        return proposal.get_absolute_url()


class ParameterOut(Schema):
    name: str
    bound: Literal[*Parameter.Bound.values]
    value: int
    value_max: int | None
    unit: Literal[*Parameter.Unit.values]
    note: str


class CitationOut(Schema):
    id: int
    source: str = Field(description="The source's slug.")
    source_url: str = Field(
        description="The page as its publisher published it; empty when none is known (then "
        "`copy_url` is where it was read). Never a copy's address."
    )
    copy_url: str = Field(description="A copy of the page, or the copy it was read on.")
    publisher: str = Field(description="Who wrote the page.")
    credit: str = Field(
        description="The publisher and, for a page read on another's copy, that copy's: "
        '"Reuters, via HK Business Wire".'
    )
    quote: str = Field(description="Verbatim from the source.")
    translation: str
    locator: str
    quote_verified: bool

    @staticmethod
    def resolve_source(citation: Citation) -> str:
        return citation.source.slug

    @staticmethod
    def resolve_source_url(citation: Citation) -> str:
        return citation.source.url

    @staticmethod
    def resolve_copy_url(citation: Citation) -> str:
        return citation.source.archived_url

    @staticmethod
    def resolve_publisher(citation: Citation) -> str:
        return citation.source.publisher

    @staticmethod
    def resolve_credit(citation: Citation) -> str:
        return citation.source.credit


class CitationDetailOut(CitationOut):
    """A citation and what it backs: a demand, a relation, or one version of a disagreement."""

    demand: str | None
    relation: str | None
    disagreement: str | None
    version: int | None = Field(description="The version's order within its disagreement.")

    @staticmethod
    def resolve_demand(citation: Citation) -> str | None:
        return citation.demand.code if citation.demand else None

    @staticmethod
    def resolve_relation(citation: Citation) -> str | None:
        return citation.relation.slug if citation.relation else None

    @staticmethod
    def resolve_disagreement(citation: Citation) -> str | None:
        return citation.version.disagreement.slug if citation.version else None

    @staticmethod
    def resolve_version(citation: Citation) -> int | None:
        return citation.version.order if citation.version else None


class CounterpartOut(Schema):
    """A provision of the other side that answers this one. Our analysis, not a sourced fact."""

    code: str = Field(description="The other provision's code.")
    url: str = Field(description="The other provision's page on this site.")
    party: str
    summary: str
    relation: Literal[*(value for value, _ in LINK_KINDS)] = Field(
        description="How the two relate (our analysis)."
    )
    rationale: str = Field(description="Why, in one neutral line (our analysis).")

    @staticmethod
    def resolve_code(pair: Counterpart) -> str:
        return pair.demand.code

    @staticmethod
    def resolve_url(pair: Counterpart) -> str:
        return pair.demand.get_absolute_url()

    @staticmethod
    def resolve_party(pair: Counterpart) -> str:
        return pair.demand.section.proposal.party.slug

    @staticmethod
    def resolve_summary(pair: Counterpart) -> str:
        return pair.demand.summary

    @staticmethod
    def resolve_relation(pair: Counterpart) -> str:
        return pair.link.kind

    @staticmethod
    def resolve_rationale(pair: Counterpart) -> str:
        return pair.link.rationale


class DemandOut(Schema):
    code: str
    url: str = Field(description="The demand's page on this site.")
    party: str
    proposal: str
    section: str = Field(description="The section's label in its document.")
    option: str | None = Field(description="The alternative option's label, if in one.")
    label: str
    order: int
    place: str = Field(description='Where it sits in its document, e.g. "Memorandum · II · 3".')
    topic: str
    secondary_topics: list[str]
    kind: Literal[*Demand.Kind.values]
    summary: str
    paraphrase: str
    status: Literal[*Demand.Status.values]
    status_note: str
    verified_on: date | None
    occurred_on: date | None = Field(
        description="For what happened after a round, or was said then: the day (the first, "
        "when it took several)."
    )
    occurred_until: date | None = Field(description="The last day, when it took several.")
    parameters: list[ParameterOut]
    citations: list[CitationOut]
    counterpart_status: Literal[*CounterpartStatus.values] = Field(
        description="Our analysis: `linked` when provisions of the other side answer it (see "
        "`counterparts`), `no-counterpart` when none does, `joint` for an outcome both "
        "delegations agreed."
    )
    counterparts: list[CounterpartOut] = Field(
        description="The other side's provisions that answer it, with how they relate and why "
        "(our analysis)."
    )

    @staticmethod
    def resolve_url(demand: Demand) -> str:
        return demand.get_absolute_url()

    @staticmethod
    def resolve_party(demand: Demand) -> str:
        return demand.section.proposal.party.slug

    @staticmethod
    def resolve_proposal(demand: Demand) -> str:
        return demand.section.proposal.slug

    @staticmethod
    def resolve_section(demand: Demand) -> str:
        return demand.section.label

    @staticmethod
    def resolve_option(demand: Demand) -> str | None:
        return demand.option.label if demand.option else None

    @staticmethod
    def resolve_topic(demand: Demand) -> str:
        return demand.topic.slug

    @staticmethod
    def resolve_secondary_topics(demand: Demand) -> list[str]:
        return [topic.slug for topic in demand.secondary_topic_list]

    @staticmethod
    def resolve_parameters(demand: Demand) -> list[Parameter]:
        return demand.parameter_list


class DemandFilters(Schema):
    topic: str | None = Field(
        None, pattern=SLUG, description="Topic slug: the demand's primary or a secondary topic."
    )
    round: str | None = Field(None, pattern=SLUG, description="Round slug, e.g. round-3.")
    party: str | None = Field(None, pattern=SLUG, description="Party slug.")
    proposal: str | None = Field(None, pattern=SLUG, description="Proposal slug.")
    kind: Literal[*Demand.Kind.values] | None = None
    # PostgreSQL refuses NUL in text, so it is refused here (422) rather than failing there.
    q: str | None = Field(
        None,
        max_length=200,
        pattern=r"^[^\x00]*$",
        description="Words to search for; the best matches come first.",
    )


class SourceOut(Schema):
    slug: str
    title: str
    title_is_descriptive: bool
    publisher: str = Field(description="Who wrote the page, also when it was read on a copy.")
    short_name: str = Field(description="The publisher's short name; empty for its name.")
    copy_publisher: str = Field(
        description="Who published the copy the page was read on; empty for the publisher's own."
    )
    credit: str = Field(description='"Reuters, via HK Business Wire", or the publisher alone.')
    url: str = Field(
        description="The page as its publisher published it; empty when none is known. Never a "
        "copy's address."
    )
    url_note: str
    archived_url: str = Field(description="A copy of the page, or the copy it was read on.")
    read_on_copy: bool = Field(
        description="Whether the only page to open is the copy: the publisher's is unknown."
    )
    published: date | None
    published_note: str
    accessed: date
    language: str
    kind: Literal[*Source.Kind.values] = Field(description="The publisher's kind.")
    state_media: bool = Field(description="Whether a state owns or runs the publisher.")
    reliability_note: str
    page: str = Field(description="The source's page on this site.")
    link_status: Literal[*LinkStatus.values] = Field(
        description="What the link checks found at `url`: failing means found dead once "
        "(404 or 410, no such host or nothing listening) and dead means found so again at least "
        "12 hours later; refused means the server turned the check away or did not answer in "
        "time."
    )
    link_checked: datetime | None = Field(description="When the check found that status.")
    archive_status: Literal[*LinkStatus.values] = Field(description="The same for `archived_url`.")
    archive_checked: datetime | None

    @staticmethod
    def resolve_page(source: Source) -> str:
        return source.get_absolute_url()

    @staticmethod
    def resolve_credit(source: Source) -> str:
        return source.credit

    @staticmethod
    def resolve_read_on_copy(source: Source) -> bool:
        return source.only_on_copy


class RelationOut(Schema):
    """How opposing demands on one topic relate: our analysis, not a sourced fact."""

    slug: str
    topic: str
    kind: Literal[*Relation.Kind.values]
    analysis: Literal[True] = Field(
        True, description="Always true: the rationale is our own analysis, not a sourced fact."
    )
    rationale: str
    demands: list[str] = Field(description="Codes of the demands it relates.")
    citations: list[CitationOut] = Field(description="Only where a source makes the comparison.")

    @staticmethod
    def resolve_topic(relation: Relation) -> str:
        return relation.topic.slug

    @staticmethod
    def resolve_demands(relation: Relation) -> list[str]:
        return [demand.code for demand in relation.demands.all()]


class VersionOut(Schema):
    order: int
    claim: str
    citations: list[CitationOut]


class DisagreementOut(Schema):
    """Sources disagree about one fact; each account is kept with its citations."""

    slug: str
    code: str
    title: str
    assessment: str = Field(description="Our reading of which account is better supported.")
    demands: list[str] = Field(description="Codes of the demands it concerns.")
    proposal: str | None
    round: str | None
    versions: list[VersionOut]

    @staticmethod
    def resolve_demands(disagreement: Disagreement) -> list[str]:
        return [demand.code for demand in disagreement.demands.all()]

    @staticmethod
    def resolve_proposal(disagreement: Disagreement) -> str | None:
        return disagreement.proposal.slug if disagreement.proposal else None

    @staticmethod
    def resolve_round(disagreement: Disagreement) -> str | None:
        return disagreement.round.slug if disagreement.round else None


def cited():
    return Prefetch("citations", Citation.objects.select_related("source"))


def parties():
    return Party.objects.prefetch_related("proposals")


def rounds():
    return Round.objects.prefetch_related("proposals")


def topics():
    figures = ContextFigure.objects.select_related("source")
    return Topic.objects.prefetch_related(Prefetch("context_figures", figures))


def proposals():
    return Proposal.objects.select_related("party", "round").prefetch_related(
        Prefetch("sections", Section.objects.prefetch_related("options"))
    )


def citations():
    return Citation.objects.select_related(
        "source", "demand", "relation", "version__disagreement"
    ).order_by("pk")


def relations():
    return Relation.objects.select_related("topic").prefetch_related("demands", cited())


def disagreements():
    return Disagreement.objects.select_related("proposal", "round").prefetch_related(
        "demands", Prefetch("versions", Version.objects.prefetch_related(cited()))
    )


@api.get("/parties", response={200: list[PartyOut], **LIST}, tags=["parties"])
@paginate(Pagination)
def list_parties(request: HttpRequest):
    return parties()


@api.get("/parties/{slug}", response={200: PartyOut, **ONE}, tags=["parties"])
def get_party(request: HttpRequest, slug: Slug):
    return get_object_or_404(parties(), slug=slug)


@api.get("/rounds", response={200: list[RoundOut], **LIST}, tags=["rounds"])
@paginate(Pagination)
def list_rounds(request: HttpRequest):
    return rounds()


@api.get("/rounds/{slug}", response={200: RoundOut, **ONE}, tags=["rounds"])
def get_round(request: HttpRequest, slug: Slug):
    return get_object_or_404(rounds(), slug=slug)


@api.get("/topics", response={200: list[TopicOut], **LIST}, tags=["topics"])
@paginate(Pagination)
def list_topics(request: HttpRequest):
    return topics()


@api.get("/topics/{slug}", response={200: TopicOut, **ONE}, tags=["topics"])
def get_topic(request: HttpRequest, slug: Slug):
    return get_object_or_404(topics(), slug=slug)


@api.get("/proposals", response={200: list[ProposalOut], **LIST}, tags=["proposals"])
@paginate(Pagination)
def list_proposals(request: HttpRequest):
    return proposals()


@api.get("/proposals/{slug}", response={200: ProposalOut, **ONE}, tags=["proposals"])
def get_proposal(request: HttpRequest, slug: Slug):
    return get_object_or_404(proposals(), slug=slug)


@api.get("/demands", response={200: list[DemandOut], **ONE}, tags=["demands"])
@paginate(Pagination)
def list_demands(request: HttpRequest, filters: Query[DemandFilters]):
    """Demands in document order, or best match first with `q`. An unknown slug gives 404."""
    demands = Demand.objects.all()
    if filters.topic:
        demands = demands.on_topic(get_object_or_404(Topic, slug=filters.topic))
    if filters.round:
        demands = demands.filter(
            section__proposal__round=get_object_or_404(Round, slug=filters.round)
        )
    if filters.party:
        demands = demands.filter(
            section__proposal__party=get_object_or_404(Party, slug=filters.party)
        )
    if filters.proposal:
        demands = demands.filter(
            section__proposal=get_object_or_404(Proposal, slug=filters.proposal)
        )
    if filters.kind:
        demands = demands.filter(kind=filters.kind)
    if filters.q and filters.q.strip():
        demands = demands.search(filters.q)
    else:
        demands = demands.in_document_order()
    return demands.with_details()


@api.get("/demands/{code}", response={200: DemandOut, **ONE}, tags=["demands"])
def get_demand(request: HttpRequest, code: Code):
    return get_object_or_404(Demand.objects.with_details(), code=code)


@api.get("/sources", response={200: list[SourceOut], **LIST}, tags=["sources"])
@paginate(Pagination)
def list_sources(request: HttpRequest):
    return Source.objects.all()


@api.get("/sources/{slug}", response={200: SourceOut, **ONE}, tags=["sources"])
def get_source(request: HttpRequest, slug: Slug):
    return get_object_or_404(Source, slug=slug)


@api.get("/citations", response={200: list[CitationDetailOut], **LIST}, tags=["citations"])
@paginate(Pagination)
def list_citations(request: HttpRequest):
    return citations()


@api.get("/citations/{id}", response={200: CitationDetailOut, **ONE}, tags=["citations"])
def get_citation(request: HttpRequest, id: Annotated[int, Path(ge=1, le=2**31 - 1)]):
    return get_object_or_404(citations(), pk=id)


@api.get("/relations", response={200: list[RelationOut], **LIST}, tags=["relations"])
@paginate(Pagination)
def list_relations(request: HttpRequest):
    return relations()


@api.get("/relations/{slug}", response={200: RelationOut, **ONE}, tags=["relations"])
def get_relation(request: HttpRequest, slug: Slug):
    return get_object_or_404(relations(), slug=slug)


@api.get("/disagreements", response={200: list[DisagreementOut], **LIST}, tags=["disagreements"])
@paginate(Pagination)
def list_disagreements(request: HttpRequest):
    return disagreements()


@api.get("/disagreements/{slug}", response={200: DisagreementOut, **ONE}, tags=["disagreements"])
def get_disagreement(request: HttpRequest, slug: Slug):
    return get_object_or_404(disagreements(), slug=slug)


@api.get("/docs/assets/{name}", include_in_schema=False, url_name="docs-asset")
def docs_asset(request: HttpRequest, name: str):
    if name not in SWAGGER_ASSETS:
        raise Http404(name)
    response = FileResponse((SWAGGER_FILES / name).open("rb"))
    # The files change only with django-ninja itself; a day's caching spares 1.5 MB a visit.
    response["Cache-Control"] = "public, max-age=86400"
    return response
