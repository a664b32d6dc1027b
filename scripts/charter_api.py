"""One JSON request to a running Charter, for the scripts that drive it over HTTP."""

import json
import urllib.error
import urllib.request


def call(url, method, key=None, body=None, timeout=30):
    """(status, JSON body) of one request; error statuses are answers, not exceptions."""
    request = urllib.request.Request(url, method=method)
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, data, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
