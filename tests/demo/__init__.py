from urllib.error import HTTPError
from urllib.request import Request, urlopen


def fetch(url, method="GET"):
    """(status, headers, body bytes) without raising on 4xx/5xx."""
    try:
        with urlopen(Request(url, method=method), timeout=10) as resp:
            return resp.status, resp.headers, resp.read()
    except HTTPError as err:
        return err.code, err.headers, err.read()
