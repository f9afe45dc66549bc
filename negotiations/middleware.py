"""One log line per request."""

import logging
import time

log = logging.getLogger("negotiations.requests")


def request_log(get_response):
    """One line per request: method, path, status and duration."""

    def middleware(request):
        start = time.perf_counter()
        response = get_response(request)
        duration = (time.perf_counter() - start) * 1000
        log.info(
            "%s %s %s %.1fms",
            request.method,
            request.get_full_path(),
            response.status_code,
            duration,
        )
        return response

    return middleware
