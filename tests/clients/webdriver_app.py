"""Drive the built desktop app through tauri-driver (W3C WebDriver).

Usage: webdriver_app.py DRIVER_URL APP_BINARY SCREENSHOT_DIR STEP
STEP is `train` (the Roadmap; lesson m1-02 started, its step run and its
checkpoint passed in the Lesson view; lesson m1-03's exercise checked
from the Lesson view, failing untouched and passing with the solution
(EXERCISE_FOLDER, EXERCISE_SOLUTION); then Home, Data: profile wine,
train, see the run in Experiments) or `restart` (a fresh app: the lesson
is still passed on the Roadmap, the run still in Experiments).
Prints JSON with what it saw. Plain urllib: the protocol is small.
"""
import base64
import http.client
import json
import os
import shutil
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

driver, app, shots, step = sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4]
shots.mkdir(parents=True, exist_ok=True)


def req(method, path, body=None, attempts=4):
    """One WebDriver command. tauri-driver forwards it to WebKitWebDriver
    over a pooled keep-alive connection; when WebKitWebDriver has just
    closed that connection, tauri-driver either answers 500 "client error
    (SendRequest)" or drops our connection without an answer (its log says
    "Connection reset by peer"). Either way the command never reached the
    browser, so it is sent again."""
    data = None if body is None else json.dumps(body).encode()
    for attempt in range(attempts):
        r = urllib.request.Request(driver + path, data=data, method=method,
                                   headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(r, timeout=120) as resp:
                return json.loads(resp.read() or b"{}").get("value")
        except urllib.error.HTTPError as e:
            text = e.read().decode()[:500]
            if e.code == 500 and "SendRequest" in text and attempt + 1 < attempts:
                print(f"retrying {method} {path}: {text}", file=sys.stderr)
                time.sleep(0.5)
                continue
            raise SystemExit(f"{method} {path}: {e.code} {text}")
        except (http.client.RemoteDisconnected, ConnectionResetError) as e:
            if attempt + 1 < attempts:
                print(f"retrying {method} {path}: {e!r}", file=sys.stderr)
                time.sleep(0.5)
                continue
            raise


session = req("POST", "/session", {"capabilities": {"alwaysMatch": {"tauri:options": {"application": app}}}})
sid = session["sessionId"]
S = f"/session/{sid}"


def find(css, timeout=60):
    deadline = time.time() + timeout
    while True:
        try:
            r = urllib.request.Request(driver + S + "/element", data=json.dumps({"using": "css selector", "value": css}).encode(),
                                       method="POST", headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(r, timeout=30) as resp:
                v = json.loads(resp.read())["value"]
                return list(v.values())[0]
        except (urllib.error.HTTPError, http.client.RemoteDisconnected, ConnectionResetError):
            # Not there yet (404), or the dropped connection `req` explains.
            if time.time() > deadline:
                shot("failure")
                raise SystemExit(f"element {css!r} never appeared")
            time.sleep(0.2)


def text(css, timeout=60):
    return req("GET", f"{S}/element/{find(css, timeout)}/text")


def click(css):
    # Scrolled to the middle of the window first: a toast (bottom right)
    # must not sit on top of it, or WebKit refuses the click as intercepted.
    el = find(css)
    script(f"document.querySelector({json.dumps(css)}).scrollIntoView({{block: 'center'}})")
    req("POST", f"{S}/element/{el}/click", {})


def shot(name):
    png = req("GET", f"{S}/screenshot")
    (shots / f"{name}.png").write_bytes(base64.b64decode(png))


def script(js):
    return req("POST", f"{S}/execute/sync", {"script": js, "args": []})


seen = {}
try:
    # The Roadmap is the landing view.
    find('body[data-ready="roadmap"]')
    seen["lessons"] = int(script('return document.querySelectorAll(".lesson-item").length'))
    seen["months"] = int(script('return document.querySelectorAll(".month").length'))
    seen["progress"] = text("#progress-count")
    seen["m1_02_status"] = text('.lesson-item[data-lesson="m1-02-profile"] .status')
    time.sleep(0.5)  # the first view's first paint
    shot("roadmap" if step == "train" else "roadmap-after-restart")
    if step == "train":
        click('.lesson-item[data-lesson="m1-02-profile"] a')
        find('body[data-ready="lesson"]')
        seen["lesson_title"] = text("main h1")
        # Rendered from Markdown on the Rust side.
        seen["lesson_code_blocks"] = int(script('return document.querySelectorAll("#lesson-body pre code").length'))
        click("#start-lesson")
        find('#lesson-status.in-progress')
        click('.step[data-step="profile"] .run-step')
        seen["step_result"] = text('.step[data-step="profile"] .step-last.ok', timeout=120)
        seen["step_events"] = script('return [...document.querySelectorAll(\'.step[data-step="profile"] .events li\')].map((li) => li.textContent)')
        click("#check")
        seen["check"] = text("#check-summary.ok", timeout=120)
        seen["verdicts"] = script('return [...document.querySelectorAll(".verdicts li")].map((li) => li.className + " " + li.dataset.check)')
        seen["lesson_status"] = text("#lesson-status")
        click("#hint")
        find(".hint-list li")
        seen["hints"] = int(script('return document.querySelectorAll(".hint-list li").length'))
        script('document.querySelector(\'.question[data-question="missing-sex"] input\').value = "11"')
        click('.question[data-question="missing-sex"] .answer')
        seen["quiz"] = text('.question[data-question="missing-sex"] .quiz-result.ok')
        shot("lesson")
        # An exercise in the learner's own Python, checked from the lesson
        # view: the untouched starter fails at its first TODO; the learner's
        # (here the reference) solution passes every check.
        script('location.hash = "#lesson/m1-03-validate-clean"')
        find('#exercise')
        seen["python"] = text('#python-status .ok', timeout=60)
        click("#exercise-start")
        folder = Path(os.environ["EXERCISE_FOLDER"])
        for _ in range(100):
            if (folder / "clean.py").is_file():
                break
            time.sleep(0.1)
        click("#exercise-check")
        find("#exercise-summary.bad", timeout=120)
        seen["exercise_first"] = script('const li = document.querySelector(".exercise-checks li.bad"); return [li.dataset.exerciseCheck, li.querySelector(".fix").textContent]')
        shutil.copy(os.environ["EXERCISE_SOLUTION"], folder / "clean.py")
        click("#exercise-check")
        seen["exercise"] = text("#exercise-summary.ok", timeout=120)
        seen["exercise_checks"] = script('return [...document.querySelectorAll(".exercise-checks li")].map((li) => li.className + " " + li.dataset.exerciseCheck)')
        shot("exercise")
        click('nav a[data-view="home"]')
    else:
        # Continue opens the lesson where the learner stopped: the next one.
        seen["continue"] = script('return document.querySelector("#continue")?.getAttribute("href") ?? ""')
        click("#save-report")
        seen["report_html"] = text("#report-html")
        click('nav a[data-view="home"]')
    find('body[data-ready="home"]')
    seen["stages"] = int(script('return document.querySelectorAll("#stages .stage").length'))
    seen["tracking_uri"] = script('return document.querySelector("#tracking-uri")?.textContent ?? ""')
    if seen["tracking_uri"].startswith("MLFLOW_TRACKING_URI="):
        base = seen["tracking_uri"].split("=", 1)[1]
        with urllib.request.urlopen(f"{base}/health", timeout=10) as r:
            seen["tracking_health"] = r.read().decode()
    shot("home" if step == "train" else "home-after-restart")
    if step == "train":
        click("#export-kfp")
        seen["kfp_pipeline"] = text("#kfp-export h2", timeout=120)
        seen["kfp_parts"] = int(script('return document.querySelectorAll("#kfp-export dt").length'))
        seen["kfp_yaml"] = script('return document.querySelector("#kfp-export pre.yaml").textContent')
        shot("kfp-export")
        click('nav a[data-view="data"]')
        find('body[data-ready="data"]')
        script('document.querySelector("#dataset").value = "wine-quality-red"; document.querySelector("#dataset").dispatchEvent(new Event("change"))')
        click("#profile")
        find("#profile-table")
        seen["profile_rows"] = int(script('return document.querySelectorAll("#profile-table tbody tr").length'))
        seen["histograms"] = int(script('return document.querySelectorAll(".charts svg").length'))
        shot("data")
        click("#train")
        seen["train_result"] = text("#train-result h2", timeout=120)
        # The progress that streamed over the channel while it trained.
        seen["events"] = script('return [...document.querySelectorAll("#events li")].map((li) => li.textContent)')
        click('nav a[data-view="experiments"]')
    else:
        click('nav a[data-view="experiments"]')
    find('body[data-ready="experiments"]')
    find("#runs-table tbody tr")
    seen["runs"] = int(script('return document.querySelectorAll("#runs-table tbody tr").length'))
    seen["first_run"] = text("#runs-table tbody tr td")
    shot("experiments" if step == "train" else "experiments-after-restart")
    if step == "restart":
        # The run's detail, then every other view, one screenshot each.
        click("#runs-table tbody tr button.open")
        find("#run-detail")
        seen["detail_charts"] = int(script('return document.querySelectorAll("#run-detail svg").length'))
        shot("run-detail")
        for view in ["models", "deployments", "monitoring"]:
            click(f'nav a[data-view="{view}"]')
            find(f'body[data-ready="{view}"]')
            seen[view] = text("main h1")
            shot(view)
finally:
    req("DELETE", S)
print(json.dumps(seen))
