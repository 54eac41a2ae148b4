"""Page weight of the resident's path (issue 7): every page of the quiz with everything it
loads transfers under 60 KB gzip-compressed, loads nothing from elsewhere, and its static
files may be cached for a year."""
import gzip
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

from tests.test_play import answers_form, attempt_token, paper_of, start, submit

BUDGET_BYTES = 60 * 1024
YEAR_SECONDS = 365 * 24 * 3600


class ResourceLinks(HTMLParser):
    """The URLs a browser fetches to show the page: stylesheets, scripts, images, icons."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link" and attrs.get("rel") in ("stylesheet", "icon", "apple-touch-icon"):
            self.urls.append(attrs["href"])
        elif tag in ("script", "img", "source") and attrs.get("src"):
            self.urls.append(attrs["src"])


def compressed(body: bytes) -> int:
    return len(gzip.compress(body, compresslevel=6))  # nginx's gzip_comp_level is 1–9; 6 is usual


def weigh(client, url: str) -> tuple[int, list[str]]:
    """Compressed bytes of the page and all it loads (stylesheets' url() too), and those URLs."""
    response = client.get(url)
    assert response.status_code == 200, url
    total, fetched = compressed(response.data), []
    parser = ResourceLinks()
    parser.feed(response.get_data(as_text=True))
    pending = list(parser.urls)
    while pending:
        resource = pending.pop()
        if resource in fetched:
            continue
        fetched.append(resource)
        parts = urlsplit(resource)
        assert not parts.scheme and not parts.netloc, f"{url} loads {resource} from elsewhere"
        with client.get(resource) as asset:  # static files are streamed from an open file
            assert asset.status_code == 200, resource
            if parts.path.startswith("/static/"):
                assert asset.cache_control.max_age >= YEAR_SECONDS, resource
                assert "v=" in parts.query, f"{resource} has no content hash to bust the cache"
            body = asset.get_data()
        total += compressed(body)
        if resource.split("?")[0].endswith(".css"):
            pending += re.findall(r"url\(['\"]?([^'\")]+)", body.decode())
    return total, fetched


def test_every_page_of_the_quiz_path_stays_under_60_kb(client, app, demo):
    weights = {"/join/S01C01": weigh(client, "/join/S01C01")}  # where /u/S01C01 leads
    token = attempt_token(start(client))
    weights["paper"] = weigh(client, f"/a/{token}")
    submit(client, token, answers_form(paper_of(app, token)))
    weights["result"] = weigh(client, f"/a/{token}/result")
    weights["board"] = weigh(client, "/board/")
    for page, (total, fetched) in weights.items():
        assert fetched, f"{page}: no stylesheet found; the parser is not looking"
        assert total < BUDGET_BYTES, f"{page}: {total} bytes compressed with {fetched}"
    paper_total, paper_fetched = weights["paper"]
    assert any("quiz.js" in url for url in paper_fetched)  # the paper's own script is counted
