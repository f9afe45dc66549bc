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
