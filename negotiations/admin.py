import ipaddress
from collections import Counter, defaultdict

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import router, transaction
from django.db.models import Count
from django.forms import CheckboxInput
from django.http import Http404, HttpResponseRedirect, QueryDict
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import to_historic

from negotiations import changelog
from negotiations.changelog import compared_fields, label
from negotiations.forms import (
    CitationForm,
    CuratedCitationForm,
    CuratedForm,
    DeletionForm,
    VersionedForm,
    deleted_revision,
)
from negotiations.models import (
    Citation,
    ContextFigure,
    Demand,
    Disagreement,
    Option,
    Parameter,
    Party,
    Proposal,
    ProvisionLink,
    Relation,
    Round,
    Section,
    Source,
    Topic,
    Version,
)
from negotiations.restore import linked_ids, restore_deleted_with

admin.site.site_header = "Istanbul talks 2025 — curators"
admin.site.site_title = "Negotiations curators"


def client_ip(request):
    """The address failed logins are counted by (AXES_CLIENT_IP_CALLABLE).

    Each of the TRUSTED_PROXIES in front of the app appends the address it saw to
    X-Forwarded-For, so the client's is that many places from the end; anything before it was
    sent by the client and could be forged. This holds only if nothing but the proxy can reach
    the app (see the README): a client that can would name any address it likes. What is no
    address at all is not taken either (PostgreSQL would refuse to store it: a 500).
    """
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    forwarded = [address.strip() for address in forwarded if address.strip()]
    proxies = settings.TRUSTED_PROXIES
    if proxies and len(forwarded) >= proxies:
        try:
            return str(ipaddress.ip_address(forwarded[-proxies]))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR")


TIMESTAMPS = ("created_at", "updated_at")


# What the deleted list shows after a record's short name: the first of these it has.
DETAILS = ("summary", "title", "quote", "name", "rationale")


class CuratedAdmin(SimpleHistoryAdmin):
    """Every change is recorded with its author and reason, and no change overwrites one made
    since the curator opened the page: on the change form, in its inline rows and in actions."""

    form = CuratedForm
    object_history_form_template = "admin/negotiations/object_history_form.html"
    object_history_list_template = "admin/negotiations/object_history_list.html"

    def get_form(self, request, obj=None, **kwargs):
        historic = to_historic(obj) if obj is not None else None
        form = super().get_form(request, obj, **kwargs)
        if historic is None:
            return form
        # Reverting to an old revision: compare with the revision stored now, not then (and
        # for a deleted record, with its deletion: see deleted_revision).
        stored = type(obj).objects.filter(pk=obj.pk).values_list("revision", flat=True).first()
        obj.revision = stored if stored is not None else deleted_revision(obj)
        # ...and offer the links the revision had (a deleted record has none left to show).
        links = linked_ids(historic)

        class RevertForm(form):
            def __init__(self, *args, **kwargs):
                kwargs["initial"] = {**links, **(kwargs.get("initial") or {})}
                super().__init__(*args, **kwargs)

        return RevertForm

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs = tolerant_autocomplete(self, db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs = tolerant_autocomplete(self, db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_deleted"
        deleted = path("deleted/", self.admin_site.admin_view(self.deleted_view), name=name)
        return [deleted, *super().get_urls()]

    def deleted_view(self, request):
        """The records of this kind deleted and not restored, newest first, each linked to the
        history it is restored from: once deleted, a record is in no list and its id nowhere."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        rows = (
            self.model.history.filter(history_type="-")
            .exclude(id__in=self.model.objects.values("pk"))
            .select_related("history_user")
            .order_by("-history_date", "-history_id")
        )
        latest = {}  # deleted, restored and deleted again: the last deletion is the one to show
        for row in rows:
            if row.id not in latest:
                latest[row.id] = row
                # Named from the row itself: its parents may be gone, and would cost a query each.
                row.label = label(row)
                details = (getattr(row, name, "") for name in DETAILS)
                row.detail = next((d for d in details if d and d != row.label), "")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Deleted {self.opts.verbose_name_plural}",
            "deletions": latest.values(),
        }
        return TemplateResponse(request, "admin/negotiations/deleted.html", context)

    def history_view(self, request, object_id, extra_context=None):
        self._check_ids(object_id)
        # The history links each author to their user page, which a curator may not open: for
        # them the name is shown without the link (the template shows no link it cannot reverse).
        users = self.admin_site.get_model_admin(get_user_model())
        if not users.has_view_permission(request):
            extra_context = {**(extra_context or {}), "admin_user_view": ""}
        return super().history_view(request, object_id, extra_context)

    def _check_ids(self, object_id, version_id=1):
        # django-simple-history looks up whatever the address holds: an id that is no id was a
        # ValueError (a 500), where Django's own views answer 404.
        try:
            self.opts.pk.to_python(object_id)
            self.model.history.model._meta.pk.to_python(version_id)
        except ValidationError:
            raise Http404("No such record or revision.") from None

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._check_ids(object_id, version_id)
        version = self.model.history.filter(history_id=version_id).first()
        if version is not None:
            extra_context = {
                **(extra_context or {}),
                "original_opts": self.opts,
                "rows_changed_since": self.rows_changed_since(version),
            }
        # A restore writes the record, its dependants and its links: all of them, or none.
        with transaction.atomic(using=router.db_for_write(self.model)):
            return super().history_form_view(request, object_id, version_id, extra_context)

    def rows_changed_since(self, version):
        """The rows edited on this record's form (a demand's quotes and numbers) added, changed
        or deleted since `version` was saved: each has a history of its own, which a revert of
        this record leaves alone.

        A save writes the record's revision after its form's rows, so a row's history up to the
        version is its state in it; the import writes a record's rows just after the record, so
        a row created with the version's reason is part of it too.
        """
        rows = []
        for inline in self.inlines:
            model = inline.model
            fk_name = inline.fk_name or next(
                f.name for f in model._meta.fields if f.related_model is self.model
            )
            compared = [f.name for f in compared_fields(model) if f.editable]
            trails = defaultdict(list)
            history = model.history.filter(**{f"{fk_name}_id": version.id})
            for row in history.order_by("history_date", "history_id"):
                trails[row.id].append(row)
            for trail in trails.values():
                then = [
                    row
                    for row in trail
                    if row.history_date <= version.history_date
                    or (
                        row.history_type == "+"
                        and row.history_change_reason == version.history_change_reason
                    )
                ]
                if len(then) == len(trail):
                    continue  # nothing since
                was = then[-1] if then and then[-1].history_type != "-" else None
                now = trail[-1] if trail[-1].history_type != "-" else None
                if was is None and now is None:
                    continue
                if was is None:
                    what = "added"
                elif now is None:
                    what = "deleted"
                elif now.diff_against(was, included_fields=compared).changes:
                    what = "changed"
                else:
                    continue  # saved since, or deleted and restored, but as it was
                latest = trail[-1]
                rows.append(
                    {
                        "name": f"{model._meta.verbose_name} {label(latest)}",
                        "quote": getattr(latest, "quote", ""),
                        "what": what,
                        "when": latest.history_date,
                        "url": reverse(
                            f"admin:negotiations_{model._meta.model_name}_history",
                            args=[latest.id],
                        ),
                    }
                )
        return rows

    def save_model(self, request, obj, form, change):
        obj._change_reason = form.cleaned_data.get("change_reason") or "Edited in a list"
        restoring = (
            to_historic(obj) is not None and not type(obj).objects.filter(pk=obj.pk).exists()
        )
        # One revision per save, written last: after the record's links, which form.save_m2m()
        # saves after it, and after the rows of its form (the formsets). Recorded apart, a first
        # revision held the new fields with the old links, a state that never was; written
        # last, any row dated before a revision was saved with it or before it.
        obj.skip_history_when_saving = True
        obj.created_by_save = restoring or not change
        form.save_m2m = record_after(form.save_m2m, obj)
        super().save_model(request, obj, form, change)
        if restoring:
            restored, relinked = restore_deleted_with(obj, user=request.user)
            if restored or relinked:
                self.message_user(request, restore_message(restored, relinked))

    def delete_view(self, request, object_id, extra_context=None):
        # Django deletes on any POST to this page; without a valid reason it must show the
        # confirmation again, with the error, and delete nothing. Django's view runs in a
        # transaction: the record, its dependants and its links go together or not at all.
        form = DeletionForm(request.POST if request.method == "POST" else None)
        if form.is_bound and not form.is_valid():
            request.POST = QueryDict()
        extra_context = {**(extra_context or {}), "deletion_form": reason_fieldset(form)}
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request, obj):
        obj._change_reason = deletion_reason(request)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        # One delete for all the selected rows; record_deletion gives each of them the reason.
        queryset._change_reason = deletion_reason(request)
        super().delete_queryset(request, queryset)

    def get_actions(self, request, action_location=admin.ActionLocation.CHANGE_LIST):
        # Django's "Delete selected" asks no reason; this one does. Swapped here rather than
        # declared in `actions`, which subclasses replace; only where Django offers it, so its
        # permission check still decides.
        actions = super().get_actions(request, action_location)
        if "delete_selected" in actions:
            actions["delete_selected"] = self.get_action(
                type(self).delete_selected, action_location
            )
        return actions

    @admin.action(permissions=["delete"], description=django_delete_selected.short_description)
    def delete_selected(self, request, queryset):
        """Django's action (same permission checks, same list of what goes) plus the reason."""
        form = DeletionForm(request.POST if request.POST.get("post") else None)
        if form.is_bound and not form.is_valid():
            # Without "post" Django shows the confirmation page instead of deleting.
            request.POST = request.POST.copy()
            del request.POST["post"]
        # The log entries, the rows, their dependants and links: all of them, or none.
        with transaction.atomic(using=router.db_for_write(self.model)):
            response = django_delete_selected(self, request, queryset)
        if response is not None:
            response.context_data["deletion_form"] = reason_fieldset(form)
        return response

    def save_related(self, request, form, formsets, change):
        form.instance.rows_follow = True
        super().save_related(request, form, formsets, change)
        record_revision(form.instance)

    def save_formset(self, request, form, formset, change):
        reason = form.cleaned_data.get("change_reason", "")
        for inline in formset.forms:  # deleted rows too: their deletion is recorded
            inline.instance._change_reason = reason
        super().save_formset(request, form, formset, change)

    @admin.display(description=CheckboxInput().render("_", None, {"id": "action-toggle"}))
    def action_checkbox(self, obj):
        # Each selected row carries the revision the curator saw, checked in response_action.
        # Unticked until the curator ticks it: any non-empty value would render it ticked.
        attrs = {"class": "action-select", "aria-label": f"Select {obj}"}
        return CheckboxInput(attrs, check_test=lambda value: False).render(
            helpers.ACTION_CHECKBOX_NAME, f"{obj.pk}:{obj.revision}"
        )

    def response_action(self, request, queryset, **kwargs):
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        seen = {}
        for value in selected:
            pk, _, version = value.partition(":")
            if version:
                seen[pk] = version
        if seen:
            current = dict(self.model.objects.filter(pk__in=seen).values_list("pk", "revision"))
            stale = [pk for pk, version in seen.items() if str(current.get(int(pk))) != version]
            if stale:
                self.message_user(
                    request,
                    f"{len(stale)} of the selected records changed after this page was loaded; "
                    "nothing was done. Review them and try again.",
                    messages.ERROR,
                )
                return HttpResponseRedirect(request.get_full_path())
            request.POST = request.POST.copy()
            request.POST.setlist(helpers.ACTION_CHECKBOX_NAME, list(seen))
        return super().response_action(request, queryset, **kwargs)


def record_after(save_m2m, obj):
    """save_m2m, then the record's revision, unless the rows of its form follow (a revert
    saves none; see CuratedAdmin.save_model and save_related)."""

    def save_m2m_then_record():
        save_m2m()
        if not getattr(obj, "rows_follow", False):
            record_revision(obj)

    return save_m2m_then_record


def record_revision(obj):
    changelog.record_revision(obj, created=obj.created_by_save, using=obj._state.db)


def deletion_reason(request):
    """The reason of a confirmed delete; the views above let no delete through without one."""
    form = DeletionForm(request.POST)
    if not form.is_valid():
        raise ValueError("A curated record is deleted only with a reason.")
    return form.cleaned_data["change_reason"]


def reason_fieldset(form):
    """The reason field laid out as the change form lays out its fields."""
    return helpers.AdminForm(form, [(None, {"fields": ["change_reason"]})], {})


def restore_message(restored, relinked):
    def names(objects):
        return "; ".join(f"{o._meta.verbose_name} {o}" for o in objects)

    parts = []
    if restored:
        parts.append(f"Restored with it, as they were when it was deleted: {names(restored)}.")
    if relinked:
        parts.append(f"Linked to it again: {names(relinked)}.")
    return " ".join(parts)


class TolerantLookup:
    """Django's autocomplete, minus a 500: a form posted with a value that is no id (a form
    error already says so) is redrawn by looking that value up, which raises a ValueError."""

    def optgroups(self, name, value, attr=None):
        try:
            return super().optgroups(name, value, attr)
        except (ValueError, ValidationError):
            return super().optgroups(name, [], attr)


class TolerantAutocompleteSelect(TolerantLookup, AutocompleteSelect):
    pass


class TolerantAutocompleteSelectMultiple(TolerantLookup, AutocompleteSelectMultiple):
    pass


def tolerant_autocomplete(model_admin, db_field, request, kwargs):
    """The formfield arguments for an autocomplete field, with the widget above."""
    if "widget" not in kwargs and db_field.name in model_admin.get_autocomplete_fields(request):
        widget = (
            TolerantAutocompleteSelectMultiple
            if db_field.many_to_many
            else TolerantAutocompleteSelect
        )
        kwargs["widget"] = widget(db_field, model_admin.admin_site, using=kwargs.get("using"))
    return kwargs


class CitationInline(admin.StackedInline):
    model = Citation
    form = CitationForm
    fk_name = "demand"
    # The revision goes with each row (hidden), or every save of the row would look stale.
    fields = (
        "source",
        "quote",
        "translation",
        "locator",
        "order",
        "quote_verified",
        "checked",
        "revision",
    )
    readonly_fields = ("quote_verified",)
    autocomplete_fields = ("source",)
    extra = 0
    # Every demand is backed by at least one quote.
    min_num = 1

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs = tolerant_autocomplete(self, db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_formset(self, request, obj=None, **kwargs):
        # The admin shows min_num blank forms but only enforces the minimum when asked to.
        return super().get_formset(request, obj, validate_min=bool(self.min_num), **kwargs)


class ParameterInline(admin.TabularInline):
    model = Parameter
    form = VersionedForm
    extra = 0


@admin.register(Party)
class PartyAdmin(CuratedAdmin):
    list_display = ("name", "slug", "order")
    list_filter = ("proposals__kind",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = TIMESTAMPS


@admin.register(Round)
class RoundAdmin(CuratedAdmin):
    list_display = ("__str__", "date", "place")
    list_filter = ("place",)
    search_fields = ("place", "summary")
    readonly_fields = TIMESTAMPS


@admin.register(Topic)
class TopicAdmin(CuratedAdmin):
    list_display = ("code", "name", "order", "demand_count")
    list_filter = ("relations__kind",)
    search_fields = ("name", "code", "description")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = TIMESTAMPS

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(demand_count=Count("demands"))

    @admin.display(description="demands", ordering="demand_count")
    def demand_count(self, topic):
        return topic.demand_count


class SectionInline(admin.TabularInline):
    model = Section
    form = VersionedForm
    fields = ("label", "title", "kind", "order", "revision")
    extra = 0
    show_change_link = True


@admin.register(Proposal)
class ProposalAdmin(CuratedAdmin):
    list_display = ("title", "party", "kind", "round", "date_presented", "date_published")
    list_filter = ("party", "kind", "round")
    list_select_related = ("party", "round")
    search_fields = ("title", "summary")
    autocomplete_fields = ("party", "round")
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = TIMESTAMPS
    inlines = [SectionInline]


class OptionInline(admin.TabularInline):
    model = Option
    form = VersionedForm
    extra = 0


@admin.register(Section)
class SectionAdmin(CuratedAdmin):
    list_display = ("label", "title", "proposal", "kind", "order")
    list_filter = ("kind", "proposal__party", "proposal")
    list_select_related = ("proposal",)
    search_fields = ("title", "label", "proposal__title")
    autocomplete_fields = ("proposal",)
    readonly_fields = TIMESTAMPS
    inlines = [OptionInline]


@admin.register(Option)
class OptionAdmin(CuratedAdmin):
    list_display = ("label", "title", "section", "order")
    list_filter = ("section__proposal",)
    list_select_related = ("section__proposal",)
    search_fields = ("label", "title")
    autocomplete_fields = ("section",)
    readonly_fields = TIMESTAMPS


@admin.register(Demand)
class DemandAdmin(CuratedAdmin):
    list_display = ("code", "summary", "proposal", "topic", "kind", "status")
    list_filter = ("status", "kind", "section__proposal__party", "section__proposal", "topic")
    list_select_related = ("section__proposal", "topic")
    search_fields = ("code", "summary", "paraphrase", "citations__quote")
    autocomplete_fields = ("section", "option", "topic", "secondary_topics")
    readonly_fields = TIMESTAMPS
    fieldsets = [
        (None, {"fields": ("code", "summary", "paraphrase", "kind", "revision")}),
        ("Place in the document", {"fields": ("section", "option", "label", "order")}),
        ("Topics", {"fields": ("topic", "secondary_topics")}),
        ("When it happened", {"fields": ("occurred_on", "occurred_until")}),
        ("Verification", {"fields": ("status", "status_note", "verified_on")}),
        ("History", {"fields": TIMESTAMPS}),
        ("Why", {"fields": ("change_reason",)}),
    ]
    actions = ["mark_verified_today"]

    @admin.action(description="Mark as verified today", permissions=["change"])
    def mark_verified_today(self, request, queryset):
        today = timezone.localdate()
        # All or none: a failure halfway must not leave some demands marked and others not.
        with transaction.atomic():
            for demand in queryset:
                demand.verified_on = today
                demand._change_reason = "Quotes checked against their sources"
                demand.save()
        self.message_user(request, f"{len(queryset)} demands marked as verified on {today}.")

    inlines = [CitationInline, ParameterInline]

    @admin.display(ordering="section__proposal__title")
    def proposal(self, demand):
        return demand.section.proposal


@admin.register(Source)
class SourceAdmin(CuratedAdmin):
    list_display = (
        "publisher",
        "copy_publisher",
        "title",
        "kind",
        "published",
        "language",
        "has_url",
        "link_status",
        "archive_status",
    )
    list_filter = ("kind", "state_media", "language", "link_status", "archive_status", "publisher")
    search_fields = ("title", "publisher", "copy_publisher", "url", "reliability_note")
    prepopulated_fields = {"slug": ("publisher", "title")}
    # What manage.py check_links found: shown, never edited, and kept by a curator's save.
    readonly_fields = (
        *TIMESTAMPS,
        "link_status",
        "link_detail",
        "link_checked",
        "archive_status",
        "archive_detail",
        "archive_checked",
    )

    @admin.display(boolean=True, description="URL known", ordering="url")
    def has_url(self, source):
        return bool(source.url)


@admin.register(Citation)
class CitationAdmin(CuratedAdmin):
    list_display = ("__str__", "source", "demand", "relation", "version")
    list_filter = ("source__kind", "source__publisher")
    list_select_related = ("source", "demand", "relation__topic", "version__disagreement")
    search_fields = ("quote", "translation", "source__title", "source__publisher", "demand__code")
    autocomplete_fields = ("source", "demand", "relation", "version")
    form = CuratedCitationForm
    readonly_fields = (*TIMESTAMPS, "quote_verified")

    def get_deleted_objects(self, objs, request):
        # Every provision keeps at least one quote. Deleting its last ones is refused the way
        # Django refuses to delete what another record protects (deleting the provision itself
        # takes its quotes along, through the provision's own admin).
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        going = Counter(citation.demand_id for citation in objs if citation.demand_id)
        backed = Demand.objects.filter(pk__in=going).annotate(quotes=Count("citations"))
        for pk, code, quotes in backed.values_list("pk", "code", "quotes"):
            if going[pk] >= quotes:
                protected = [
                    *protected,
                    f"Provision {code}: these are all the quotes backing it. Add another quote "
                    "to it first, or delete the provision.",
                ]
        return deleted, counts, perms_needed, protected


class RelationCitationInline(CitationInline):
    fk_name = "relation"
    # A relation is our analysis; a citation is added only when a source makes the comparison.
    min_num = 0


@admin.register(Relation)
class RelationAdmin(CuratedAdmin):
    list_display = ("topic", "kind", "slug")
    list_filter = ("kind", "topic")
    list_select_related = ("topic",)
    search_fields = ("rationale", "topic__name", "slug")
    autocomplete_fields = ("topic", "demands")
    readonly_fields = TIMESTAMPS
    inlines = [RelationCitationInline]


@admin.register(ProvisionLink)
class ProvisionLinkAdmin(CuratedAdmin):
    list_display = ("__str__", "kind", "rationale")
    list_filter = ("kind", "demand__topic", "demand__section__proposal")
    list_select_related = ("demand", "counterpart")
    search_fields = ("demand__code", "counterpart__code", "rationale")
    autocomplete_fields = ("demand", "counterpart")
    readonly_fields = TIMESTAMPS


class VersionInline(admin.TabularInline):
    model = Version
    form = VersionedForm
    fields = ("order", "claim", "revision")
    extra = 0
    show_change_link = True


@admin.register(Disagreement)
class DisagreementAdmin(CuratedAdmin):
    list_display = ("code", "title", "proposal", "round")
    list_filter = ("proposal", "round")
    list_select_related = ("proposal", "round")
    search_fields = ("code", "title", "assessment")
    autocomplete_fields = ("demands", "proposal", "round")
    readonly_fields = TIMESTAMPS
    inlines = [VersionInline]


class VersionCitationInline(CitationInline):
    fk_name = "version"


@admin.register(Version)
class VersionAdmin(CuratedAdmin):
    list_display = ("__str__", "disagreement", "order")
    list_filter = ("disagreement",)
    list_select_related = ("disagreement",)
    search_fields = ("claim", "disagreement__title")
    autocomplete_fields = ("disagreement",)
    readonly_fields = TIMESTAMPS
    inlines = [VersionCitationInline]


@admin.register(Parameter)
class ParameterAdmin(CuratedAdmin):
    list_display = ("__str__", "demand", "bound", "value", "value_max", "unit")
    list_filter = ("unit", "bound")
    list_select_related = ("demand",)
    search_fields = ("name", "note", "demand__code")
    autocomplete_fields = ("demand",)


@admin.register(ContextFigure)
class ContextFigureAdmin(CuratedAdmin):
    list_display = ("label", "figure", "as_of", "topic", "source")
    list_filter = ("topic",)
    list_select_related = ("topic", "source")
    search_fields = ("label", "figure", "note", "quote", "source__publisher")
    autocomplete_fields = ("topic", "source")
    readonly_fields = TIMESTAMPS
