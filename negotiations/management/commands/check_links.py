import math
import socket
import ssl
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from http.client import HTTPException
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit, urlunsplit
from urllib.request import Request, urlopen

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.encoding import iri_to_uri

from negotiations.models import (
    CHECKED_ADDRESSES,
    LINK_CHECK_REASON,
    LinkStatus,
    Source,
    finding_fields,
)

# Browser-like, so servers answer as they would a reader, but saying who is asking.
USER_AGENT = "Mozilla/5.0 (compatible; negotiations-link-check/1.0; citations of the 2025 talks)"
HEADERS = {
    "User-Agent": USER_AGENT,
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en;q=0.9, *;q=0.5",
}
# Answers to HEAD that say nothing about the page: some servers only refuse HEAD.
RETRY_WITH_GET = {403, 405, 501}
GONE = {404, 410}
# A daily check confirms a dead link the next day; two runs in a row do not.
CONFIRM_AFTER_HOURS = 12


def as_uri(url):
    """The address as HTTP sends it: the model's validator accepts non-ASCII hosts and paths
    (IRIs), which go out in IDNA and percent-encoded."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if not netloc.isascii():
        netloc = parts.hostname.encode("idna").decode("ascii")
        netloc += f":{parts.port}" if parts.port else ""
    path, query = iri_to_uri(parts.path), iri_to_uri(parts.query)
    return urlunsplit(parts._replace(netloc=netloc, path=path, query=query, fragment=""))


def check(url, timeout):
    """(status, detail) for one address: HEAD, then GET if HEAD is refused; follows redirects."""
    try:
        url = as_uri(url)
    except (UnicodeError, ValueError):
        return LinkStatus.REFUSED, "address not understood"
    for method in ("HEAD", "GET"):
        request = Request(url, method=method, headers=HEADERS)
        try:
            # The address is http or https: the model's validator and constraint see to it.
            with urlopen(request, timeout=timeout) as response:  # nosec B310
                return LinkStatus.OK, f"HTTP {response.status}"
        except HTTPError as error:
            if method == "HEAD" and error.code in RETRY_WITH_GET:
                continue
            status = LinkStatus.DEAD if error.code in GONE else LinkStatus.REFUSED
            return status, f"HTTP {error.code}"
        except URLError as error:
            return failure(error.reason)
        except (OSError, HTTPException, ValueError) as error:
            return failure(error)
    raise AssertionError("unreachable: GET always returns")


def failure(reason):
    """A finding for an address that gave no HTTP answer."""
    if isinstance(reason, socket.gaierror):
        # "Try again" is the resolver failing, not the name: it says nothing about the page.
        if reason.errno == socket.EAI_AGAIN:
            return LinkStatus.REFUSED, "name lookup failed for now"
        return LinkStatus.DEAD, "host not found"
    if isinstance(reason, ConnectionRefusedError):
        return LinkStatus.DEAD, "connection refused"
    if isinstance(reason, TimeoutError):
        return LinkStatus.REFUSED, "timed out"
    if isinstance(reason, ssl.SSLError):
        return LinkStatus.REFUSED, "certificate or TLS error"
    # Reset connections and the like: something is there, and we cannot tell what.
    return LinkStatus.REFUSED, str(reason)[:100] or type(reason).__name__


def settle(found, old, since, now, confirm_after):
    """The status to record for what a check found. A dead address is only "failing" at first:
    it is published as dead when a check at least confirm_after later finds it dead again,
    so a site that is down for an hour is not called dead on every citation of it."""
    if found != LinkStatus.DEAD or old == LinkStatus.DEAD or not confirm_after:
        return found
    if old == LinkStatus.FAILING and since and now - since >= confirm_after:
        return LinkStatus.DEAD
    return LinkStatus.FAILING


class Command(BaseCommand):
    help = (
        "Check every source's address and archived copy. Records a finding only when it "
        "changed. An address found dead is published as dead once a check at least "
        "--confirm-after hours later finds it dead again; the command fails (exit 1) while any "
        "checked link is dead."
    )
    confirm_after = timedelta(hours=CONFIRM_AFTER_HOURS)  # handle() sets it from the option

    def add_arguments(self, parser):
        parser.add_argument("--slug", help="Check this source only.")
        parser.add_argument("--timeout", type=float, default=10, help="Seconds per request.")
        parser.add_argument("--workers", type=int, default=8, help="Requests at once.")
        parser.add_argument(
            "--confirm-after",
            type=float,
            default=CONFIRM_AFTER_HOURS,
            metavar="HOURS",
            help="Hours between the two checks that make a link dead; 0 makes it dead at once. "
            f"Default {CONFIRM_AFTER_HOURS}.",
        )

    def handle(self, *args, slug, timeout, workers, confirm_after, **options):
        if not math.isfinite(confirm_after) or confirm_after < 0:
            raise CommandError("--confirm-after must be 0 or more hours.")
        self.confirm_after = timedelta(hours=confirm_after)
        sources = Source.objects.order_by("slug")
        if slug:
            sources = sources.filter(slug=slug)
            if not sources.exists():
                raise CommandError(f"No source with the slug {slug!r}.")
        jobs = [
            (source.pk, address, getattr(source, address))
            for source in sources
            for address, _ in CHECKED_ADDRESSES
            if getattr(source, address)
        ]
        with ThreadPoolExecutor(max_workers=max(workers, 1)) as pool:
            findings = list(pool.map(lambda job: check(job[2], timeout), jobs))
        found = {
            (pk, address): (url, *finding)
            for (pk, address, url), finding in zip(jobs, findings, strict=True)
        }

        # A machine that is offline, or has no name server, finds every address dead: saying so
        # on every citation would be wrong. Some server must have answered for a run to count.
        if len(found) > 1 and not any(
            detail.startswith("HTTP ") for _, _, detail in found.values()
        ):
            raise CommandError(
                f"None of the {len(found)} addresses answered at all: is this machine offline? "
                "Nothing was recorded."
            )
        pks = sorted({pk for pk, _ in found})
        changed = sum(self.record(pk, found) for pk in pks)

        # What stands now, which for a failing address depends on the checks before this one.
        standing = [
            (getattr(source, address), getattr(source, f"{prefix}_status"))
            for source in Source.objects.filter(pk__in=pks)
            for address, prefix in CHECKED_ADDRESSES
            if (source.pk, address) in found
        ]
        counts = dict.fromkeys(LinkStatus.values, 0)
        for _, status in standing:
            counts[status] += 1
        self.stdout.write(
            f"{len(found)} links checked: {counts['ok']} ok, {counts['refused']} refused or "
            f"timed out, {counts['failing']} found dead once (to confirm), {counts['dead']} dead; "
            f"{changed} source{'s' * (changed != 1)} changed."
        )
        dead = [url for url, status in standing if status == LinkStatus.DEAD]
        if dead:
            raise CommandError(f"{len(dead)} dead link{'s' * (len(dead) != 1)}: {', '.join(dead)}")

    def record(self, pk, found):
        """Save the source's new findings, if any; say what changed. True when saved."""
        now = timezone.now()
        # The checks took a while: a curator may have edited the source meanwhile. Saving the
        # copy read before them would write its old revision number and an old text into the
        # history, so the source is read again, and held until saved.
        with transaction.atomic():
            source = Source.objects.select_for_update().filter(pk=pk).first()
            if source is None:  # deleted meanwhile
                return False
            fields, said = [], []
            for address, prefix in CHECKED_ADDRESSES:
                if (pk, address) not in found:
                    continue
                url, status, detail = found[pk, address]
                old, since = (
                    getattr(source, f"{prefix}_status"),
                    getattr(source, f"{prefix}_checked"),
                )
                status = settle(status, old, since, now, self.confirm_after)
                # A finding is about the address it was made for, which may have changed.
                if url != getattr(source, address) or old == status:
                    continue
                names = finding_fields(prefix)
                for name, value in zip(names, (status, detail, now), strict=True):
                    setattr(source, name, value)
                fields += names
                said.append(f"{prefix} {old} → {status} ({detail})")
            if not fields:
                return False
            # The normal save path: the history records it and the data version moves, so
            # cached pages show the finding.
            source._change_reason = LINK_CHECK_REASON
            source.save(update_fields=fields)
        self.stdout.write(f"{source.slug}: {'; '.join(said)}")
        return True
