"""`stepline ui` against a real server (`stepline ui --port 0` on 127.0.0.1) over real run logs (a
parallel, a map with a failed branch, a re-run, a run still going):

* over HTTP, every route, on the chunked-fs store and on the sql store (SQLite file);
* in a real browser (Debian's chromium from tools/chromium.sh, driven by Playwright): the rendered
  pages show the steps and their statuses, and the HTML timeline of a 10,000-item map stays usable.
  Screenshots go to .ci-state/ for people to look at.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from stepline.inspect.html_file import render_html
from stepline.inspect.timeline import build_timeline
from stepline.runlog.models import Attempt, BranchLog, Parameter, RunLog, Status, StepLog

STEPLINE = str(Path(sys.executable).with_name("stepline"))
ROOT = Path(__file__).resolve().parents[3]
SHOTS = ROOT / ".ci-state"

PIPELINE = """
dag:
  start_at: prepare
  steps:
    prepare:
      type: task
      command_type: shell
      command: |
        echo "weird [/usr/bin] [bold]output[/bold] <script>alert(1)</script>"
        mkdir -p data && echo hi > data/a.txt
        echo "size=$(( base * 2 ))" >> "$STEPLINE_RETURNS"
      returns: [size]
      catalog: {put: [data/a.txt]}
      next: both
    both:
      type: parallel
      branches:
        left:
          start_at: l
          steps:
            l: {type: task, command_type: shell, command: "echo left"}
        right:
          start_at: r
          steps:
            r: {type: stub}
      next: fan
    fan:
      type: map
      iterate_on: xs
      iterate_as: x
      branch:
        start_at: flaky
        steps:
          flaky:
            type: task
            command_type: shell
            command: 'echo "accuracy=0.$x" >> "$STEPLINE_RETURNS"; test "$x" != 2 || test -f fixed'
            returns: [{name: accuracy, kind: metric}]
            max_attempts: 2
      next: done
    done: {type: stub}
"""

SLOW = """
dag:
  start_at: wait
  steps:
    wait: {type: task, command_type: shell, command: "sleep 60"}
"""

STORES = {
    "chunked-fs": "run_log_store:\n  type: chunked-fs\n  config: {log_folder: .stepline/runs}\n",
    "sql": "run_log_store:\n  type: sql\n  config: {url: 'sqlite:///.stepline/runs.db'}\n",
}


def cli(folder: Path, *args: str, check: int | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run([STEPLINE, *args], cwd=folder, capture_output=True, text=True, timeout=120,
                          check=False)
    if check is not None:
        assert done.returncode == check, done.stderr
    return done


def start_ui(folder: Path, *args: str) -> tuple[subprocess.Popen, str]:
    """`stepline ui -c config.yaml --port 0 ...` in ``folder``; (process, base URL)."""
    process = subprocess.Popen([STEPLINE, "ui", "-c", "config.yaml", "--port", "0", *args], cwd=folder,
                               stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 60
    lines = []
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        lines.append(line)
        found = re.search(r"(http://\S+?)/ \(read-only", line)
        if found:
            return process, found.group(1)
    process.kill()
    pytest.fail(f"stepline ui did not start: {''.join(lines)}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module", params=sorted(STORES))
def site(request, tmp_path_factory):
    """A folder with runs 'one' (failed map branch), 'two' (its re-run) and 'slow' (still going),
    and a UI server over it."""
    folder = tmp_path_factory.mktemp(f"ui-{request.param}")
    (folder / "config.yaml").write_text(STORES[request.param])
    (folder / "pipeline.yaml").write_text(PIPELINE)
    (folder / "slow.yaml").write_text(SLOW)
    (folder / "params.yaml").write_text("base: 21\nxs: [1, 2, 3]\n")
    cli(folder, "execute", "pipeline.yaml", "-c", "config.yaml", "-p", "params.yaml", "--run-id", "one",
        "--tag", "nightly", check=1)
    (folder / "fixed").touch()
    cli(folder, "retry", "one", "-c", "config.yaml", "--run-id", "two", check=0)
    slow = subprocess.Popen([STEPLINE, "execute", "slow.yaml", "-c", "config.yaml", "--run-id", "slow"], cwd=folder,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server, url = start_ui(folder)
    yield folder, url
    stop(server)
    stop(slow)


def get(url: str) -> tuple[int, str, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status, answer.read().decode("utf-8", "replace"), dict(answer.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace"), dict(exc.headers)


def rows(page: str) -> list[tuple[str, str]]:
    return re.findall(r'<tr data-run="([^"]+)" data-status="([^"]+)">', page)


def test_runs_list_shows_status_tag_and_re_run(site):
    _, url = site
    status, page, headers = get(url + "/")
    assert status == 200 and "default-src 'self'" in headers["content-security-policy"]
    deadline = time.monotonic() + 30
    while ("slow", "PROCESSING") not in rows(page) and time.monotonic() < deadline:
        time.sleep(0.3)
        page = get(url + "/")[1]
    assert rows(page)[:3] == [("slow", "PROCESSING"), ("two", "SUCCESS"), ("one", "FAIL")]
    two = page[page.index('data-run="two"'):page.index('data-run="one"')]
    assert "nightly" in two and '<a href="/runs/one">one</a>' in two  # tag and re-run of


def test_runs_list_filters_and_pages(site):
    _, url = site
    assert rows(get(url + "/?status=FAIL")[1]) == [("one", "FAIL")]
    assert rows(get(url + "/?status=FAIL&status=SUCCESS")[1]) == [("two", "SUCCESS"), ("one", "FAIL")]
    assert [r for r, _ in rows(get(url + "/?tag=nightly")[1])] == ["two", "one"]
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert len(rows(get(url + f"/?since={today}&until={today}")[1])) == 3
    assert rows(get(url + "/?since=2000-01-01&until=2000-01-02")[1]) == []
    status, page, _ = get(url + "/?since=yesterday")
    assert status == 400 and "&#39;since&#39; is not a date" in page and "Traceback" not in page
    assert rows(get(url + "/?page=2")[1]) == []  # 3 runs fit on page 1


def test_run_page_has_graph_with_branch_counts_and_timeline(site):
    _, url = site
    status, page, _ = get(url + "/runs/one")
    assert status == 200
    assert re.search(r'data-step="fan" data-status="FAIL"', page)
    assert "2/3 succeeded, 1 failed" in page and "2/2 succeeded" in page
    assert 'data-sl-timeline="timeline-data"' in page and '/static/timeline.js' in page
    assert '<meta http-equiv="refresh"' not in page  # finished: no reloading
    # what a task printed is data, never markup: escaped in the page, escaped in the embedded JSON
    assert "<script>alert(1)</script>" not in page


def test_step_panel_shows_attempts_parameters_metrics_catalog_and_log(site):
    _, url = site
    status, page, _ = get(url + "/runs/one?step=fan.1.flaky")
    assert status == 200 and 'id="step-panel" data-step="fan.1.flaky"' in page
    assert page.count("command exited with code 1") >= 3  # the step's message and both attempts'
    panel = get(url + "/runs/one?step=fan.0.flaky")[1]
    assert "accuracy" in panel and "0.1" in panel
    prepare = get(url + "/runs/one?step=prepare")[1]
    assert "weird [/usr/bin] [bold]output[/bold] &lt;script&gt;alert(1)&lt;/script&gt;" in prepare  # the log
    assert 'href="/runs/one/catalog/one/data/a.txt"' in prepare and "size" in prepare and "42" in prepare
    skipped = get(url + "/runs/two?step=prepare")[1]
    assert "skipped: succeeded in run" in skipped
    status, page, _ = get(url + "/runs/one?step=nope")
    assert status == 404 and "has no step" in page


def test_catalog_items_download_only_what_the_run_recorded(site):
    folder, url = site
    status, body, headers = get(url + "/runs/one/catalog/one/data/a.txt")
    assert status == 200 and body == "hi\n" and headers["content-disposition"].startswith("attachment")
    assert headers["content-type"] == "application/octet-stream"
    (folder / ".stepline" / "catalog" / "one" / "unrecorded.txt").write_text("not in the run log")
    for path in ["one/unrecorded.txt", "one/../two/data/a.txt", "two/data/a.txt", "one/%2e%2e/%2e%2e/config.yaml",
                 "%2Fetc%2Fpasswd", "one/../../config.yaml"]:
        request = urllib.request.Request(url + "/runs/one/catalog/" + path)
        status, page, _ = get(request.full_url)
        assert status == 404, path
        assert "not in the run log" not in page and "run_log_store" not in page


def test_catalog_paths_are_checked_as_sent(site):
    _, url = site
    # urllib would normalise '..' away: send the raw request line
    import http.client

    host, port = urllib.parse.urlsplit(url).netloc.split(":")
    for raw in ["/runs/one/catalog/one/../../config.yaml", "/runs/one/catalog//etc/passwd"]:
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        connection.request("GET", raw)
        answer = connection.getresponse()
        body = answer.read().decode()
        assert answer.status == 404 and "run_log_store" not in body and "root:" not in body, raw
        connection.close()


def test_timeline_file_and_static_assets(site):
    _, url = site
    status, page, _ = get(url + "/runs/two/timeline.html")
    assert status == 200 and "SteplineTimeline" in page and "<script src=" not in page
    assert get(url + "/static/timeline.js")[0] == 200 and get(url + "/static/ui.css")[0] == 200
    assert get(url + "/static/app.py")[0] == 404 and get(url + "/static/..%2Fapp.py")[0] == 404


def test_compare_two_runs(site):
    _, url = site
    status, page, _ = get(url + "/compare?a=one&b=two")
    assert status == 200
    section = page[page.index('data-section="step statuses"'):]
    assert "fan.1.flaky" in section and "FAIL" in section and "SUCCESS" in section
    assert re.search(r'data-section="parameters at start">\s*<h2>parameters at start <span class="muted small">same',
                     page)
    status, page, _ = get(url + "/compare?a=one")
    assert status == 400 and "compare needs two runs" in page


def test_unknown_run_is_a_404_page(site):
    _, url = site
    for path in ["/runs/nope", "/runs/nope/timeline.html", "/runs/nope/catalog/nope/x", "/compare?a=one&b=nope"]:
        status, page, _ = get(url + path)
        assert status == 404 and "no run &#39;nope&#39;" in page and "Traceback" not in page, path
    for path in ["/runs/%2E%2E", "/runs/.hidden", "/runs/a%20b?step=x"]:  # ids that cannot be runs
        status, page, _ = get(url + path)
        assert status == 404 and "no run" in page and "Traceback" not in page, path
    assert get(url + "/no/such/page")[0] == 404


def test_read_only_every_write_method_is_refused(site):
    _, url = site
    for method in ["POST", "PUT", "DELETE", "PATCH"]:
        request = urllib.request.Request(url + "/runs/one", method=method, data=b"x")
        try:
            urllib.request.urlopen(request, timeout=30)
            raise AssertionError(f"{method} was accepted")
        except urllib.error.HTTPError as exc:
            assert exc.code == 405


def test_a_running_run_refreshes_itself(site):
    _, url = site
    deadline = time.monotonic() + 30
    status, page, _ = get(url + "/runs/slow")
    while status != 200 and time.monotonic() < deadline:
        time.sleep(0.3)
        status, page, _ = get(url + "/runs/slow")
    assert status == 200 and 'id="run-status">PROCESSING' in page
    assert '<meta http-equiv="refresh" content="3">' in page


def test_secrets_and_store_urls_stay_out_of_pages(tmp_path):
    """The sql url's password is masked wherever the run config is shown; a secret never appears."""
    (tmp_path / "config.yaml").write_text(
        "run_log_store:\n  type: sql\n  config: {url: 'sqlite:///runs.db?password=hunter2'}\n"
        "secrets:\n  type: dotenv\n  config: {location: .env}\n")
    (tmp_path / ".env").write_text("API_TOKEN=s3cr3t-value\n")
    (tmp_path / "p.yaml").write_text(
        'dag: {start_at: a, steps: {a: {type: task, command_type: shell, command: "test -n \\"$API_TOKEN\\"",'
        ' secrets: [API_TOKEN]}}}\n')
    done = cli(tmp_path, "execute", "p.yaml", "-c", "config.yaml", "--run-id", "sec")
    assert done.returncode == 0, done.stderr
    server, url = start_ui(tmp_path)
    try:
        pages = [get(url + p)[1] for p in ["/", "/runs/sec", "/runs/sec?step=a", "/runs/sec/timeline.html"]]
    finally:
        stop(server)
    assert all("s3cr3t-value" not in p and "hunter2" not in p for p in pages)


def test_non_loopback_host_warns_and_bad_port_is_an_error(tmp_path):
    (tmp_path / "config.yaml").write_text(STORES["chunked-fs"])
    process = subprocess.Popen([STEPLINE, "ui", "-c", "config.yaml", "--host", "0.0.0.0", "--port", "0"],
                               cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        first = process.stderr.readline()
        assert first.startswith("warning: listening on 0.0.0.0") and "no login" in first
    finally:
        stop(process)
    done = cli(tmp_path, "ui", "-c", "config.yaml", "--port", "70000")
    assert done.returncode == 2 and "not a port number" in done.stderr and "Traceback" not in done.stderr


# ---- in a real browser ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser(services):
    from playwright.sync_api import sync_playwright

    chromium = services.start("chromium")["CHROMIUM"]
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def browser_site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ui-browser")
    (folder / "config.yaml").write_text(STORES["chunked-fs"])
    (folder / "pipeline.yaml").write_text(PIPELINE)
    (folder / "params.yaml").write_text("base: 21\nxs: [1, 2, 3]\n")
    cli(folder, "execute", "pipeline.yaml", "-c", "config.yaml", "-p", "params.yaml", "--run-id", "one",
        "--tag", "nightly", check=1)
    (folder / "fixed").touch()
    cli(folder, "retry", "one", "-c", "config.yaml", "--run-id", "two", check=0)
    server, url = start_ui(folder)
    yield url
    stop(server)


@pytest.mark.server
def test_browser_shows_runs_list_and_run_page_with_steps_and_statuses(browser, browser_site):
    site = browser_site
    SHOTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(site + "/")
    listed = page.locator("#runs tbody tr").evaluate_all(
        "rows => rows.map(r => [r.dataset.run, r.querySelector('.sl-status').textContent])")
    assert listed == [["two", "SUCCESS"], ["one", "FAIL"]]
    page.screenshot(path=str(SHOTS / "ui-runs.png"))

    page.click("text=one")
    page.wait_for_selector("#timeline .sl-row")
    assert page.locator("#run-status").inner_text() == "FAIL"
    # the timeline was drawn by its script: one row per step, branch and attempt, with statuses
    drawn = dict(page.locator("#timeline .sl-row.sl-step").evaluate_all(
        "rows => rows.map(r => [r.dataset.path, r.dataset.status])"))
    assert drawn["prepare"] == "SUCCESS" and drawn["both"] == "SUCCESS" and drawn["fan"] == "FAIL"
    assert drawn["fan.1.flaky"] == "FAIL" and drawn["fan.0.flaky"] == "SUCCESS" and drawn["both.left.l"] == "SUCCESS"
    assert page.locator("#timeline .sl-row.sl-attempt").count() == 2
    assert "2/3 succeeded, 1 failed" in page.locator("#graph").inner_text()
    # hover shows what the step received and returned; user text stays text
    page.hover('#timeline .sl-row.sl-step[data-path="prepare"]')
    tip = page.locator("#timeline .sl-tip")
    assert tip.is_visible() and "size" in tip.inner_text() and "42" in tip.inner_text()
    page.screenshot(path=str(SHOTS / "ui-run.png"), full_page=True)

    # a click on a step of the timeline opens its panel: attempts, messages
    page.click('#timeline .sl-row.sl-step[data-path="fan.1.flaky"]')
    page.wait_for_selector("#step-panel")
    panel = page.locator("#step-panel").inner_text()
    assert "fan.1.flaky" in panel and "command exited with code 1" in panel and "Attempts" in panel
    page.click('#graph a:has-text("prepare")')
    page.wait_for_selector('#step-panel[data-step="prepare"]')
    assert "weird [/usr/bin] [bold]output[/bold] <script>alert(1)</script>" in page.locator("pre.log").inner_text()
    page.screenshot(path=str(SHOTS / "ui-step.png"), full_page=True)
    assert not errors, errors


def _big_map(items: int) -> RunLog:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    t = lambda s: (start + dt.timedelta(seconds=s)).isoformat()
    branches, steps = {}, {}
    for i in range(items):
        status = Status.FAIL if i in (17, 7001) else Status.SUCCESS
        name = f"fan.{i}"
        attempt = Attempt(start_time=t(1 + i / 1000), end_time=t(1.5 + i / 1000), status=status,
                          input_parameters={"x": Parameter(value=i)}, output_parameters={"y": Parameter(value=i * i)})
        steps[f"{name}.square"] = StepLog(name="square", internal_name=f"{name}.square", status=status,
                                          attempts=[attempt])
        branches[name] = BranchLog(internal_name=name, status=status, parameters={"x": Parameter(value=i)},
                                   steps={f"{name}.square": steps[f"{name}.square"]})
    fan = StepLog(name="fan", internal_name="fan", status=Status.FAIL, step_type="map", branches=branches,
                  attempts=[Attempt(start_time=t(1), end_time=t(12), status=Status.FAIL)])
    return RunLog(run_id="big", status=Status.FAIL, start_time=t(0), end_time=t(12), steps={"fan": fan})


@pytest.mark.server
def test_browser_html_timeline_of_a_10000_item_map_stays_usable(browser, tmp_path):
    target = tmp_path / "big.html"
    target.write_text(render_html(build_timeline(_big_map(10_000))))
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.route("**/*", lambda route: route.abort() if not route.request.url.startswith("file:") else route.continue_())
    page.goto(target.as_uri())
    page.wait_for_selector("#timeline .sl-row")
    # branches are grouped: the page draws a row per group of 100, not 10,000 rows
    assert page.locator("#timeline .sl-row").count() < 150
    groups = page.locator("#timeline .sl-row.sl-group")
    assert groups.count() == 100
    first = page.locator('#timeline .sl-row.sl-group').first
    assert first.get_attribute("data-status") == "FAIL"  # branch 17 failed in the first hundred
    assert "1 failed" in first.inner_text()
    first.click()
    assert page.locator("#timeline .sl-row.sl-branch").count() == 100
    assert page.locator('#timeline .sl-row.sl-branch[data-path="fan.17"]').get_attribute("data-status") == "FAIL"
    page.screenshot(path=str(SHOTS / "timeline-10000.png"))
