import re

from django import forms
from django.db.models import Q

from negotiations.models import (
    JOINT_KINDS,
    LINK_CHECK_REASON,
    Demand,
    Proposal,
    ProvisionLink,
    Relation,
    Source,
    plain_line,
)


class SlugChoiceField(forms.ModelChoiceField):
    """Choose by slug, so a filtered URL reads /?topic=neutrality rather than /?topic=4."""

    def __init__(self, queryset, **kwargs):
        super().__init__(queryset, to_field_name="slug", required=False, **kwargs)


# The comparison's filter on how a provision is sourced: `sources=firsthand` hides those backed
# only by aggregators or copies.
FIRSTHAND = "firsthand"
SOURCING = [("", "Any sources"), (FIRSTHAND, "Not only aggregators or copies")]


class ComparisonFilterForm(forms.Form):
    """The filters of the comparison page.

    Its menus are built from the topics and proposals the page loads anyway, so the form
    costs no query of its own; values are slugs, so a filtered URL reads /?topic=neutrality.
    """

    topic = forms.ChoiceField(required=False)
    round = forms.ChoiceField(required=False)
    party = forms.ChoiceField(required=False)
    proposal = forms.ChoiceField(required=False)
    kind = forms.ChoiceField(choices=[("", "All kinds"), *Demand.Kind.choices], required=False)
    relation = forms.ChoiceField(label="Relation (our analysis)", required=False)
    sources = forms.ChoiceField(choices=SOURCING, required=False)
    q = forms.CharField(label="Search", max_length=200, required=False, strip=True)
    # How the page reads, not what it shows: no filter (see is_filtered).
    reasoning = forms.BooleanField(label="Show the reasoning for every pair", required=False)

    def __init__(self, data, *, topics, proposals, link_kinds):
        super().__init__(data)
        parties = {p.party.slug: p.party for p in proposals}
        rounds = sorted({p.round for p in proposals}, key=lambda r: r.date)
        self.objects = {
            "topic": {t.slug: t for t in topics},
            "round": {r.slug: r for r in rounds},
            "party": parties,
            "proposal": {p.slug: p for p in proposals},
        }
        empty = {
            "topic": "All topics",
            "round": "All rounds",
            "party": "All parties",
            "proposal": "All proposals",
        }
        for name, objects in self.objects.items():
            self.fields[name].choices = [("", empty[name])] + [
                (slug, str(obj)) for slug, obj in objects.items()
            ]
        # Only the kinds of link recorded, and provisions no link answers: a menu entry that can
        # only show nothing misleads.
        recorded = {*link_kinds, Relation.Kind.NO_COUNTERPART}
        self.fields["relation"].choices = [("", "Any relation")] + [
            (kind, label) for kind, label in Relation.Kind.choices if kind in recorded
        ]

    def clean_reasoning(self):
        # The box sends "on"; any other value would be the same page under another cache key.
        if self.data.get("reasoning", "") not in ("", "on"):
            raise forms.ValidationError("Use reasoning=on, or leave it out.")
        return self.cleaned_data["reasoning"]

    def _clean_object(self, name):
        slug = self.cleaned_data[name]
        return self.objects[name][slug] if slug else None

    def clean_topic(self):
        return self._clean_object("topic")

    def clean_round(self):
        return self._clean_object("round")

    def clean_party(self):
        return self._clean_object("party")

    def clean_proposal(self):
        return self._clean_object("proposal")

    def clean_q(self):
        q = self.cleaned_data["q"]
        if "\x00" in q:
            raise forms.ValidationError("Search text cannot contain a NUL character.")
        return q

    def clean(self):
        data = super().clean()
        party, proposal = data.get("party"), data.get("proposal")
        if party and proposal and proposal.party != party:
            # Together they can only show nothing, and an empty grid would not say why.
            self.add_error("proposal", f"{proposal.party.name}'s, not {party.name}'s.")
        chosen_round = data.get("round")
        if chosen_round and proposal and proposal.round != chosen_round:
            self.add_error("proposal", f"Made for {proposal.round}, not {chosen_round}.")
        return data

    def filter_demands(self, demands):
        data = self.cleaned_data
        if data["topic"]:
            demands = demands.on_topic(data["topic"])
        if data["round"]:
            demands = demands.filter(section__proposal__round=data["round"])
        if data["party"]:
            demands = demands.filter(section__proposal__party=data["party"])
        if data["proposal"]:
            demands = demands.filter(section__proposal=data["proposal"])
        if data["kind"]:
            demands = demands.filter(kind=data["kind"])
        if data["sources"] == FIRSTHAND:
            demands = demands.firsthand()
        if data["relation"] == Relation.Kind.NO_COUNTERPART:
            # A side's provision that no link answers; what both delegations agreed or carried
            # out is no side's.
            links = ProvisionLink.objects.all()
            demands = demands.exclude(pk__in=links.values("demand")).exclude(
                pk__in=links.values("counterpart")
            )
            demands = demands.exclude(section__proposal__kind__in=JOINT_KINDS)
        elif data["relation"]:
            links = ProvisionLink.objects.filter(kind=data["relation"])
            demands = demands.filter(
                Q(pk__in=links.values("demand")) | Q(pk__in=links.values("counterpart"))
            )
        if data["q"]:
            demands = demands.search(data["q"])
        return demands

    def filter_topics(self, topics):
        data = self.cleaned_data
        if data["topic"]:
            topics = [topic for topic in topics if topic == data["topic"]]
        return topics

    def filter_proposals(self, proposals):
        data = self.cleaned_data
        if data["round"]:
            proposals = [p for p in proposals if p.round == data["round"]]
        if data["party"]:
            proposals = [p for p in proposals if p.party == data["party"]]
        if data["proposal"]:
            proposals = [p for p in proposals if p == data["proposal"]]
        return proposals

    @property
    def summary(self):
        """The filter in words, for the page title: "Neutrality · Ukraine · “orthodox”"."""
        data = self.cleaned_data
        names = ("topic", "round", "party", "proposal")
        parts = [str(data[name]) for name in names if data[name]]
        if data["kind"]:
            parts.append(dict(self.fields["kind"].choices)[data["kind"]])
        if data["relation"]:
            relation = dict(self.fields["relation"].choices)[data["relation"]]
            parts.append(f"Relation: {relation} (our analysis)")
        if data["sources"]:
            parts.append(dict(SOURCING)[data["sources"]])
        if data["q"]:
            parts.append(f"“{data['q']}”")
        return " · ".join(parts)

    @property
    def is_filtered(self):
        return any(value for name, value in self.cleaned_data.items() if name != "reasoning")

    @property
    def searches(self):
        """Filters that pick provisions by what they say or how the other side answers them: a
        row without a match is left out."""
        data = self.cleaned_data
        return bool(data.get("q") or data.get("kind") or data.get("relation"))

    @property
    def narrows_cells(self):
        """Filters that hide some of a party's provisions inside a topic row, not just rows or
        columns: what a cell shows is then not all its party's documents hold on the topic."""
        data = self.cleaned_data
        return self.searches or bool(
            data.get("proposal") or data.get("sources") or data.get("round")
        )


class CompareForm(forms.Form):
    # With their parties: the page names each side's party.
    a = SlugChoiceField(
        Proposal.objects.select_related("party"), label="Compare", empty_label="Choose a proposal"
    )
    b = SlugChoiceField(
        Proposal.objects.select_related("party"), label="with", empty_label="Choose a proposal"
    )

    def clean(self):
        cleaned_data = super().clean()
        a, b = cleaned_data.get("a"), cleaned_data.get("b")
        if a and a == b:
            raise forms.ValidationError("Choose two different proposals.")
        if not self.errors and bool(a) != bool(b):
            self.add_error("a" if b else "b", "Choose a second proposal to compare with.")
        return cleaned_data


class PageForm(forms.Form):
    """A page number, /changes/?page=2. The view checks it: it alone knows how many pages
    there are."""

    page = forms.CharField(required=False)

    def clean_page(self):
        # One way to write each page: 01 or ١ would render page 1 under another cache key.
        page = self.cleaned_data["page"]
        if re.fullmatch(r"0|-[0-9]+", page):
            raise forms.ValidationError("Pages start at 1.")
        if page and not re.fullmatch(r"[1-9][0-9]*", page):
            raise forms.ValidationError("The page must be a whole number, such as 2.")
        return page


class ChangesForm(PageForm):
    """The change log's page, and the demand it may be narrowed to: /changes/?demand=RU-I-4.
    A deleted demand's changes stay readable, so the code is looked up in the history."""

    demand = forms.CharField(required=False, max_length=20)

    def clean_demand(self):
        code = self.cleaned_data["demand"]
        if not code:
            return None
        history = Demand.history.filter(code=code).order_by("-history_date", "-history_id")
        latest = history.values_list("id", "history_type").first()
        if latest is None:
            raise forms.ValidationError(f"No provision has ever had the identifier “{code}”.")
        demand_id, last_change = latest
        return {"code": code, "id": demand_id, "deleted": last_change == "-"}


class TopicPageForm(PageForm):
    """A topic page's party filter and page number: /topics/ceasefire/?party=russia&page=2.

    The party menu is built from the parties the page loads anyway.
    """

    party = forms.ChoiceField(required=False)
    field_order = ["party", "page"]

    def __init__(self, data, *, parties):
        super().__init__(data)
        self.parties = {party.slug: party for party in parties}
        self.fields["party"].choices = [("", "All parties")] + [
            (slug, party.name) for slug, party in self.parties.items()
        ]

    def clean_party(self):
        slug = self.cleaned_data["party"]
        return self.parties[slug] if slug else None


class SearchForm(forms.Form):
    q = forms.CharField(label="Search the provisions", max_length=200, required=False)

    def clean_q(self):
        q = self.cleaned_data["q"]
        if "\x00" in q:
            raise forms.ValidationError("Search text cannot contain a NUL character.")
        return q


class SourceFilterForm(forms.Form):
    kind = forms.ChoiceField(choices=[("", "All kinds"), *Source.Kind.choices], required=False)
    publisher = forms.ChoiceField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Both menus from one query, in the table's order, and only what some source has: an
        # entry that can only show nothing misleads. A kind no source has yet stays valid in
        # an address, and is offered when asked for, so the menu shows what the page does.
        recorded = list(Source.objects.values_list("kind", "publisher"))
        kinds = {kind for kind, _ in recorded} | {self.data.get("kind")}
        self.fields["kind"].choices = [
            ("", "All kinds"),
            *((kind, label) for kind, label in Source.Kind.choices if kind in kinds),
        ]
        publishers = dict.fromkeys(publisher for _, publisher in recorded)
        self.fields["publisher"].choices = [("", "All publishers"), *((p, p) for p in publishers)]


def deleted_revision(instance):
    """The revision a restore of a deleted record is opened at: minus the id of its latest
    history row, which no stored row has. Restored and deleted again since, the record has a
    later history row, and the page's restore is refused like any stale save."""
    latest = instance.history.order_by("-history_date", "-history_id").first()
    return -latest.history_id


class VersionedForm(forms.ModelForm):
    """Refuses stale edits: the form carries the revision it was opened at; if the record has
    been saved since, the save is refused, the input is shown back and the stored values kept.
    """

    revision = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["revision"].initial = self.instance.revision

    def clean(self):
        cleaned_data = super().clean()
        instance = self.instance
        if instance.pk is None:
            # A new record starts at the model's first revision; the form's empty one is no
            # number at all.
            cleaned_data.pop("revision", None)
            return cleaned_data
        # Lock the row until the save commits, so two saves cannot both pass this check.
        current = (
            type(instance)
            .objects.select_for_update(of=("self",))
            .filter(pk=instance.pk)
            .order_by()  # no joins from the default ordering: PostgreSQL locks one table
            .values_list("revision", flat=True)
            .first()
        )
        opened_at = cleaned_data.get("revision")
        if current is None:
            # Only a revert reaches here without a stored row. Opened while the record was
            # there, or before it was restored and deleted again, it would undo a delete unseen.
            if opened_at != deleted_revision(instance):
                who, when = _latest_change(instance)
                raise forms.ValidationError(
                    f"Someone else deleted this record{who}{when} after you opened this page, "
                    "so nothing was restored. If it should come back, open its history again "
                    "and restore it from there: the deletion and its reason are listed.",
                    code="deleted",
                )
            # Brought back past every revision it had, so no form opened before it was
            # deleted matches it.
            cleaned_data["revision"] = instance.history.count()
        elif opened_at != current:
            who, when = _latest_change(instance)
            raise forms.ValidationError(
                f"Someone else saved this record{who}{when} after you opened it, so your "
                "changes were not saved and theirs are kept. Your input is shown below: "
                "reload the page to see their version, then apply your changes again.",
                code="stale",
            )
        return cleaned_data


def _latest_change(instance):
    """(" by <user>", " at <time>") of the record's latest change, for a stale-form message.
    A link check's save leaves the revision alone: it is not who made the form stale."""
    latest = instance.history.exclude(history_change_reason=LINK_CHECK_REASON).first()
    who = f" by {latest.history_user}" if latest and latest.history_user else ""
    when = f" at {latest.history_date:%H:%M:%S UTC}" if latest else ""
    return who, when


class CuratedForm(VersionedForm):
    """The admin's main form for curated data: every change says why it is made."""

    change_reason = forms.CharField(
        max_length=100,
        validators=[plain_line],
        help_text="Why you make this change; shown in the history and the public change log.",
    )


class CitationForm(VersionedForm):
    """A quote is marked verified only when a curator says they compared it with the page: a
    new quote, a changed one or one moved to another source is otherwise not re-verified."""

    checked = forms.ChoiceField(
        label="Verification",
        choices=[
            ("", "Leave as it is (a new or changed quote is then marked not re-verified)"),
            ("yes", "I compared it word for word with the page (or its copy)"),
            ("no", "I could not check it against the page"),
        ],
        required=False,
        widget=forms.RadioSelect,
    )

    def clean(self):
        cleaned_data = super().clean()
        if cleaned_data.get("checked"):
            self.instance.quote_verified = cleaned_data["checked"] == "yes"
        elif self.instance.pk is None or {"quote", "source"} & set(self.changed_data):
            self.instance.quote_verified = False
        return cleaned_data


class CuratedCitationForm(CitationForm, CuratedForm):
    """The citation's own admin page: the check above, and why the change is made."""


class DeletionForm(forms.Form):
    """The admin's delete confirmation: a delete says why, like every other change.

    The reason goes on the deleted record's history row, and in brackets on the rows of
    everything deleted or unlinked with it; 100 characters, the history column's size.
    """

    change_reason = forms.CharField(
        label="Why are you deleting this?",
        max_length=100,
        validators=[plain_line],
        help_text="Shown in the history of the deleted records and of those that lose a link "
        "to them, and in the public change log.",
    )
