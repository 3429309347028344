"""A credit bureau over HTTP (standard library only): `GET {url}/reports?customer_id=&name=&country=&registration=`
answering `{"score": 300..850, "delinquencies": n, "report_id": "..."}`.

Failures are classified for the job runner, which retries transient ones with backoff and opens an
incident for the rest:
  transient   timeout, refused or reset connection, DNS failure, HTTP 5xx, 429  -> bureau_unavailable
  permanent   HTTP 404: the bureau has no file on them (a BPMN error event may catch it) -> bureau_no_record
              any other HTTP status (4xx, an unfollowed 3xx)                    -> bureau_refused
              a body that is not the JSON above                                 -> bureau_bad_answer
              a TLS certificate we do not trust (no retry fixes it)             -> bureau_unavailable
Messages name the bureau's path and the status, never the query (a customer's name) nor credentials; a
URL's `user:password@` becomes a Basic Authorization header and is kept out of every message; redirects
are not followed.
"""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, TypeGuard

from ..domain.errors import ServiceTaskError
from ..domain.ports import BureauReport

SCORE_RANGE = range(300, 851)
MAX_BODY_BYTES = 64 * 1024  # a report is a few hundred bytes; more is not an answer we understand


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is answered as its 3xx status (bureau_refused): following it would hand our
    Authorization header to whatever host the bureau names."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class HttpCreditBureau:
    """The CreditBureau port over HTTP. Thread-safe: it keeps no state between calls."""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the credit bureau URL must be an http(s) URL with a host")
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname  # an IPv6 address
        netloc = host + (f":{parts.port}" if parts.port else "")
        self._base = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        self._fixed_query = urllib.parse.parse_qsl(parts.query)  # an API key the URL carries, say
        self._path = f"{parts.path.rstrip('/')}/reports"
        self._host = parts.hostname
        self._timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirects)
        self._headers = {"Accept": "application/json", "User-Agent": "bpmn-requests"}
        if parts.username is not None:
            secret = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
            self._headers["Authorization"] = "Basic " + base64.b64encode(secret.encode()).decode("ascii")

    def report(self, customer_id: str, name: str, country: str, registration: str | None) -> BureauReport:
        """The bureau's report on one customer; raises ServiceTaskError classified as the module says."""
        query = [*self._fixed_query, ("customer_id", customer_id), ("name", name), ("country", country)]
        if registration:
            query.append(("registration", registration))
        request = urllib.request.Request(f"{self._base}/reports?{urllib.parse.urlencode(query)}",
                                         headers=self._headers, method="GET")
        return self._parse(self._fetch(request))

    def _fetch(self, request: urllib.request.Request) -> bytes:
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                body: bytes = response.read(MAX_BODY_BYTES + 1)
        except urllib.error.HTTPError as error:
            error.close()
            raise self._status_error(error.code) from None
        except urllib.error.URLError as error:
            raise self._network_error(error.reason) from None
        except (OSError, http.client.HTTPException) as error:  # a timeout or reset while reading the body
            raise self._network_error(error) from None
        if len(body) > MAX_BODY_BYTES:
            raise self._bad_answer(f"more than {MAX_BODY_BYTES} bytes")
        return body

    def _status_error(self, status: int) -> ServiceTaskError:
        where = f"credit bureau GET {self._path} answered HTTP {status}"
        if status >= 500 or status == 429:
            return ServiceTaskError(f"{where}; trying again later", error_code="bureau_unavailable", transient=True)
        if status == 404:
            return ServiceTaskError(f"{where}: it has no record of this customer", error_code="bureau_no_record")
        return ServiceTaskError(f"{where}: it refused the request", error_code="bureau_refused")

    def _network_error(self, reason: object) -> ServiceTaskError:
        if isinstance(reason, ssl.SSLCertVerificationError):  # no retry fixes a certificate we do not trust
            return ServiceTaskError(f"credit bureau {self._host}: TLS certificate not trusted",
                                    error_code="bureau_unavailable")
        kind = "timed out" if isinstance(reason, TimeoutError) else f"unreachable ({type(reason).__name__})"
        return ServiceTaskError(f"credit bureau GET {self._path} {kind} at {self._host}; trying again later",
                                error_code="bureau_unavailable", transient=True)

    def _bad_answer(self, what: str) -> ServiceTaskError:
        return ServiceTaskError(f"credit bureau GET {self._path} gave an answer we cannot read: {what}",
                                error_code="bureau_bad_answer")

    def _parse(self, body: bytes) -> BureauReport:
        try:
            data: Any = json.loads(body)
        except ValueError:
            raise self._bad_answer("not JSON") from None
        if not isinstance(data, dict):
            raise self._bad_answer("not a JSON object")
        score, delinquencies, report_id = data.get("score"), data.get("delinquencies"), data.get("report_id")
        if not _whole(score) or score not in SCORE_RANGE:
            raise self._bad_answer(f"score must be a whole number from 300 to 850, got {score!r}")
        if not _whole(delinquencies) or delinquencies < 0:
            raise self._bad_answer(f"delinquencies must be a whole number of at least 0, got {delinquencies!r}")
        if not isinstance(report_id, str) or not report_id.strip():
            raise self._bad_answer("report_id is missing")
        return BureauReport(score=score, delinquencies=delinquencies,
                            source=f"{self._host} report {report_id.strip()[:100]}")


def _whole(value: object) -> TypeGuard[int]:
    """A JSON integer (booleans are ints in Python, never in JSON)."""
    return isinstance(value, int) and not isinstance(value, bool)
