import socket
import ssl
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPException
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from negotiations.models import LinkStatus, Source

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
# (address field, prefix of its finding's fields)
ADDRESSES = [("url", "link"), ("archived_url", "archive")]


def check(url, timeout):
    """(status, detail) for one address: HEAD, then GET if HEAD is refused; follows redirects."""
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
        except (OSError, HTTPException) as error:
            return failure(error)
    raise AssertionError("unreachable: GET always returns")


def failure(reason):
    """A finding for an address that gave no HTTP answer."""
    if isinstance(reason, socket.gaierror):
        return LinkStatus.DEAD, "host not found"
    if isinstance(reason, ConnectionRefusedError):
        return LinkStatus.DEAD, "connection refused"
    if isinstance(reason, TimeoutError):
        return LinkStatus.REFUSED, "timed out"
    if isinstance(reason, ssl.SSLError):
        return LinkStatus.REFUSED, "certificate or TLS error"
    # Reset connections and the like: something is there, and we cannot tell what.
    return LinkStatus.REFUSED, str(reason)[:100] or type(reason).__name__


class Command(BaseCommand):
    help = (
        "Check every source's address and archived copy. Records a finding only when it "
        "changed; fails (exit 1) when any link is dead."
    )

    def add_arguments(self, parser):
        parser.add_argument("--slug", help="Check this source only.")
        parser.add_argument("--timeout", type=float, default=10, help="Seconds per request.")
        parser.add_argument("--workers", type=int, default=8, help="Requests at once.")

    def handle(self, *args, slug, timeout, workers, **options):
        sources = Source.objects.order_by("slug")
        if slug:
            sources = sources.filter(slug=slug)
            if not sources.exists():
                raise CommandError(f"No source with the slug {slug!r}.")
        jobs = [
            (source.pk, address, getattr(source, address))
            for source in sources
            for address, _ in ADDRESSES
            if getattr(source, address)
        ]
        with ThreadPoolExecutor(max_workers=max(workers, 1)) as pool:
            findings = list(pool.map(lambda job: check(job[2], timeout), jobs))
        found = {
            (pk, address): (url, *finding)
            for (pk, address, url), finding in zip(jobs, findings, strict=True)
        }

        changed = 0
        for source in sources:  # read again: a curator may have edited one meanwhile
            changed += self.record(source, found)
        counts = dict.fromkeys(LinkStatus.values, 0)
        for _, status, _ in found.values():
            counts[status] += 1
        self.stdout.write(
            f"{len(found)} links checked: {counts['ok']} ok, {counts['refused']} refused or "
            f"timed out, {counts['dead']} dead; {changed} source{'s' * (changed != 1)} changed."
        )
        dead = [url for url, status, _ in found.values() if status == LinkStatus.DEAD]
        if dead:
            raise CommandError(f"{len(dead)} dead link{'s' * (len(dead) != 1)}: {', '.join(dead)}")

    def record(self, source, found):
        """Save the source's new findings, if any; say what changed. True when saved."""
        now = timezone.now()
        fields, said = [], []
        for address, prefix in ADDRESSES:
            if (source.pk, address) not in found:
                continue
            url, status, detail = found[source.pk, address]
            old = getattr(source, f"{prefix}_status")
            # A curator may have changed the address while it was being checked.
            if url != getattr(source, address) or old == status:
                continue
            setattr(source, f"{prefix}_status", status)
            setattr(source, f"{prefix}_detail", detail)
            setattr(source, f"{prefix}_checked", now)
            fields += [f"{prefix}_status", f"{prefix}_detail", f"{prefix}_checked"]
            said.append(f"{prefix} {old} → {status} ({detail})")
        if not fields:
            return False
        # The normal save path: the history records it and the data version moves, so cached
        # pages show the finding.
        source._change_reason = "Link check"
        source.save(update_fields=fields)
        self.stdout.write(f"{source.slug}: {'; '.join(said)}")
        return True
