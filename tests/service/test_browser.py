"""The web page in headless Chromium: pick genres or rate movies, see recommendations appear
and change, with the rater's predicted stars beside them."""

from __future__ import annotations

from pathlib import Path

import pytest

from movierec.service.process import ServerProcess

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed"),
]


@pytest.fixture
def served(tiny_model_dir, tmp_path):
    """(server, headless Chromium) for one test."""
    sync_api = pytest.importorskip("playwright.sync_api")
    server = ServerProcess(tiny_model_dir, f"sqlite:///{tmp_path / 'profiles.db'}",
                           log_path=tmp_path / "server.log")
    with server, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield server, browser
        browser.close()


def open_page(served, **options):
    server, browser = served
    page = browser.new_page(viewport={"width": 1280, "height": 900}, **options)
    page.set_default_timeout(15_000)
    page.goto(server.url)
    return page


@pytest.fixture
def page(served):
    # The tests' wait_for_function predicates are evaluated as strings, which the page's
    # Content-Security-Policy forbids; test_the_page_works_under_its_policy keeps it.
    return open_page(served, bypass_csp=True)


def recommendation_titles(page) -> list[str]:
    return page.locator("#recommendations li .title").all_inner_texts()


def rate_first_result(page, query: str, title: str, stars: int) -> None:
    page.fill("#search", query)
    first = page.locator("#results li").first
    first.locator(".title", has_text=title).wait_for()  # results of this query, not the last
    first.locator(f".star[data-value='{stars}']").click()


def test_rating_movies_shows_and_changes_recommendations(page, tmp_path):
    page.locator("#genres .chip").first.wait_for()
    assert recommendation_titles(page) == []
    assert page.locator("#report-link").is_hidden()  # this model has no explore report

    rate_first_result(page, "star wars", "Star Wars", 5)
    page.wait_for_function("document.querySelectorAll('#ratings li').length == 1")
    page.wait_for_function("document.querySelectorAll('#recommendations li').length == 10")
    first = recommendation_titles(page)
    assert not any(t.startswith("Star Wars") for t in first)
    assert "because you rated Star Wars" in page.locator("#recommendations").inner_text()
    predicted = page.locator("#recommendations li .predicted").all_inner_texts()
    assert len(predicted) == 10 and all(t.startswith("predicted ") for t in predicted)

    rate_first_result(page, "misérables", "Misérables", 1)
    rate_first_result(page, "cafe", "Café au Lait", 5)
    page.wait_for_function("document.querySelectorAll('#ratings li').length == 3")
    page.wait_for_function(
        "titles => [...document.querySelectorAll('#recommendations li .title')]"
        ".map(e => e.textContent).join('|') !== titles", arg="|".join(first))
    changed = recommendation_titles(page)
    assert changed != first and len(changed) == 10
    assert not any(t.startswith(("Star Wars", "Café au Lait")) for t in changed)

    page.locator("#recommendations li .title").first.click()
    page.locator("#similar li").first.wait_for()
    assert page.locator("#movie-details h2").inner_text() == changed[0]

    shot = tmp_path / "movierec-page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def recommendation_genres(page) -> list[str]:
    return page.locator("#recommendations li .meta").all_inner_texts()


def test_picking_genres_updates_recommendations_at_once(page):
    horror = page.locator("#genres .chip", has_text="Horror")
    horror.click()  # liked: no "save" step, no rating needed
    page.wait_for_function("document.querySelectorAll('#recommendations li').length == 10")
    assert all("Horror" in genres for genres in recommendation_genres(page)[:5])
    assert page.locator("#genres .chip.liked").all_inner_texts() == ["Horror"]

    horror.click()  # disliked: the list turns away from it
    page.wait_for_function(
        "![...document.querySelectorAll('#recommendations li .meta')].slice(0, 5)"
        ".some(e => e.textContent.includes('Horror'))")
    assert page.locator("#genres .chip.disliked").all_inner_texts() == ["Horror"]
    assert page.locator("#profile-status").inner_text().startswith("Profile ")


def test_the_page_works_under_its_content_security_policy(served):
    refused: list[str] = []
    page = open_page(served)
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.reload()
    page.locator("#genres .chip", has_text="Horror").click()  # script, style sheet, API calls
    page.locator("#recommendations li").nth(9).wait_for()
    assert page.locator("header").evaluate("e => getComputedStyle(e).display") == "flex"
    assert refused == []
