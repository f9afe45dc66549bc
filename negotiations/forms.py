from django import forms

from negotiations.models import Demand, Party, Proposal, Relation, Source, Topic


class SlugChoiceField(forms.ModelChoiceField):
    """Choose by slug, so a filtered URL reads /?topic=neutrality rather than /?topic=4."""

    def __init__(self, queryset, **kwargs):
        super().__init__(queryset, to_field_name="slug", required=False, **kwargs)


class ComparisonFilterForm(forms.Form):
    topic = SlugChoiceField(Topic.objects.all(), empty_label="All topics")
    party = SlugChoiceField(Party.objects.all(), empty_label="All parties")
    proposal = SlugChoiceField(Proposal.objects.all(), empty_label="All proposals")
    kind = forms.ChoiceField(choices=[("", "All kinds"), *Demand.Kind.choices], required=False)
    relation = forms.ChoiceField(
        choices=[("", "Any relation"), *Relation.Kind.choices], required=False
    )
    q = forms.CharField(label="Search", max_length=200, required=False, strip=True)

    def clean_q(self):
        q = self.cleaned_data["q"]
        if "\x00" in q:
            raise forms.ValidationError("Search text cannot contain a NUL character.")
        return q

    def filter_demands(self, demands):
        data = self.cleaned_data
        if data["topic"]:
            demands = demands.on_topic(data["topic"])
        if data["party"]:
            demands = demands.filter(section__proposal__party=data["party"])
        if data["proposal"]:
            demands = demands.filter(section__proposal=data["proposal"])
        if data["kind"]:
            demands = demands.filter(kind=data["kind"])
        if data["q"]:
            demands = demands.search(data["q"])
        return demands

    def filter_topics(self, topics):
        data = self.cleaned_data
        if data["topic"]:
            topics = topics.filter(pk=data["topic"].pk)
        if data["relation"]:
            topics = topics.filter(relations__kind=data["relation"]).distinct()
        return topics

    @property
    def is_filtered(self):
        return any(self.cleaned_data.values())

    @property
    def narrows_cells(self):
        """Filters that hide demands inside a topic row, not just rows or columns."""
        return bool(self.cleaned_data.get("q") or self.cleaned_data.get("kind"))


class SourceFilterForm(forms.Form):
    kind = forms.ChoiceField(choices=[("", "All kinds"), *Source.Kind.choices], required=False)
    publisher = forms.ChoiceField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        publishers = Source.objects.order_by("publisher").values_list("publisher", flat=True)
        self.fields["publisher"].choices = [
            ("", "All publishers"),
            *((p, p) for p in publishers.distinct()),
        ]


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
            return cleaned_data
        # Lock the row until the save commits, so two saves cannot both pass this check.
        current = (
            type(instance)
            .objects.select_for_update()
            .filter(pk=instance.pk)
            .values_list("revision", flat=True)
            .first()
        )
        if current is not None and cleaned_data.get("revision") != current:
            latest = instance.history.first()
            who = f" by {latest.history_user}" if latest and latest.history_user else ""
            when = f" at {latest.history_date:%H:%M:%S UTC}" if latest else ""
            raise forms.ValidationError(
                f"Someone else saved this record{who}{when} after you opened it, so your "
                "changes were not saved and theirs are kept. Your input is shown below: "
                "reload the page to see their version, then apply your changes again.",
                code="stale",
            )
        return cleaned_data


class CuratedForm(VersionedForm):
    """The admin's main form for curated data: every change says why it is made."""

    change_reason = forms.CharField(
        max_length=100,
        help_text="Why you make this change; shown in the history and the public change log.",
    )
