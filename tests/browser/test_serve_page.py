"""Browser test of `xiezuo serve` in Debian's Chromium, driven by selenium (run by .ci/run).

It opens the page, waits for the first curves, moves a slider (policy.leakage, with the
keyboard, as a user would), waits for the curves to update, and checks the plotted data
against `xiezuo compare` of the same resolved scenarios (downloaded from the page). It saves
a screenshot and prints the time from the slider move to the updated curves.

    XIEZUO_BIN=target/release/xiezuo python3 -m pytest tests/browser -q -s
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("XIEZUO_BIN", ROOT / "target" / "release" / "xiezuo"))
REPLICATES = 6


@pytest.fixture()
def server():
    p = subprocess.Popen([str(BIN), "serve", "--port", "0", "--households", "1000"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    assert line.startswith("serving http://127.0.0.1:"), line + p.stderr.read()
    url = line.split()[1]
    yield url
    p.kill()
    p.wait()


@pytest.fixture()
def browser():
    o = Options()
    o.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,1000"]:
        o.add_argument(flag)
    d = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=o)
    yield d
    d.quit()


def finished_job(d, after: str | None, timeout: float = 240.0) -> str:
    """Waits until the page shows a finished job other than `after`; returns its id."""
    def ready(drv):
        b = drv.find_element(By.TAG_NAME, "body")
        job, fin = b.get_attribute("data-job"), b.get_attribute("data-finished")
        return job if job and job != after and fin == "true" else False
    return WebDriverWait(d, timeout, poll_frequency=0.05).until(ready)


def test_a_slider_move_updates_the_curves_to_compares_numbers(server, browser, tmp_path):
    d = browser
    d.get(server)
    rep = d.find_element(By.ID, "replicates")
    rep.clear()
    rep.send_keys(str(REPLICATES), Keys.TAB)
    first = finished_job(d, None)
    # The slider of policy.leakage: two steps right with the keyboard.
    slider = d.find_element(By.CSS_SELECTOR, '[id="key-policy.leakage"] input[type=range]')
    before = float(slider.get_attribute("value"))
    t0 = time.perf_counter()
    slider.send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
    job = finished_job(d, first)
    seconds = time.perf_counter() - t0
    after = float(slider.get_attribute("value"))
    assert after > before
    plotted = json.loads(d.find_element(By.ID, "charts").get_attribute("data-plotted"))
    assert {"poverty_rate", "relapses_per_household"} <= set(plotted)
    # The timeline (phases and shocks of both scenarios), the flows and the network view.
    assert len(d.find_elements(By.CSS_SELECTOR, "#timeline svg")) == 2
    assert d.find_elements(By.CSS_SELECTOR, '[id="tl-a-phase.withdrawal.start"] input')
    assert d.find_elements(By.CSS_SELECTOR, '[id="tl-b-phase.withdrawal.start"] input')
    assert len(d.find_elements(By.CSS_SELECTOR, "#flows svg")) >= 4
    assert len(d.find_elements(By.CSS_SELECTOR, "#network svg line")) == 2
    shot = Path(os.environ.get("XIEZUO_SCREENSHOT", tmp_path / "serve.png"))
    d.save_screenshot(str(shot))
    print(f"\nslider move to updated curves ({REPLICATES} replicate pairs, 1,000 households a region): "
          f"{seconds:.1f} s; screenshot {shot}")
    # The resolved scenarios the page offers carry the new value …
    for arm in "ab":
        text = urllib.request.urlopen(f"{server}api/job/{job}/{arm}.toml").read().decode()
        assert "leakage = " in text
        (tmp_path / f"{arm}.toml").write_text(text)
    # … and `compare` of them gives the plotted numbers.
    out = tmp_path / "cmp"
    p = subprocess.run([str(BIN), "compare", str(tmp_path / "a.toml"), str(tmp_path / "b.toml"),
                        "--replicates", str(REPLICATES), "--format", "csv", "--out", str(out)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    rows = [r for r in csv.DictReader(open(out / "comparison.csv")) if r["measure"] == "poverty_rate"]
    shown = {r["year"]: r for r in plotted["poverty_rate"]}
    assert len(rows) == len(shown) >= 10
    for r in rows:
        s = shown[int(r["year"])]
        assert abs(s["a"] - float(r["a_mean"])) < 1e-12 and abs(s["diff"] - float(r["diff_mean"])) < 1e-12, r


def test_a_bad_value_is_shown_beside_its_field(server, browser):
    d = browser
    d.get(server)
    finished_job(d, None)
    box = d.find_element(By.CSS_SELECTOR, '[id="key-policy.leakage"] input[type=number]')
    box.clear()
    box.send_keys("2", Keys.TAB)
    err = WebDriverWait(d, 30).until(
        lambda drv: drv.find_element(By.CSS_SELECTOR, '[id="key-policy.leakage"] .err').text or False)
    assert "[0, 1]" in err and "policy.leakage" in err


def test_a_timeline_edit_moves_one_scenarios_withdrawal(server, browser):
    d = browser
    d.get(server)
    first = finished_job(d, None)
    box = d.find_element(By.CSS_SELECTOR, '[id="tl-b-phase.withdrawal.start"] input')   # scenario B's
    box.clear()
    box.send_keys("2023-01", Keys.TAB)
    job = finished_job(d, first)
    b = urllib.request.urlopen(f"{server}api/job/{job}/b.toml").read().decode()
    a = urllib.request.urlopen(f"{server}api/job/{job}/a.toml").read().decode()
    assert 'start = "2023-01"' in b and 'start = "2023-01"' not in a
    # A bad value in B's row is reported beside B's field, not beside A's of the same name.
    bad = d.find_element(By.CSS_SELECTOR, '[id="tl-b-shock[0].severity"] input')
    bad.clear()
    bad.send_keys("7", Keys.TAB)
    err = WebDriverWait(d, 30).until(
        lambda drv: drv.find_element(By.CSS_SELECTOR, '[id="tl-b-shock[0].severity"] .err').text or False)
    assert "severity" in err
    assert d.find_element(By.CSS_SELECTOR, '[id="tl-a-shock[0].severity"] .err').text == ""
