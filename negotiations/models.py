"""The data: who proposed what, where it sits in its document, and who says so.

Every Demand carries at least one Citation: a short verbatim quote from a Source.
What the sources disagree about is stored as a Disagreement with one Version per
account, each with its own citations. Relations between opposing demands are our
own analysis and are labelled as such wherever they are shown.
"""

import datetime
import unicodedata
from collections import defaultdict
from typing import NamedTuple

from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.validators import MaxValueValidator, RegexValidator, URLValidator, validate_slug
from django.db import models
from django.db.models import F, Q, Subquery, prefetch_related_objects
from django.db.models.functions import Greatest, Least, Length, Lower, Trim
from django.db.models.lookups import GreaterThan, LessThanOrEqual
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords


class HttpURLField(models.URLField):
    """A URL a reader may follow: http or https only, never javascript:, data: or file:."""

    default_validators = [URLValidator(schemes=["http", "https"])]


# PostgreSQL's smallint stops at 32,767. SQLite would keep 40,000 in the same field, and that
# data would then not load into PostgreSQL: the limit is checked on every database.
SMALLINT = [MaxValueValidator(32_767)]


# Tab, line feed and carriage return: the only control characters a text of several lines needs.
LINE_BREAKS = frozenset("\t\n\r")


def check_plain_text(text, multiline=False):
    """Refuse what no one types on purpose and what breaks the Atom feed (XML 1.0 has no NUL,
    form feed or escape), the search highlighter (see MARK_START) and PostgreSQL (no NUL):
    control characters, often pasted along with text, and lone surrogates, which no UTF-8
    encodes. A text of one line takes no line break or tab either."""
    allowed = LINE_BREAKS if multiline else frozenset()
    for position, character in enumerate(text, 1):
        if character in allowed or unicodedata.category(character) not in ("Cc", "Cs"):
            continue
        code = f"U+{ord(character):04X}"
        if character in LINE_BREAKS:
            message = f"Remove the line break or tab ({code}) at character {position}: this "
            message += "field holds one line."
        else:
            message = f"Remove the invisible control character {code} at character {position} "
            message += "(it often comes along with pasted text): it cannot be published."
        raise ValidationError(message, code="control_character")


def plain_line(text):
    """A validator for a one-line text typed in a form (the reason for a change)."""
    check_plain_text(text)


def http_or_blank(field):
    return (
        Q(**{field: ""})
        | Q(**{f"{field}__startswith": "http://"})
        | Q(**{f"{field}__startswith": "https://"})
    )


def not_blank(field):
    return GreaterThan(Length(Trim(field)), 0)


class SlugQuerySet(models.QuerySet):
    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


SlugManager = models.Manager.from_queryset(SlugQuerySet)


class Revisions(HistoricalRecords):
    """simple-history's records, kept on the model as `revisions` so that a save which must
    record its revision later (after its links and rows) can call create_historical_record()."""

    def finalize(self, sender, **kwargs):
        super().finalize(sender, **kwargs)
        if sender is self.cls:
            sender.revisions = self


def history(excluded=(), **options):
    """Every curated model keeps each revision: who, when, why, and the values then."""
    return Revisions(excluded_fields=["revision", *excluded], **options)


def search_vector():
    """Full-text index column, kept up to date by a PostgreSQL trigger (see migration 0003).

    Derived data: not curated, not exported, not in the history; unused on SQLite.
    """
    return SearchVectorField(null=True, editable=False, serialize=False)


# Markers that cannot occur in curated text; the highlighter turns them into <mark> after
# escaping, so a headline never injects markup.
MARK_START, MARK_END = "\x02", "\x03"


class Timestamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    revision = models.PositiveIntegerField(
        default=1, help_text="Bumped on every save; a form holding an older number is stale."
    )
    # Fields a machine writes and no form edits: a save of these alone leaves the revision and
    # updated_at as they were, so a curator's open form is not made stale by it.
    machine_fields = frozenset()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields and set(update_fields) <= self.machine_fields:
            return super().save(*args, **kwargs)
        # Fixture loading saves raw and bypasses this, so loading twice changes nothing.
        if not self._state.adding:
            self.revision += 1
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "revision", "updated_at"}
        super().save(*args, **kwargs)

    def clean_fields(self, exclude=None):
        """Django's checks, then no control character in any text (see check_plain_text), as
        a form error on the field in the admin and a file, record and field in the import."""
        try:
            super().clean_fields(exclude)
            errors = {}
        except ValidationError as error:
            errors = error.error_dict
        for field in self._meta.concrete_fields:
            value = getattr(self, field.attname)
            if field.name in (exclude or ()) or field.name in errors or not isinstance(value, str):
                continue
            try:
                check_plain_text(value, multiline=isinstance(field, models.TextField))
            except ValidationError as error:
                errors[field.name] = error.error_list
        if errors:
            raise ValidationError(errors)


def parent(obj, field, attribute=None):
    """A parent's name, for __str__. A row deleted with its parent (a disagreement's versions)
    is still named in its history and the admin's deleted list, where the parent is gone."""
    try:
        value = getattr(obj, field)
    except ObjectDoesNotExist:
        return f"(deleted {obj._meta.get_field(field).verbose_name})"
    return getattr(value, attribute) if attribute else value


class Party(Timestamped):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    order = models.PositiveSmallIntegerField(
        unique=True,
        validators=SMALLINT,
        help_text="Column order on the comparison page, left to right.",
    )
    description = models.TextField(blank=True)

    objects = SlugManager()

    history = history()

    class Meta:
        ordering = ["order"]
        verbose_name_plural = "parties"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("party", args=[self.slug])

    def natural_key(self):
        return (self.slug,)


class Round(Timestamped):
    slug = models.SlugField(unique=True)
    number = models.PositiveSmallIntegerField(
        unique=True, validators=SMALLINT, help_text="1 for the first round."
    )
    date = models.DateField(unique=True)
    place = models.CharField(max_length=200, help_text="City and venue.")
    summary = models.TextField(blank=True, help_text="What this round produced, in our words.")

    objects = SlugManager()

    history = history()

    class Meta:
        ordering = ["date"]

    def __str__(self):
        return f"Round {self.number} ({self.date:%-d %B %Y})"

    def get_absolute_url(self):
        return reverse("rounds") + f"#{self.slug}"

    def natural_key(self):
        return (self.slug,)


class Topic(Timestamped):
    slug = models.SlugField(unique=True)
    code = models.CharField(max_length=3, unique=True, help_text="Short code, e.g. T01.")
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(help_text="What falls under this topic.")
    order = models.PositiveSmallIntegerField(unique=True, validators=SMALLINT)

    objects = SlugManager()

    history = history()

    class Meta:
        ordering = ["order"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("topic", args=[self.slug])

    def natural_key(self):
        return (self.slug,)


class Proposal(Timestamped):
    class Kind(models.TextChoices):
        MEMORANDUM = "memorandum", "Memorandum"
        # Ukraine's document is titled a framework; naming it a memorandum adopts one usage.
        FRAMEWORK = "framework", "Framework"
        PRE_TALK_POSITION = "pre-talk", "Pre-talk position"
        TABLE_PROPOSAL = "table", "Proposal at the table"
        # Said after a meeting, to partners or the public, not put to the other side.
        STATEMENT = "statement", "Statement after the talks"
        AGREED_OUTCOME = "agreed", "Agreed outcome"
        AFTERMATH = "aftermath", "What followed the round"
        REACTION = "reaction", "Reaction to the other side"

    slug = models.SlugField(unique=True)
    party = models.ForeignKey(Party, models.PROTECT, related_name="proposals")
    round = models.ForeignKey(
        Round,
        models.PROTECT,
        related_name="proposals",
        help_text="The round of talks the proposal was made for or at.",
    )
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind)
    date_presented = models.DateField(
        null=True, blank=True, help_text="When it was handed to the other side, if known."
    )
    date_published = models.DateField(
        null=True, blank=True, help_text="When its text (or a report of it) became public."
    )
    dates_note = models.CharField(
        max_length=300, blank=True, help_text="Say here when a date is inferred or disputed."
    )
    summary = models.TextField()

    objects = SlugManager()

    history = history()

    class Meta:
        ordering = ["round__date", "party__order", "date_presented", "slug"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("proposal", args=[self.slug])

    def natural_key(self):
        return (self.slug,)


class SectionQuerySet(models.QuerySet):
    def get_by_natural_key(self, proposal_slug, label):
        return self.get(proposal__slug=proposal_slug, label=label)


class Section(Timestamped):
    """A part of a proposal, in the proposal's own structure."""

    class Kind(models.TextChoices):
        PROVISIONS = "provisions", "Provisions"
        ALTERNATIVES = "alternatives", "Alternative options (one or the other)"
        STEPS = "steps", "Ordered steps"

    proposal = models.ForeignKey(Proposal, models.CASCADE, related_name="sections")
    label = models.CharField(max_length=20, help_text='As the document labels it, e.g. "II".')
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind, default=Kind.PROVISIONS)
    order = models.PositiveSmallIntegerField(validators=SMALLINT)
    note = models.TextField(blank=True)

    objects = SectionQuerySet.as_manager()

    history = history()

    class Meta:
        ordering = ["proposal", "order"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "label"], name="section_unique_label"),
            models.UniqueConstraint(fields=["proposal", "order"], name="section_unique_order"),
        ]

    def __str__(self):
        return f"{parent(self, 'proposal')} · {self.label}. {self.title}"

    def natural_key(self):
        return (*self.proposal.natural_key(), self.label)

    natural_key.dependencies = ["negotiations.proposal"]


class OptionQuerySet(models.QuerySet):
    def get_by_natural_key(self, proposal_slug, section_label, label):
        return self.get(
            section__proposal__slug=proposal_slug, section__label=section_label, label=label
        )


class Option(Timestamped):
    """One of the alternatives inside a section: the other side picks one, not all."""

    section = models.ForeignKey(Section, models.CASCADE, related_name="options")
    label = models.CharField(max_length=50, help_text='e.g. "Option 1".')
    title = models.CharField(max_length=200)
    order = models.PositiveSmallIntegerField(validators=SMALLINT)

    objects = OptionQuerySet.as_manager()

    history = history()

    class Meta:
        ordering = ["section", "order"]
        constraints = [
            models.UniqueConstraint(fields=["section", "label"], name="option_unique_label"),
            models.UniqueConstraint(fields=["section", "order"], name="option_unique_order"),
        ]

    def __str__(self):
        return f"{parent(self, 'section')} · {self.label}"

    def natural_key(self):
        return (*self.section.natural_key(), self.label)

    natural_key.dependencies = ["negotiations.section"]


class DemandQuerySet(models.QuerySet):
    def get_by_natural_key(self, code):
        return self.get(code=code)

    def on_topic(self, topic):
        """Demands whose primary or secondary topic is this one."""
        secondary = Demand.secondary_topics.through.objects.filter(topic=topic)
        return self.filter(Q(topic=topic) | Q(pk__in=secondary.values("demand")))

    def search(self, text):
        """Demands whose own words, topic or quotes hold the query, best first (see search.py).

        Annotated with `rank`, `summary_marked` and `paraphrase_marked` (on PostgreSQL the
        matches sit between MARK_START and MARK_END) and `own_match`: whether its own words
        matched, not only its quotes' or its topic's.
        """
        from negotiations.search import find_demands  # search.py builds on these models

        return find_demands(self, text)

    def firsthand(self):
        """Demands backed by at least one page that is neither an aggregator's nor a copy."""
        firsthand = Citation.objects.filter(demand=models.OuterRef("pk")).exclude(
            secondhand_sources("source__")
        )
        return self.filter(models.Exists(firsthand))

    def with_details(self):
        """Everything a demand's page, an export or the API shows, in a fixed number of queries.

        Related lists land in plain attributes (`secondary_topic_list`, `parameter_list`),
        which skips building a related manager per demand.
        """
        return self.select_related(
            "section__proposal__party", "section__proposal__round", "option", "topic"
        ).prefetch_related(
            models.Prefetch("secondary_topics", to_attr="secondary_topic_list"),
            models.Prefetch("parameters", to_attr="parameter_list"),
            models.Prefetch("citations", Citation.objects.select_related("source")),
            *links_prefetch(),
        )

    def listing(self):
        """What a demand's card in a list shows of the demand itself: summary, place, kind and
        status, and `option_size`, how many provisions its alternative option has in all.

        Only the columns the card reads, so the comparison page builds no more than it shows.
        Its numbers and citation markers come from negotiations.cards, only for the cards
        that are not cached already.
        """
        # How many points its option has in all, for a cell that shows only some of them.
        option_size = (
            Demand.objects.filter(option=models.OuterRef("option"))
            .order_by()
            .values("option")
            .annotate(size=models.Count("pk"))
            .values("size")
        )
        return (
            self.select_related("section__proposal__party", "option", "topic")
            .only(*LISTING_FIELDS)
            .annotate(option_size=Subquery(option_size))
        )

    def in_document_order(self):
        return self.order_by(
            "section__proposal__round__date",
            "section__proposal__party__order",
            "section__proposal__slug",
            "section__order",
            "option__order",
            "order",
        )


# The columns DemandQuerySet.listing() loads: what a card shows, and what places it in the grid.
LISTING_FIELDS = [
    "code",
    "summary",
    "paraphrase",
    "label",
    "kind",
    "status",
    "occurred_on",
    "occurred_until",
    "topic",
    "section",
    "option",
    "topic__slug",
    "topic__name",
    "topic__order",
    "section__label",
    "section__title",
    "section__order",
    "section__proposal",
    "section__proposal__slug",
    "section__proposal__kind",
    "section__proposal__party",
    "section__proposal__party__slug",
    "section__proposal__party__name",
    "section__proposal__party__order",
    "option__label",
    "option__title",
    "option__order",
]


def links_prefetch():
    """A demand's links to provisions of the other side, each with the provision at its other
    end (see Demand.counterparts): two queries, one per direction."""
    ends = ("section__proposal__party", "option")
    return [
        models.Prefetch(
            "links",
            ProvisionLink.objects.select_related(*(f"counterpart__{end}" for end in ends)),
            to_attr="links_out",
        ),
        models.Prefetch(
            "counterpart_links",
            ProvisionLink.objects.select_related(*(f"demand__{end}" for end in ends)),
            to_attr="links_in",
        ),
    ]


class Counterpart(NamedTuple):
    """A provision of the other side linked to a demand, and the link saying how they relate."""

    link: "ProvisionLink"
    demand: "Demand"


class CounterpartStatus(models.TextChoices):
    """Whether a provision is answered by the other side: our analysis, the same everywhere."""

    LINKED = "linked", "Linked to the other side's provisions"
    NO_COUNTERPART = "no-counterpart", "No counterpart"
    # An outcome both delegations agreed is no one side's position: nothing answers it.
    JOINT = "joint", "Agreed by both: not one side's position"


# The documents of both delegations (agreed, or what was carried out after a round): their
# provisions are no one side's position.
JOINT_KINDS = {"agreed", "aftermath"}


class Demand(Timestamped):
    """One provision of a proposal, placed where it sits in its document."""

    class Kind(models.TextChoices):
        SETTLEMENT_TERM = "settlement", "Final-settlement term"
        CEASEFIRE_CONDITION = "ceasefire-condition", "Ceasefire condition"
        CEASEFIRE_PROPOSAL = "ceasefire", "Ceasefire proposal"
        SEQUENCING_STEP = "step", "Sequencing step"
        PRINCIPLE = "principle", "Principle"
        HUMANITARIAN = "humanitarian", "Humanitarian / confidence-building"
        PROCESS = "process", "Process proposal"
        AGREED_OUTCOME = "agreed", "Agreed outcome"
        EXPECTED_TERM = "expected", "Reported expectation"
        CARRIED_OUT = "carried-out", "Carried out"
        STATEMENT = "statement", "Statement"

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed"
        SINGLE_SOURCE = "single-source", "Single source"
        UNCERTAIN = "uncertain", "Uncertain"

    code = models.CharField(
        max_length=20,
        unique=True,
        # Slug-safe, as the demand page's URL pattern expects.
        validators=[validate_slug],
        help_text="Stable identifier, e.g. RU-II-O2-3: party, section, option, item.",
    )
    section = models.ForeignKey(Section, models.PROTECT, related_name="demands")
    option = models.ForeignKey(
        Option,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="demands",
        help_text="Only for demands inside one of a section's alternative options.",
    )
    label = models.CharField(
        max_length=20, blank=True, help_text="Item label in the document, e.g. 3 or 1a."
    )
    order = models.PositiveSmallIntegerField(
        validators=SMALLINT, help_text="Position within its section or option."
    )
    topic = models.ForeignKey(Topic, models.PROTECT, related_name="demands")
    secondary_topics = models.ManyToManyField(Topic, blank=True, related_name="secondary_demands")
    kind = models.CharField(max_length=30, choices=Kind)
    summary = models.CharField(max_length=200, help_text="One neutral line, in our own words.")
    paraphrase = models.TextField(help_text="A fuller neutral paraphrase, in our own words.")
    status = models.CharField(
        max_length=20,
        choices=Status,
        default=Status.CONFIRMED,
        help_text="Confirmed: two independent outlets, or a primary text plus one more.",
    )
    status_note = models.TextField(blank=True, help_text="Why the status is what it is.")
    verified_on = models.DateField(
        null=True,
        blank=True,
        help_text="When a curator last checked this demand's quotes against its sources.",
    )
    occurred_on = models.DateField(
        null=True,
        blank=True,
        help_text="For what happened after a round, or was said then: the day it happened "
        "(the first day, when it took several).",
    )
    occurred_until = models.DateField(
        null=True, blank=True, help_text="The last day, when it took several days."
    )
    search_vector = search_vector()

    objects = DemandQuerySet.as_manager()

    history = history(m2m_fields=[secondary_topics], excluded=["search_vector"])

    class Meta:
        ordering = ["section__proposal__slug", "section__order", "option__order", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["section", "order"],
                condition=Q(option__isnull=True),
                name="demand_unique_order_in_section",
                violation_error_message="Another provision of this section has this order number.",
            ),
            models.UniqueConstraint(
                fields=["option", "order"],
                condition=Q(option__isnull=False),
                name="demand_unique_order_in_option",
                violation_error_message="Another provision of this option has this order number.",
            ),
            models.CheckConstraint(condition=not_blank("summary"), name="demand_summary_not_empty"),
            models.CheckConstraint(
                condition=not_blank("paraphrase"), name="demand_paraphrase_not_empty"
            ),
            models.CheckConstraint(
                condition=Q(occurred_until__isnull=True)
                | Q(occurred_on__isnull=False, occurred_until__gt=F("occurred_on")),
                name="demand_occurred_until_after_start",
                violation_error_message="A last day needs a first day before it.",
            ),
        ]

    def __str__(self):
        return f"{self.code}: {self.summary}"

    def get_absolute_url(self):
        return reverse("demand", args=[self.code])

    def clean(self):
        # An option is one of its section's alternatives: another section's would put the
        # provision in a document it is not in.
        errors = {
            **not_after_tomorrow(self.verified_on, "verified_on", "A verification date"),
            **not_after_tomorrow(self.occurred_on, "occurred_on", "The day it happened"),
            **not_after_tomorrow(self.occurred_until, "occurred_until", "The last day"),
        }
        if self.option_id and self.section_id and self.option.section_id != self.section_id:
            errors["option"] = (
                "This option belongs to another section: choose one of this section's "
                "options, or none."
            )
        if errors:
            raise ValidationError(errors)

    def natural_key(self):
        return (self.code,)

    @property
    def proposal(self):
        return self.section.proposal

    @property
    def occurred(self):
        """When it happened, in words: "23–25 May 2025", or "" when no day is recorded."""
        start, end = self.occurred_on, self.occurred_until
        if not start:
            return ""
        if not end:
            return f"{start:%-d %B %Y}"
        if (start.year, start.month) == (end.year, end.month):
            return f"{start:%-d}–{end:%-d %B %Y}"
        return f"{start:%-d %B}–{end:%-d %B %Y}"

    @property
    def counterparts(self):
        """[Counterpart, …] by the other provision's code: with_details() prefetches them."""
        if not hasattr(self, "links_out"):
            prefetch_related_objects([self], *links_prefetch())
        pairs = [Counterpart(link, link.counterpart) for link in self.links_out]
        pairs += [Counterpart(link, link.demand) for link in self.links_in]
        return sorted(pairs, key=lambda pair: pair.demand.code)

    @property
    def counterpart_status(self):
        if self.section.proposal.kind in JOINT_KINDS:
            return CounterpartStatus.JOINT
        return CounterpartStatus.LINKED if self.counterparts else CounterpartStatus.NO_COUNTERPART

    @property
    def place(self):
        """Where it sits in its document, e.g. "Memorandum · II · Option 2 · 3"."""
        parts = [self.section.proposal.get_kind_display(), self.section.label]
        if self.option:
            parts.append(self.option.label)
        if self.label:
            parts.append(self.label)
        return " · ".join(parts)


class Parameter(Timestamped):
    """A number in a provision (30 days, 1,000 prisoners) so it can be shown and compared."""

    class Unit(models.TextChoices):
        DAYS = "days", "days"
        HOURS = "hours", "hours"
        PEOPLE = "people", "people"
        PRISONERS = "prisoners", "prisoners"
        BODIES = "bodies", "bodies"
        CHILDREN = "children", "children"
        REGIONS = "regions", "regions"
        YEARS = "years", "years of age"

    class Bound(models.TextChoices):
        EXACT = "exact", "exactly"
        AT_LEAST = "at-least", "at least"
        AT_MOST = "at-most", "at most"
        RANGE = "range", "between"

    demand = models.ForeignKey(Demand, models.CASCADE, related_name="parameters")
    name = models.CharField(max_length=100, help_text='What the number measures, e.g. "truce".')
    bound = models.CharField(max_length=10, choices=Bound, default=Bound.EXACT)
    value = models.PositiveIntegerField()
    value_max = models.PositiveIntegerField(
        null=True, blank=True, help_text="Upper end, for a range only."
    )
    unit = models.CharField(max_length=20, choices=Unit)
    note = models.CharField(max_length=300, blank=True)

    history = history()

    class Meta:
        ordering = ["demand", "name"]
        constraints = [
            models.UniqueConstraint(fields=["demand", "name"], name="parameter_unique_name"),
            models.CheckConstraint(
                condition=(
                    Q(bound="range", value_max__isnull=False) & Q(value_max__gt=models.F("value"))
                )
                | (~Q(bound="range") & Q(value_max__isnull=True)),
                name="parameter_range_has_upper_end",
                violation_error_message=(
                    "A range (between) needs an upper end above its lower end; "
                    "the other bounds take no upper end."
                ),
            ),
        ]

    def __str__(self):
        # Also shown for a form that failed validation, where a number may be missing.
        value, value_max = (
            f"{n:,}" if n is not None else "?" for n in (self.value, self.value_max)
        )
        if self.bound == self.Bound.RANGE:
            return f"{self.name}: {value}–{value_max} {self.get_unit_display()}"
        prefix = "" if self.bound == self.Bound.EXACT else f"{self.get_bound_display()} "
        return f"{self.name}: {prefix}{value} {self.get_unit_display()}"


class LinkStatus(models.TextChoices):
    """What a link check found at a source's address (see manage.py check_links)."""

    UNCHECKED = "unchecked", "Not checked"
    OK = "ok", "Answers"
    # The server answered but turns robots away (401, 403, 429), or did not answer in time:
    # the page may well be there, so readers are told nothing.
    REFUSED = "refused", "Refused or timed out"
    # Found dead once (404 or 410, no such host, nothing listening) and waiting for a later
    # check to confirm it: sites go down for an hour, and readers are told nothing until then.
    FAILING = "failing", "Not answering, to confirm"
    # Found dead by two checks some hours apart.
    DEAD = "dead", "Dead"


# The reason a link check's save gives in the history.
LINK_CHECK_REASON = "Link check"

# A source's addresses, each with the prefix of the three fields a link check records for it.
CHECKED_ADDRESSES = (("url", "link"), ("archived_url", "archive"))


def finding_fields(prefix):
    return (f"{prefix}_status", f"{prefix}_detail", f"{prefix}_checked")


def not_after_tomorrow(day, field, what):
    """{field: error} when a date is later than it can be. Tomorrow is allowed: a page dated in
    Moscow or Kyiv can be a day ahead of the server's UTC."""
    if day and day > timezone.localdate() + datetime.timedelta(days=1):
        return {field: f"{what} cannot be in the future."}
    return {}


# A citation marker's kind in one word, and the shape that shows it besides the word (not by
# colour alone): the publisher's kind, or "copy" when the only page to open is a copy.
COPY = "copy"
MARKER_KINDS = {
    "official": ("official", "■"),
    "agency": ("agency", "●"),
    "newspaper": ("newspaper", "▲"),
    "analysis": ("analysis", "◆"),
    "aggregator": ("aggregator", "○"),
    COPY: ("copy", "◌"),
}
# What only carries what others wrote: a provision backed by nothing else says so.
SECONDHAND = frozenset({"aggregator", COPY})


def credit(publisher, copy_publisher):
    return f"{publisher}, via {copy_publisher}" if copy_publisher else publisher


def marker_kind(kind, only_on_copy):
    return COPY if only_on_copy else kind


def secondhand_sources(prefix=""):
    """Q for sources only an aggregator or a copy stands for (prefix "source__" from a
    citation)."""
    return Q(**{f"{prefix}kind": "aggregator"}) | (
        Q(**{f"{prefix}url": ""}) & ~Q(**{f"{prefix}archived_url": ""})
    )


class Source(Timestamped):
    class Kind(models.TextChoices):
        """What kind of publisher wrote the page: who a reader is trusting."""

        OFFICIAL = "official", "Official text"
        AGENCY = "agency", "News agency"
        NEWSPAPER = "newspaper", "Newspaper or broadcaster"
        ANALYSIS = "analysis", "Analysis"
        AGGREGATOR = "aggregator", "Aggregator or mirror"

    slug = models.SlugField(unique=True, max_length=80)
    title = models.CharField(max_length=300)
    title_is_descriptive = models.BooleanField(
        default=False,
        help_text="Tick when the headline was not captured and the title is our description.",
    )
    publisher = models.CharField(
        max_length=100,
        help_text="Who wrote the page: the original publisher, also when it was read on a copy.",
    )
    short_name = models.CharField(
        max_length=30,
        blank=True,
        default="",
        help_text='The publisher as a citation marker names it, e.g. "ISW"; blank for the '
        "publisher's name.",
    )
    copy_publisher = models.CharField(
        max_length=100,
        blank=True,
        default="",
        help_text="Where the page was read when it is another publisher's copy, e.g. \"HK "
        'Business Wire" for a Reuters report; its address goes under the copy of the page.',
    )
    url = HttpURLField(
        max_length=500,
        blank=True,
        help_text="The page as its publisher published it (http or https), never a copy's "
        "address. Leave blank if no URL is known.",
    )
    url_note = models.CharField(
        max_length=300, blank=True, help_text="Why the URL is blank or what is odd about it."
    )
    archived_url = HttpURLField(
        max_length=500,
        blank=True,
        help_text="An archived snapshot or a faithful copy of the page (optional).",
    )
    published = models.DateField(null=True, blank=True)
    published_note = models.CharField(
        max_length=200, blank=True, help_text='e.g. "inferred from the text", "±1 day".'
    )
    accessed = models.DateField(help_text="When we last read the page.")
    language = models.CharField(
        max_length=10,
        default="en",
        validators=[
            RegexValidator(
                r"\A[a-z]{2}\Z", "Use a two-letter ISO 639-1 code in lower case, e.g. en, ru, uk."
            )
        ],
        help_text="ISO 639-1 code.",
    )
    kind = models.CharField(max_length=20, choices=Kind, help_text="The publisher's kind.")
    state_media = models.BooleanField(
        default=False, help_text="Tick when the publisher is owned or run by a state."
    )
    reliability_note = models.TextField(blank=True)
    # What `manage.py check_links` found at the url and at the archived copy. Machine findings,
    # not curated data: no form edits them and the fixtures leave them out (serialize=False);
    # the history keeps them, so a "no longer answers" on a page can be traced to its check.
    link_status = models.CharField(
        max_length=10,
        choices=LinkStatus,
        default=LinkStatus.UNCHECKED,
        editable=False,
        serialize=False,
    )
    link_detail = models.CharField(
        max_length=100,
        blank=True,
        editable=False,
        serialize=False,
        help_text='What answered, e.g. "HTTP 404" or "connection refused".',
    )
    link_checked = models.DateTimeField(
        null=True,
        editable=False,
        serialize=False,
        help_text="When the link check found the current status.",
    )
    archive_status = models.CharField(
        max_length=10,
        choices=LinkStatus,
        default=LinkStatus.UNCHECKED,
        editable=False,
        serialize=False,
    )
    archive_detail = models.CharField(max_length=100, blank=True, editable=False, serialize=False)
    archive_checked = models.DateTimeField(null=True, editable=False, serialize=False)

    objects = SlugManager()

    history = history()

    machine_fields = frozenset(name for _, p in CHECKED_ADDRESSES for name in finding_fields(p))

    class Meta:
        # By publisher whatever its case, on every database: SQLite would put "ASB Media"
        # before "Al Mayadeen".
        ordering = [Lower("publisher"), "published", "slug"]
        constraints = [
            models.CheckConstraint(condition=http_or_blank("url"), name="source_url_http"),
            models.CheckConstraint(
                condition=http_or_blank("archived_url"), name="source_archived_url_http"
            ),
            models.CheckConstraint(condition=not_blank("title"), name="source_title_not_empty"),
            models.CheckConstraint(
                condition=~Q(url="") | ~Q(url_note=""),
                name="source_missing_url_explained",
                violation_error_message="Give the page's address, or say in the URL note why "
                "there is none.",
            ),
            models.CheckConstraint(
                condition=Q(published__isnull=True) | Q(accessed__gte=F("published")),
                name="source_accessed_not_before_published",
                violation_error_message="The page cannot have been read before it was "
                "published: check both dates.",
            ),
            models.CheckConstraint(
                condition=Q(copy_publisher="") | ~Q(archived_url=""),
                name="source_copy_has_address",
                violation_error_message="Give the address of the copy the page was read on "
                "(Copy of the page), or leave where it was read blank.",
            ),
            models.CheckConstraint(
                condition=Q(link_status__in=LinkStatus.values), name="source_link_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(archive_status__in=LinkStatus.values),
                name="source_archive_status_valid",
            ),
        ]

    def __str__(self):
        return f"{self.publisher} — {self.title}"

    def save(self, *args, **kwargs):
        # The findings are the link check's alone (it saves them by name, in update_fields). Any
        # other save, a curator's or a revert to an old revision, keeps what the check last
        # found.
        checking = self.machine_fields & set(kwargs.get("update_fields") or ())
        if not self._state.adding and not checking:
            fields = [name for a, p in CHECKED_ADDRESSES for name in (a, *finding_fields(p))]
            stored = Source.objects.filter(pk=self.pk).only(*fields).first()
            if stored:
                self.keep_findings(stored)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("source", args=[self.slug])

    def clean(self):
        errors = {
            **not_after_tomorrow(self.published, "published", "A publication date"),
            **not_after_tomorrow(self.accessed, "accessed", "The day we read the page"),
        }
        if errors:
            raise ValidationError(errors)

    @property
    def title_language(self):
        """The language the title is in, for a page's lang attribute (screen readers read
        Cyrillic as Cyrillic): the source's, unless the title is our own English description."""
        if self.title_is_descriptive and self.title.isascii():
            return "en"
        return self.language

    @property
    def credit(self):
        """Who wrote the page and, for a copy, where it was read: "Reuters, via HK Business
        Wire"."""
        return credit(self.publisher, self.copy_publisher)

    @property
    def only_on_copy(self):
        """Whether the only page a reader can open is a copy: the publisher's own address is
        not known."""
        return not self.url and bool(self.archived_url)

    @property
    def marker_kind(self):
        """The kind a citation marker shows: the publisher's, or "copy"."""
        return marker_kind(self.kind, self.only_on_copy)

    @property
    def kind_label(self):
        """The kind in words, "News agency, state media" for a state's."""
        label = self.get_kind_display()
        return f"{label}, state media" if self.state_media else label

    @property
    def link_is_dead(self):
        return self.link_status == LinkStatus.DEAD

    @property
    def archive_is_dead(self):
        return bool(self.archived_url) and self.archive_status == LinkStatus.DEAD

    def keep_findings(self, stored):
        """Take the link check's findings from the stored row, except for an address that
        changed: that one has not been checked."""
        for address, prefix in CHECKED_ADDRESSES:
            same = getattr(stored, address) == getattr(self, address)
            for name in finding_fields(prefix):
                value = getattr(stored, name) if same else self._meta.get_field(name).get_default()
                setattr(self, name, value)

    def natural_key(self):
        return (self.slug,)


class Relation(Timestamped):
    """How opposing demands on one topic relate. Our analysis, not a sourced fact."""

    class Kind(models.TextChoices):
        CONFLICT = "conflict", "Conflict"
        PARTIAL_OVERLAP = "partial-overlap", "Partial overlap"
        COMPATIBLE = "compatible", "Compatible"
        AGREED = "agreed", "Agreed"
        NO_COUNTERPART = "no-counterpart", "No counterpart"

    slug = models.SlugField(unique=True, max_length=80)
    topic = models.ForeignKey(Topic, models.PROTECT, related_name="relations")
    kind = models.CharField(max_length=20, choices=Kind)
    demands = models.ManyToManyField(Demand, related_name="relations")
    rationale = models.TextField(help_text="Our own analysis: say why, in neutral words.")

    objects = SlugManager()

    history = history(m2m_fields=[demands])

    class Meta:
        ordering = ["topic__order", "slug"]

    def __str__(self):
        return f"{self.topic}: {self.get_kind_display()}"

    def get_absolute_url(self):
        return self.topic.get_absolute_url()

    def natural_key(self):
        return (self.slug,)


# How two linked provisions relate: every kind of Relation but "no counterpart", which is the
# absence of a link.
LINK_KINDS = [
    (value, label)
    for value, label in Relation.Kind.choices
    if value != Relation.Kind.NO_COUNTERPART
]


class ProvisionLinkQuerySet(models.QuerySet):
    def get_by_natural_key(self, demand_code, counterpart_code):
        return self.get(demand__code=demand_code, counterpart__code=counterpart_code)

    def touching(self, demands):
        """The links with one of these demands (ids or a queryset) on either side."""
        return self.filter(Q(demand__in=demands) | Q(counterpart__in=demands))


class ProvisionLink(Timestamped):
    """One provision answered by a provision of another party, and how the two relate.

    Our analysis, not a sourced fact. A link reads both ways: it is stored once, under either
    provision. A provision of a negotiating side with no link has no counterpart.
    """

    demand = models.ForeignKey(Demand, models.CASCADE, related_name="links")
    counterpart = models.ForeignKey(
        Demand,
        models.CASCADE,
        related_name="counterpart_links",
        help_text="A provision of another party that answers this one.",
    )
    kind = models.CharField(max_length=20, choices=LINK_KINDS)
    rationale = models.CharField(
        max_length=300, help_text="Our own analysis, in one neutral line: say why."
    )

    objects = ProvisionLinkQuerySet.as_manager()

    history = history()

    class Meta:
        ordering = ["demand__code", "counterpart__code"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(demand=F("counterpart")),
                name="provision_link_not_self",
                violation_error_message="A provision cannot be its own counterpart.",
            ),
            # Once per pair, whichever way round: the link reads both ways.
            models.UniqueConstraint(
                Least("demand", "counterpart"),
                Greatest("demand", "counterpart"),
                name="provision_link_unique_pair",
                violation_error_message="These two provisions are already linked.",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[value for value, _ in LINK_KINDS]),
                name="provision_link_kind_valid",
            ),
            models.CheckConstraint(
                condition=not_blank("rationale"), name="provision_link_rationale_not_empty"
            ),
        ]

    def __str__(self):
        return f"{parent(self, 'demand', 'code')} ↔ {parent(self, 'counterpart', 'code')}"

    def clean(self):
        # The parties are two joins away: no constraint of the database can compare them.
        if self.demand_id and self.counterpart_id:
            parties = Demand.objects.filter(pk__in=[self.demand_id, self.counterpart_id])
            if parties.values("section__proposal__party").distinct().count() < 2:
                raise ValidationError(
                    {
                        "counterpart": "Choose a provision of another party: a link answers one "
                        "side's provision with the other side's."
                    }
                )

    def natural_key(self):
        return (self.demand.code, self.counterpart.code)

    natural_key.dependencies = ["negotiations.demand"]

    def other(self, demand):
        """The provision at the other end from `demand`."""
        return self.counterpart if self.demand_id == demand.pk else self.demand


class Disagreement(Timestamped):
    """Sources disagree about one fact; each account is kept with its citations."""

    slug = models.SlugField(unique=True, max_length=80)
    code = models.CharField(max_length=5, unique=True, help_text="e.g. D2.")
    title = models.CharField(max_length=200, help_text="The fact in question.")
    demands = models.ManyToManyField(Demand, blank=True, related_name="disagreements")
    proposal = models.ForeignKey(
        Proposal,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="disagreements",
        help_text="When the disagreement is about the document itself (its date, its size).",
    )
    round = models.ForeignKey(
        Round,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="disagreements",
        help_text="When the disagreement is about a round of talks (its length, its events).",
    )
    assessment = models.TextField(
        blank=True, help_text="Our own reading of which account is better supported, and why."
    )

    objects = SlugManager()

    history = history(m2m_fields=[demands])

    class Meta:
        ordering = ["slug"]

    def __str__(self):
        return f"{self.code}: {self.title}"

    def natural_key(self):
        return (self.slug,)


class VersionQuerySet(models.QuerySet):
    def get_by_natural_key(self, disagreement_slug, order):
        return self.get(disagreement__slug=disagreement_slug, order=order)


class Version(Timestamped):
    """One source's account of a disputed fact."""

    disagreement = models.ForeignKey(Disagreement, models.CASCADE, related_name="versions")
    order = models.PositiveSmallIntegerField(validators=SMALLINT)
    claim = models.CharField(max_length=200, help_text='The account in brief, e.g. "339 children".')

    objects = VersionQuerySet.as_manager()

    history = history()

    class Meta:
        ordering = ["disagreement", "order"]
        constraints = [
            models.UniqueConstraint(fields=["disagreement", "order"], name="version_unique_order"),
        ]

    def __str__(self):
        return f"{parent(self, 'disagreement', 'code')}: {self.claim}"

    def natural_key(self):
        return (*self.disagreement.natural_key(), self.order)

    natural_key.dependencies = ["negotiations.disagreement"]


class Quote(NamedTuple):
    """One quote a marker lists: where it is on its source's page on this site."""

    href: str
    verified: bool  # whether the quote was re-checked against a copy of the page
    locator: str


class Marker(NamedTuple):
    """A listed demand's link to one of its sources, with every quote it takes from it."""

    href: str  # the source's page on this site
    url: str  # the page to read: the publisher's, or its copy when that is all there is
    url_is_copy: bool  # whether `url` is the copy's address, never to be shown as the publisher's
    credit: str  # "Reuters, via HK Business Wire"
    name: str  # the publisher, short
    kind: str  # official, agency, newspaper, analysis, aggregator or copy (MARKER_KINDS)
    state_media: bool
    title: str
    published: datetime.date | None
    quotes: list  # [Quote, …] in citation order

    @property
    def verified(self):
        return all(quote.verified for quote in self.quotes)

    @property
    def secondhand(self):
        return self.kind in SECONDHAND


class CitationQuerySet(models.QuerySet):
    def matching(self, text):
        """The citations whose quote holds a search's words, as DemandQuerySet.search() finds
        them, with the quote as `quote_marked` (on PostgreSQL with its matches marked): what
        shows why a demand was found when its own words do not."""
        from negotiations.search import find_citations  # search.py builds on these models

        return find_citations(self, text)

    def markers(self):
        """{demand id: [Marker, …]}: one marker per source, in the order of each source's
        first quote, listing its quotes.

        Tuples rather than a Citation and a Source instance per marker: the comparison page
        shows some 300 quotes, and building those instances took six times as long.
        """
        hrefs = {}  # each source's page, reversed once
        by_demand = defaultdict(dict)
        rows = self.order_by("demand", "order", "pk").values_list(
            "demand",
            "pk",
            "quote_verified",
            "locator",
            "source__slug",
            "source__url",
            "source__archived_url",
            "source__link_status",
            "source__publisher",
            "source__short_name",
            "source__copy_publisher",
            "source__kind",
            "source__state_media",
            "source__title",
            "source__published",
        )
        for row in rows:
            demand, pk, verified, locator, slug, url, archived_url, link, *rest = row
            publisher, short, copy, kind, state, title, published = rest
            if slug not in hrefs:
                hrefs[slug] = reverse("source", args=[slug])
            markers = by_demand[demand]
            if slug not in markers:
                # A dead original sends the reader to the copy, when there is one.
                dead = link == LinkStatus.DEAD
                address = archived_url or url if dead else url or archived_url
                markers[slug] = Marker(
                    hrefs[slug],
                    address,
                    address != url,
                    credit(publisher, copy),
                    short or publisher,
                    marker_kind(kind, not url and bool(archived_url)),
                    state,
                    title,
                    published,
                    [],
                )
            markers[slug].quotes.append(Quote(f"{hrefs[slug]}#citation-{pk}", verified, locator))
        return defaultdict(list, {demand: list(m.values()) for demand, m in by_demand.items()})


class Citation(Timestamped):
    """A short verbatim quote from a source, backing a demand, a relation or a version."""

    source = models.ForeignKey(Source, models.PROTECT, related_name="citations")
    demand = models.ForeignKey(
        Demand, models.CASCADE, null=True, blank=True, related_name="citations"
    )
    relation = models.ForeignKey(
        Relation, models.CASCADE, null=True, blank=True, related_name="citations"
    )
    version = models.ForeignKey(
        Version, models.CASCADE, null=True, blank=True, related_name="citations"
    )
    quote = models.TextField(
        help_text="Copied verbatim from the source, a sentence or two. Never retyped."
    )
    translation = models.TextField(
        blank=True, help_text="Our English translation, when the quote is in another language."
    )
    locator = models.CharField(
        max_length=200, blank=True, help_text="Where in the source: paragraph, section, minute."
    )
    search_vector = search_vector()
    quote_verified = models.BooleanField(
        default=True,
        help_text="Whether a curator compared the quote with the page or its copy; set with "
        "Verification.",
    )
    order = models.PositiveSmallIntegerField(default=1, validators=SMALLINT)

    objects = CitationQuerySet.as_manager()

    history = history(excluded=["search_vector"])

    class Meta:
        ordering = ["order", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(demand__isnull=False, relation__isnull=True, version__isnull=True)
                    | Q(demand__isnull=True, relation__isnull=False, version__isnull=True)
                    | Q(demand__isnull=True, relation__isnull=True, version__isnull=False)
                ),
                name="citation_backs_exactly_one_thing",
                violation_error_message="A quote backs exactly one thing: a provision, a "
                "relation or a version of a disagreement.",
            ),
            models.CheckConstraint(condition=not_blank("quote"), name="citation_quote_not_empty"),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("quote"), 600),
                name="citation_quote_short",
                violation_error_message="A quote is at most 600 characters: a sentence or two, "
                "copied from the source.",
            ),
        ]

    def __str__(self):
        return f"{self.source.publisher}: “{self.quote[:60]}”"

    def get_absolute_url(self):
        """Where a reader finds it: on its source's page, which lists every quote taken from it."""
        return f"{self.source.get_absolute_url()}#citation-{self.pk}"

    def clean(self):
        # Every provision is backed by at least one quote: moving a provision's last quote to
        # something else would leave it with none.
        was = Citation.objects.filter(pk=self.pk).values_list("demand", flat=True).first()
        if (
            was
            and was != self.demand_id
            and not Citation.objects.filter(demand=was).exclude(pk=self.pk).exists()
        ):
            raise ValidationError(
                "This is the only quote backing its provision: add another quote to that "
                "provision before moving this one."
            )


class ContextFigure(Timestamped):
    """A dated, cited figure that gives a topic its context (territory held, children
    deported): a fact reported by a source, not a provision of any party."""

    slug = models.SlugField(unique=True, max_length=80)
    topic = models.ForeignKey(Topic, models.PROTECT, related_name="context_figures")
    label = models.CharField(max_length=200, help_text="What the figure measures, in our words.")
    figure = models.CharField(
        max_length=100, help_text='The figure as the source gives it, e.g. "79.8 %".'
    )
    as_of = models.DateField(null=True, blank=True, help_text="The day the figure refers to.")
    as_of_note = models.CharField(
        max_length=200, blank=True, help_text="Say here when the day is approximate or inferred."
    )
    note = models.TextField(blank=True, help_text="Whose figure it is and how to read it.")
    source = models.ForeignKey(Source, models.PROTECT, related_name="context_figures")
    quote = models.TextField(help_text="Copied verbatim from the source. Never retyped.")
    translation = models.TextField(blank=True)
    locator = models.CharField(max_length=200, blank=True)
    quote_verified = models.BooleanField(
        default=True, help_text="Whether a curator compared the quote with the page or its copy."
    )
    order = models.PositiveSmallIntegerField(validators=SMALLINT)

    objects = SlugManager()

    history = history()

    class Meta:
        ordering = ["topic__order", "order", "slug"]
        constraints = [
            models.UniqueConstraint(fields=["topic", "order"], name="context_unique_order"),
            models.CheckConstraint(condition=not_blank("quote"), name="context_quote_not_empty"),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("quote"), 600),
                name="context_quote_short",
                violation_error_message="A quote is at most 600 characters.",
            ),
        ]

    def __str__(self):
        return f"{self.label}: {self.figure}"

    def get_absolute_url(self):
        return f"{self.topic.get_absolute_url()}#context-{self.slug}"

    def clean(self):
        errors = not_after_tomorrow(self.as_of, "as_of", "The day a figure refers to")
        if errors:
            raise ValidationError(errors)

    def natural_key(self):
        return (self.slug,)


class DataVersion(models.Model):
    """One row, bumped in the same transaction as every change to curated data.

    Cached pages are keyed on it, so every app server stops serving a page the moment the
    data behind it changes, whichever server made the change.
    """

    value = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField(null=True)

    def __str__(self):
        return f"data version {self.value}"
