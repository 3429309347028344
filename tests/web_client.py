"""A Flask test client signed in through the login form, posting with its session's CSRF token."""

from __future__ import annotations

import re
from typing import Any

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class SignedIn:
    """`csrf` of `post`: True sends the session's token, a string sends that one, False or None none."""

    def __init__(self, app: Any, username: str, password: str = "demo", *, next_url: str | None = None,
                 must_succeed: bool = True):
        self.client = app.test_client()
        self.username = username
        token = CSRF.search(self.client.get("/login").get_data(as_text=True)).group(1)  # type: ignore[union-attr]
        self.signed_in = self.client.post("/login" + (f"?next={next_url}" if next_url else ""),
                                          data={"username": username, "password": password, "csrf_token": token})
        if must_succeed:
            assert self.signed_in.status_code == 302, f"{username} could not sign in"
        # Signing in starts a new session, and with it a new token (every page's sign-out form has it).
        found = CSRF.search(self.client.get("/").get_data(as_text=True))
        self.token = found.group(1) if found else ""

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)

    def page(self, url: str) -> str:
        response = self.client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return str(response.get_data(as_text=True))

    def post(self, url: str, data: dict[str, Any] | None = None, *, csrf: bool | str | None = True,
             **kwargs: Any) -> Any:
        body = dict(data or {})
        if csrf is True:
            body["csrf_token"] = self.token
        elif isinstance(csrf, str):
            body["csrf_token"] = csrf
        return self.client.post(url, data=body, **kwargs)
