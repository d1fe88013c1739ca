"""The web app in Chromium: sign in, enter and save a figure, read it back,
meet a concurrent change, open the dashboard (now and as of a past date), the
group view, import, review and the checks page. Every page is checked for a
label on each field and scanned with axe-core (vendored under
tests/browser/vendor/axe-core, never downloaded): any violation of impact
serious or critical fails the test. Screenshots go to $SCREENSHOTS."""

import hashlib
import json
import os
import sys
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

BASE = os.environ["BASE_URL"]
SHOTS = os.environ["SCREENSHOTS"]
COMMITTEE = "hanam-business-bloc"
GROUP = "northern-business-blocs"
PERIOD = "2030-Q1"

# axe-core 4.14.1 from the npm registry (`npm pack axe-core@4.14.1`), MPL-2.0.
AXE_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vendor", "axe-core", "axe.min.js")
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
with open(AXE_PATH, "rb") as vendored:
    AXE_BYTES = vendored.read()
assert hashlib.sha256(AXE_BYTES).hexdigest() == AXE_SHA256, "tests/browser/vendor/axe-core/axe.min.js changed"
AXE_SOURCE = AXE_BYTES.decode("utf-8")
# Every page scanned, and what axe found of impact serious or critical.
SCANNED = []
VIOLATIONS = []
# Moderate and minor findings: written to axe.txt, not failed on.
LESSER = []


def driver():
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ["CHROMIUM"]
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1280,900", "--lang=vi"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(os.environ["CHROMEDRIVER"]), options=options)


def submit(browser, selector):
    """Clicks a submit button and waits until the next page has replaced this one."""
    page = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.CSS_SELECTOR, selector).click()
    WebDriverWait(browser, 15).until(expected_conditions.staleness_of(page))


def shot(browser, name):
    browser.save_screenshot(os.path.join(SHOTS, f"{name}.png"))


def every_field_is_labelled(browser, page):
    for field in browser.find_elements(By.CSS_SELECTOR, "input, select, textarea"):
        if field.get_attribute("type") in ("hidden", "submit"):
            continue
        field_id = field.get_attribute("id")
        assert field_id, f"{page}: a field without id: {field.get_attribute('name')}"
        labels = browser.find_elements(By.CSS_SELECTOR, f'label[for="{field_id}"]')
        assert labels, f"{page}: no label for #{field_id}"


def accessible(browser, page):
    """Runs axe-core on the page as it is now; records serious and critical violations."""
    browser.execute_script(AXE_SOURCE)
    result = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        axe.run(document, {resultTypes: ["violations"]})
            .then(r => done(r.violations))
            .catch(e => done({error: String(e)}));
    """)
    assert isinstance(result, list), f"{page}: axe failed: {result}"
    SCANNED.append(page)
    for violation in result:
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]][:5]
        finding = f"{page}: {violation['id']} ({violation['impact']}): {violation['help']}; {targets}"
        if violation["impact"] in ("serious", "critical"):
            VIOLATIONS.append(finding)
        else:
            LESSER.append(finding)


def api(path):
    with urllib.request.urlopen(BASE + path) as response:
        return json.load(response)


def main():
    browser = driver()
    try:
        browser.get(BASE + "/")
        assert "/sign-in" in browser.current_url, browser.current_url
        every_field_is_labelled(browser, "sign-in")
        accessible(browser, "sign-in")
        shot(browser, "01-sign-in")
        browser.find_element(By.ID, "username").send_keys(os.environ["USERNAME"])
        browser.find_element(By.ID, "password").send_keys(os.environ["PASSWORD"])
        submit(browser, "button[type=submit]")
        assert browser.find_element(By.TAG_NAME, "h1").text == "Tình hình nhập số liệu"
        every_field_is_labelled(browser, "home")
        accessible(browser, "home")
        shot(browser, "02-home")

        browser.get(f"{BASE}/entry/{COMMITTEE}/{PERIOD}")
        every_field_is_labelled(browser, "entry")
        accessible(browser, "entry")
        value = browser.find_element(By.ID, "value.revenue")
        value.clear()
        value.send_keys("27.701,5")
        browser.find_element(By.ID, "reason").send_keys("báo cáo quý I")
        shot(browser, "03-entry-typed")
        submit(browser, "button.primary")
        notice = browser.find_element(By.CSS_SELECTOR, ".notice").text
        assert "Đã lưu 1 số liệu" in notice, notice
        assert browser.find_element(By.ID, "value.revenue").get_attribute("value") == "27.701,5"
        accessible(browser, "entry saved")
        shot(browser, "04-entry-saved")
        stored = api(f"/api/v1/observations?committee={COMMITTEE}&indicator=revenue&period={PERIOD}")
        figure = stored["items"][0]
        assert figure["value"] == "27701.5", figure
        history = api(f"/api/v1/observations/{figure['id']}/revisions")
        assert history[-1]["changed_by"] == "lan", history

        # A second window changes the figure while the first still shows it.
        second = driver()
        try:
            second.get(BASE + "/sign-in")
            second.find_element(By.ID, "username").send_keys(os.environ["USERNAME"])
            second.find_element(By.ID, "password").send_keys(os.environ["PASSWORD"])
            submit(second, "button[type=submit]")
            second.get(f"{BASE}/entry/{COMMITTEE}/{PERIOD}")
            other = second.find_element(By.ID, "value.revenue")
            other.clear()
            other.send_keys("28.000")
            submit(second, "button.primary")
            assert "Đã lưu 1 số liệu" in second.find_element(By.CSS_SELECTOR, ".notice").text
        finally:
            second.quit()
        value = browser.find_element(By.ID, "value.revenue")
        value.clear()
        value.send_keys("29.000")
        submit(browser, "button.primary")
        alert = browser.find_element(By.CSS_SELECTOR, "tr.conflict .field-error").text
        assert "28.000" in alert and "29.000" in alert, alert
        accessible(browser, "entry with a conflict")
        shot(browser, "05-entry-conflict")
        assert api(f"/api/v1/observations?committee={COMMITTEE}&indicator=revenue&period={PERIOD}")[
            "items"][0]["value"] == "28000"

        browser.get(f"{BASE}/figures/{figure['id']}/history")
        assert "lan" in browser.page_source
        accessible(browser, "history")
        shot(browser, "06-history")

        browser.get(f"{BASE}/dashboard/{COMMITTEE}?period={PERIOD}")
        tile = browser.find_element(By.CSS_SELECTOR, 'section.tile[data-indicator="revenue"] .figure')
        assert tile.text == "28.000", tile.text
        every_field_is_labelled(browser, "dashboard")
        accessible(browser, "dashboard")
        shot(browser, "07-dashboard")

        # The dashboard as known on a day before anything was entered: the
        # date field (a GET form) shows the historical view.
        date = browser.find_element(By.ID, "as_of")
        browser.execute_script("arguments[0].value = '2000-01-01'", date)
        submit(browser, "form.period-form button[type=submit]")
        assert "as_of=2000-01-01" in browser.current_url, browser.current_url
        note = browser.find_element(By.CSS_SELECTOR, ".historical").text
        assert "01/01/2000" in note, note
        assert not browser.find_elements(By.CSS_SELECTOR, 'section.tile[data-indicator="revenue"]')
        every_field_is_labelled(browser, "dashboard as of")
        accessible(browser, "dashboard as of a past date")

        # The group view: the committee's value beside the other members', the total.
        browser.get(f"{BASE}/dashboard/group/{GROUP}?period={PERIOD}")
        row = browser.find_element(
            By.CSS_SELECTOR, f'section[data-indicator="revenue"] tr[data-member="{COMMITTEE}"] td')
        assert row.text == "28.000", row.text
        total = browser.find_element(By.CSS_SELECTOR, 'section[data-indicator="revenue"] tr.total td').text
        series = api(f"/api/v1/series?group={GROUP}&indicator=revenue&from={PERIOD}&to={PERIOD}")
        assert series["points"][0]["value"] == "28000" and total.startswith("28.000"), (total, series)
        every_field_is_labelled(browser, "group view")
        accessible(browser, "group view")
        shot(browser, "10-group")

        # Import a file through the preview (the page sends it with a script).
        sheet = os.path.abspath(os.path.join(SHOTS, "import.csv"))
        with open(sheet, "w", encoding="utf-8") as out:
            out.write(f'committee,indicator,period,value\n{COMMITTEE},workers,{PERIOD},"1.250"\n')
        browser.get(f"{BASE}/import")
        every_field_is_labelled(browser, "import")
        accessible(browser, "import")
        browser.find_element(By.ID, "file").send_keys(sheet)
        browser.find_element(By.CSS_SELECTOR, "button.primary").click()
        confirm = WebDriverWait(browser, 15).until(
            expected_conditions.element_to_be_clickable((By.ID, "confirm")))
        accessible(browser, "import preview")
        # The preview's table shows the row as read, before anything is written.
        row = browser.find_element(By.CSS_SELECTOR, '#preview tr[data-action="create"]')
        cells = [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
        assert cells[:5] == [COMMITTEE, "workers", PERIOD, "1.250", "người"], cells
        assert "tạo mới" in cells, cells
        shot(browser, "08-import-preview")
        confirm.click()
        notice = WebDriverWait(browser, 15).until(
            expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "#preview .notice")))
        assert "1 tạo mới" in notice.text, notice.text
        workers = api(f"/api/v1/observations?committee={COMMITTEE}&indicator=workers&period={PERIOD}")
        assert workers["items"][0]["value"] == "1250", workers

        browser.get(f"{BASE}/checks?period={PERIOD}")
        every_field_is_labelled(browser, "checks")
        accessible(browser, "checks")
        shot(browser, "09-checks")

        browser.get(f"{BASE}/review")
        every_field_is_labelled(browser, "review")
        accessible(browser, "review")
        browser.find_element(By.ID, "text").send_keys(
            "Quý I năm 2030, tổng doanh thu của các doanh nghiệp đạt 1.234 tỷ đồng, tăng 5% so với cùng kỳ.")
        submit(browser, "button.primary")
        every_field_is_labelled(browser, "review proposals")
        accessible(browser, "review proposals")
        shot(browser, "11-review")

        browser.get(f"{BASE}/dashboard/no-such-committee?period={PERIOD}")
        accessible(browser, "a page not found")

        with open(os.path.join(SHOTS, "axe.txt"), "w", encoding="utf-8") as out:
            out.write("scanned: " + ", ".join(SCANNED) + "\n")
            out.write("serious or critical:\n" + "\n".join(VIOLATIONS) + "\n")
            out.write("moderate or minor:\n" + "\n".join(LESSER) + "\n")
        assert not VIOLATIONS, "axe-core found serious or critical violations:\n" + "\n".join(VIOLATIONS)
        print(f"browser test passed; axe-core found no serious violation on {len(SCANNED)} pages; "
              f"screenshots in {SHOTS}")
    except Exception:
        shot(browser, "failure")
        raise
    finally:
        browser.quit()


if __name__ == "__main__":
    sys.exit(main())
