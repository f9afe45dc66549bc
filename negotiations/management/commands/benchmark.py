"""Measure the production server on loopback with wrk, on SQLite and PostgreSQL, and print a table.

Starts its own production servers (granian, as `make serve` does; `--server gunicorn` for the
comparison) on a scratch database of the curated fixtures, one with the page cache and one
without, so "/ cold" means every request renders the page.
"""

import gzip
import itertools
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

ROOT = Path(settings.BASE_DIR)
# Every request comes as from a browser behind the TLS-terminating proxy.
BROWSER = ["X-Forwarded-Proto: https", "Accept-Encoding: gzip, deflate, br"]
LOAD_PATHS = ["/", "/?topic=ceasefire", "/topics/humanitarian/", "/demands/RU-I-4/", "/sources/"]
TARGETS = {
    "/ warm": 0.5,
    "/ cold": 0.10,
    "never-seen filters": 0.10,
    "/ unknown parameters": 0.5,
}
# CPU a render of the whole of / may cost with every cache empty, in milliseconds.
COLD_CPU_TARGET = 20
COLD_RENDERS = 30


# How each server is started; granian's options match `make serve`.
SERVERS = {
    "granian": (
        "granian --interface wsgi --host 127.0.0.1 --port {port} --workers {workers}"
        " --blocking-threads 1 --respawn-failed-workers negotiations.wsgi:application"
    ),
    "gunicorn": (
        "gunicorn --bind 127.0.0.1:{port} --workers {workers} --no-control-socket"
        " negotiations.wsgi:application"
    ),
}


def filter_combinations():
    """Every combination of the comparison's topic, party, kind and relation menus but the
    empty one, in a fixed shuffled order: URLs of `/` that no one has asked for yet."""
    from negotiations.models import Demand

    values = defaultdict(set)  # the relation menu offers only the kinds of links recorded
    values["negotiations.provisionlink"].add("no-counterpart")
    for name in ("01_reference.json", "07_links.json"):
        for record in json.loads((ROOT / "fixtures" / name).read_text()):
            field = "kind" if record["model"] == "negotiations.provisionlink" else "slug"
            values[record["model"]].add(record["fields"].get(field))
    menus = {
        "topic": ["", *sorted(values["negotiations.topic"])],
        "party": ["", *sorted(values["negotiations.party"])],
        "kind": ["", *Demand.Kind.values],
        "relation": ["", *sorted(values["negotiations.provisionlink"])],
    }
    paths = [
        "/?" + urlencode([pair for pair in zip(menus, chosen, strict=True) if pair[1]])
        for chosen in itertools.product(*menus.values())
        if any(chosen)
    ]
    random.Random(0).shuffle(paths)
    return paths


def start_server(env, log, workers, server="granian"):
    """Start a production server on a free port and wait until it answers.

    Returns the process and its base URL. The production tests start theirs with it too.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = SERVERS[server].format(port=port, workers=workers).split()
    process = subprocess.Popen(
        [sys.executable, "-m", *command],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1)  # nosec B310
            break
        except urllib.error.HTTPError:
            break  # it answers, if not with 200
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError(f"The server did not answer on {url} within 10 seconds; see its log.")
    return process, url


class Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])
        if tag == "link" and attrs.get("rel") in ("stylesheet", "icon"):
            self.urls.append(attrs.get("href", ""))
        if tag == "img" and attrs.get("src"):
            self.urls.append(attrs["src"])


class Command(BaseCommand):
    help = "Benchmark the production server (requests/s, p50/p99) on SQLite and PostgreSQL."

    def add_arguments(self, parser):
        parser.add_argument("--duration", type=int, default=10, help="Seconds per measurement.")
        parser.add_argument("--connections", type=int, default=32)
        parser.add_argument("--load-seconds", type=int, default=60)
        parser.add_argument("--load-connections", type=int, default=64)
        parser.add_argument("--databases", default="sqlite,postgresql")
        parser.add_argument("--server", choices=sorted(SERVERS), default="granian")
        parser.add_argument(
            "--postgres-url", default="postgres://postgres@127.0.0.1:5432/negotiations_bench"
        )
        parser.add_argument(
            "--probe", action="store_true", help="Internal: query count and size of /."
        )

    def handle(self, *args, **options):
        if options["probe"]:
            return self.probe()
        if not shutil.which("wrk"):
            raise CommandError("wrk is needed: apt-get install wrk")
        self.server = options["server"]
        scratch = Path(tempfile.mkdtemp(prefix="bench-"))
        self.log = open(scratch / "servers.log", "w")  # noqa: SIM115
        results = []
        for database in options["databases"].split(","):
            url = (
                f"sqlite:///{scratch / 'bench.sqlite3'}"
                if database == "sqlite"
                else options["postgres_url"]
            )
            results += self.measure(database, url, options)
        self.report(results, options)

    # --- one database -------------------------------------------------------------------
    def measure(self, database, url, options):
        env = {
            **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
            "DJANGO_DEBUG": "False",
            "DJANGO_SECRET_KEY": "benchmark-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": url,
        }
        if database == "postgresql":
            self.recreate_postgres(url)
        self.stdout.write(f"Preparing {database}…")
        for step in (
            ["migrate", "--no-input"],
            ["import_fixtures"],
            ["collectstatic", "--no-input"],
        ):
            subprocess.run(
                [sys.executable, "manage.py", *step],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
            )
        probe = subprocess.run(
            [sys.executable, "manage.py", "benchmark", "--probe"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        warm = self.start(env)
        cold = self.start({**env, "PAGE_CACHE_SECONDS": "0"})
        try:
            measurements = [
                ("/healthz", warm, "/healthz", []),
                ("/ warm", warm, "/", []),
                ("/ cold", cold, "/", []),
                ("topic page", warm, "/topics/humanitarian/", []),
                ("htmx fragment", warm, "/?topic=territory", ["HX-Request: true"]),
            ]
            rows = []
            for name, server, path, headers in measurements:
                self.fetch(server, path, headers)  # warm the cache and the worker
                rows.append((database, name, *self.wrk(server + path, headers, options)))
            # Cache busting: each request a filter combination never asked for before, or /
            # with a parameter no page reads (redirected to / without it).
            combinations = filter_combinations()
            script = self.script(
                f"local paths = {{{', '.join(f'{path!r}' for path in combinations)}}}\n"
                "local i = 0\nlocal step = 1\n"
                "setup = function(thread) thread:set('first', i); i = i + 1 end\n"
                "init = function() i = first; step = 2 end\n"
                "request = function()\n  i = i + step\n"
                "  return wrk.format(nil, paths[(i % #paths) + 1])\nend\n"
            )
            result = self.wrk(warm, [], options, script=script)
            rows.append((database, "never-seen filters", *result))
            if result[0] * options["duration"] > len(combinations):
                self.stdout.write(
                    f"Note: {result[0] * options['duration']:,.0f} requests for "
                    f"{len(combinations):,} combinations: some were served from the cache."
                )
            script = self.script(
                "local i = 0\nrequest = function()\n  i = i + 1\n"
                "  return wrk.format(nil, '/?utm_source=' .. math.random(1e9) .. i)\nend\n"
            )
            result = self.wrk(warm, [], options, script=script)
            rows.append((database, "/ unknown parameters", *result))
            if database == "postgresql" and options["load_seconds"]:
                rows.append((database, "load: mixed pages", *self.load(warm, options)))
        finally:
            for process in (warm.process, cold.process):
                process.terminate()
                process.wait(timeout=10)
        self.stdout.write(probe)
        return rows

    def recreate_postgres(self, url):
        import psycopg

        name = url.rsplit("/", 1)[1]
        admin_url = url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            connection.execute(f'CREATE DATABASE "{name}"')

    def start(self, env):
        process, url = start_server(env, self.log, workers=2, server=self.server)
        server = type("Server", (str,), {})(url)
        server.process = process
        return server

    def fetch(self, server, path, headers):
        request = urllib.request.Request(server + path)
        for header in BROWSER + headers:
            key, value = header.split(": ")
            request.add_header(key, value)
        with urllib.request.urlopen(request, timeout=30) as response:  # nosec B310
            return response.read()

    # --- wrk ------------------------------------------------------------------------------
    def wrk(self, url, headers, options, connections=None, seconds=None, script=None):
        command = [
            "wrk",
            "-t2",
            f"-c{connections or options['connections']}",
            f"-d{seconds or options['duration']}s",
            "--latency",
        ]
        for header in BROWSER + headers:
            command += ["-H", header]
        if script:
            command += ["-s", script]
        output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
        p50 = self.milliseconds(re.search(r"50%\s+([\d.]+\w+)", output).group(1))
        p99 = self.milliseconds(re.search(r"99%\s+([\d.]+\w+)", output).group(1))
        errors = sum(
            int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output)
        ) + int((re.search(r"Non-2xx or 3xx responses: (\d+)", output) or [0, 0])[1])
        return rate, p50, p99, errors

    @staticmethod
    def script(text):
        script = Path(tempfile.mkstemp(suffix=".lua")[1])
        script.write_text(text)
        return str(script)

    def load(self, server, options):
        paths = ", ".join(f'"{path}"' for path in LOAD_PATHS)
        script = self.script(
            f"local paths = {{{paths}}}\nlocal i = 0\n"
            "request = function()\n  i = i + 1\n"
            "  return wrk.format(nil, paths[(i % #paths) + 1])\nend\n"
        )
        self.stdout.write(
            f"Load: {options['load_seconds']} s at {options['load_connections']} connections…"
        )
        return self.wrk(
            server, [], options, options["load_connections"], options["load_seconds"], script
        )

    @staticmethod
    def milliseconds(value):
        number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
        return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]

    # --- report ---------------------------------------------------------------------------
    def report(self, rows, options):
        self.stdout.write(
            "\n| Database | Request | req/s | p50 ms | p99 ms | × /healthz | errors |"
        )
        self.stdout.write("|---|---|---|---|---|---|---|")
        healthz = {db: rate for db, name, rate, *_ in rows if name == "/healthz"}
        failed = []
        for db, name, rate, p50, p99, errors in rows:
            ratio = rate / healthz[db]
            target = TARGETS.get(name)
            mark = "" if target is None else (" ✓" if ratio >= target else f" ✗ (target {target})")
            if (target and ratio < target) or errors:
                failed.append(f"{db} {name}")
            cells = [db, name, f"{rate:,.0f}", f"{p50:.1f}", f"{p99:.1f}", f"{ratio:.2f}{mark}"]
            self.stdout.write("| " + " | ".join([*cells, str(errors)]) + " |")
        self.stdout.write(
            f"\n{self.server}, 2 workers; "
            f"wrk -t2 -c{options['connections']} -d{options['duration']}s per row; load: "
            f"-c{options['load_connections']} -d{options['load_seconds']}s over {LOAD_PATHS}."
        )
        self.stdout.write("All targets met." if not failed else f"Missed: {', '.join(failed)}")

    # --- in-process probe (run inside the benchmark's environment) -------------------------
    def probe(self):
        from django.core.cache import cache
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext, setup_test_environment

        setup_test_environment()
        client = Client()
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/", secure=True, headers={"Accept-Encoding": "gzip"})
        if response.get("Content-Encoding") != "gzip":
            raise CommandError("/ was not sent gzipped to a client that accepts it")
        html = gzip.decompress(response.content)
        parser = Assets()
        parser.feed(html.decode())
        external = [url for url in parser.urls if re.match(r"^(https?:)?//", url)]
        self.stdout.write(
            f"/ cold: {len(queries.captured_queries)} queries (target ≤ 9), "
            f"{len(html):,} bytes, sent gzipped as {len(response.content):,} "
            f"(target ≤ 40,000); assets from other hosts: {external or 'none'}"
        )
        # The CPU of one whole render of / with every cache (pages and cards) empty.
        renders = []
        for _ in range(COLD_RENDERS):
            cache.clear()
            start = time.process_time()
            client.get("/", secure=True)
            renders.append((time.process_time() - start) * 1000)
        cpu = statistics.median(renders)
        mark = "✓" if cpu <= COLD_CPU_TARGET else "✗"
        self.stdout.write(
            f"/ rendered with every cache empty: {cpu:.1f} ms of CPU, median of {COLD_RENDERS} "
            f"(target ≤ {COLD_CPU_TARGET}) {mark}"
        )
