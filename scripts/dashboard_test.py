"""The dashboard in a real headless Chromium (Selenium), against a real `charter serve` on loopback.

Usage: dashboard_test.py CHARTER_BINARY SCREENSHOT_DIR

Signs in, creates a key and sees it exactly once, copies it, uses it against the API, revokes it
through the UI and sees the API refuse it; checks that read-only roles are offered no create
buttons, that envelopes, signing keys and the audit log work, and that the pages fit a phone.
Saves a screenshot of each page into SCREENSHOT_DIR.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from charter_api import call
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

charter, screenshots = sys.argv[1], sys.argv[2]
os.makedirs(screenshots, exist_ok=True)
failures = []


def check(condition, message):
    print(("ok    " if condition else "FAIL  ") + message)
    if not condition:
        failures.append(message)


def api(method, path, key, body=None):
    return call(base + path, method, key, body, timeout=10)


directory = tempfile.mkdtemp(prefix="charter-dashboard-")
server = subprocess.Popen(
    [charter, "serve", "--database", os.path.join(directory, "charter.db"), "--port", "0"],
    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
owner = None
base = None
deadline = time.time() + 60
while time.time() < deadline and base is None:
    line = server.stdout.readline()
    if not line:
        break
    if line.strip().startswith("chr_live_"):
        owner = line.strip()
    match = re.match(r"charter listening on (http://\S+)", line)
    if match:
        base = match.group(1)
if base is None or owner is None:
    sys.exit("charter serve did not start")

options = webdriver.ChromeOptions()
options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                 "--disable-gpu", "--no-first-run"]:
    options.add_argument(argument)
driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
wait = WebDriverWait(driver, 10)


def eventually(condition):
    """Whether condition(driver) comes true within the wait: for reading the page a click loads."""
    try:
        wait.until(condition)
        return True
    except TimeoutException:
        return False


def shot(name):
    driver.save_screenshot(os.path.join(screenshots, f"{name}.png"))


def sign_in(key):
    driver.delete_all_cookies()
    driver.get(base + "/dashboard")
    wait.until(EC.url_contains("/dashboard/sign-in"))
    driver.find_element(By.ID, "key").send_keys(key)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(lambda d: "/sign-in" not in d.current_url)


try:
    # Signing in.
    driver.get(base + "/dashboard")
    check("/dashboard/sign-in" in driver.current_url, "an anonymous visit is sent to sign in")
    shot("01-sign-in")
    driver.find_element(By.ID, "key").send_keys("chr_live_not-a-real-key")
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    check(eventually(lambda d: "cannot sign in" in d.page_source), "a wrong key is refused")
    sign_in(owner)
    check(driver.current_url.endswith("/dashboard/apps"), "the owner lands on the apps page")
    cookie = driver.get_cookie("charter_session")
    check(cookie is not None and cookie.get("httpOnly") and cookie.get("sameSite") == "Strict",
          "the session cookie is HttpOnly and SameSite=Strict")
    check(owner not in json.dumps(driver.get_cookies()), "the cookie is not the key")
    shot("02-apps")

    # An app and its keys.
    driver.find_element(By.LINK_TEXT, "console").click()
    wait.until(EC.presence_of_element_located((By.ID, "keys")))
    app_id = driver.current_url.rsplit("/", 1)[1]
    shot("03-app-keys")
    driver.find_element(By.ID, "create-key").click()
    wait.until(EC.visibility_of_element_located((By.ID, "create-key-dialog")))
    driver.find_element(By.ID, "key-label").send_keys("selenium-key")
    driver.find_element(By.ID, "create-key-submit").click()
    check(driver.find_element(By.ID, "role-error").is_displayed()
          and "Select a role or at least one permission" in driver.find_element(By.ID, "role-error").text,
          "no role and no permission: 'Select a role or at least one permission'")
    Select(driver.find_element(By.ID, "key-role")).select_by_value("custom")
    driver.find_element(By.ID, "create-key-submit").click()
    check(driver.find_element(By.ID, "role-error").is_displayed(), "custom with no permission is refused too")
    shot("04-create-key-dialog")
    Select(driver.find_element(By.ID, "key-role")).select_by_value("admin")
    driver.find_element(By.CSS_SELECTOR, "input[name=expiry][value='90']").click()
    driver.find_element(By.ID, "create-key-submit").click()
    wait.until(EC.presence_of_element_located((By.ID, "new-key")))
    secret = driver.find_element(By.ID, "new-key").get_attribute("value")
    check(secret.startswith("chr_live_"), "the new key is revealed")
    check("won't be shown again" in driver.page_source, "with the warning that it won't be shown again")
    shot("05-reveal-once")

    driver.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": base, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    driver.find_element(By.ID, "copy-key").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "copy-status"), "Copied"))
    copied = driver.execute_async_script(
        "const done = arguments[0]; navigator.clipboard.readText().then(done, () => done(null));")
    check(copied == secret, "Copy puts the key on the clipboard")

    status, me = api("GET", "/v1/me", copied or secret)
    check(status == 200 and me.get("api_key", me).get("label", "") in ("selenium-key", ""),
          f"the copied key works against the API ({status})")

    driver.find_element(By.ID, "done").click()
    wait.until(EC.presence_of_element_located((By.ID, "keys")))
    check(secret not in driver.page_source, "the key is not shown again on the app page")
    driver.refresh()
    check(secret not in driver.page_source, "nor after a reload")
    row = driver.find_element(By.XPATH, "//tr[td[1][text()='selenium-key']]")
    check("Never" in row.text or "UTC" in row.text, "the row shows its times")
    check("active" in row.text, "the new key is active")

    # Revoking through the UI, with a confirmation naming the key.
    row.find_element(By.XPATH, ".//button[text()='Revoke']").click()
    alert = wait.until(EC.alert_is_present())
    check("selenium-key" in alert.text, f"the confirmation names the key: {alert.text!r}")
    alert.accept()
    wait.until(lambda d: "revoked" in d.find_element(By.XPATH, "//tr[td[1][text()='selenium-key']]").text)
    shot("06-after-revoke")
    status, body = api("GET", "/v1/me", secret)
    check(status == 401 and body.get("error", {}).get("code") == "api_key_revoked",
          f"the API refuses the revoked key ({status})")

    # Duplicate makes a new key, shown once.
    row = driver.find_element(By.XPATH, "//tr[td[1][text()='selenium-key']]")
    row.find_element(By.XPATH, ".//button[text()='Duplicate']").click()
    wait.until(EC.presence_of_element_located((By.ID, "new-key")))
    duplicate = driver.find_element(By.ID, "new-key").get_attribute("value")
    check(duplicate.startswith("chr_live_") and duplicate != secret, "Duplicate reveals a new key")
    check(api("GET", "/v1/me", duplicate)[0] == 200, "the duplicate works")

    # Envelopes: create, then revoke with a confirmation.
    driver.get(base + "/dashboard/envelopes")
    driver.find_element(By.TAG_NAME, "summary").click()
    driver.find_element(By.NAME, "name").send_keys("mail-senders")
    driver.find_element(By.NAME, "commands").send_keys('{"/email/send": [["like", ".to", "*@example.com"]]}')
    mcp_did = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    driver.find_element(By.NAME, "audiences").send_keys('{"https://mail.example.com/mcp": "%s"}' % mcp_did)
    driver.find_element(By.CSS_SELECTOR, "form[action='/dashboard/envelopes'] button[type=submit]").click()
    wait.until(EC.presence_of_element_located((By.XPATH, "//tr[td[1][text()='mail-senders']]")))
    row = driver.find_element(By.XPATH, "//tr[td[1][text()='mail-senders']]").text
    check("email/send" in row and "*@example.com" in row, "the envelope lists its 0.10 capabilities and 1.0 commands")
    check("https://mail.example.com/mcp" in row and mcp_did in row, "the envelope lists the services OAuth clients may name")
    shot("07-envelopes")
    driver.find_element(By.XPATH, "//tr[td[1][text()='mail-senders']]//button[text()='Revoke']").click()
    alert = wait.until(EC.alert_is_present())
    check("mail-senders" in alert.text, "the envelope confirmation names it")
    alert.accept()
    wait.until(lambda d: "revoked" in d.find_element(By.XPATH, "//tr[td[1][text()='mail-senders']]").text)

    # Signing keys: rotate (the first mint made the live key).
    status, _ = api("POST", "/v1/envelopes", owner, {
        "app_id": app_id, "name": "mint", "capabilities": {"mailto:*": {"email/send": [{}]}},
        "max_ttl_seconds": 60})
    api("POST", "/v1/authorize", owner, {
        "audience": "did:key:z6MkpTYBshrFQiBoTeZfWt8V59oCZ9np6dQJSFgBhJti3nnV",
        "capabilities": {"mailto:a@example.com": {"email/send": [{}]}}})
    driver.get(base + "/dashboard/signing-keys")
    driver.find_element(By.XPATH, "//button[text()='Rotate live key']").click()
    wait.until(EC.alert_is_present()).accept()
    wait.until(lambda d: "verify only" in d.page_source)
    check("active" in driver.page_source and "verify only" in driver.page_source,
          "rotation shows the new active key and the old verify-only one")
    shot("08-signing-keys")

    # The audit log: newest first, filtered, paginated.
    driver.get(base + "/dashboard/audit")
    seqs = [int(cell.text) for cell in driver.find_elements(By.CSS_SELECTOR, "#audit tbody td:first-child")]
    check(seqs == sorted(seqs, reverse=True) and len(seqs) > 5, "the audit log is newest first")
    driver.find_element(By.NAME, "action").send_keys("key.revoke")
    driver.find_element(By.CSS_SELECTOR, "form[action='/dashboard/audit'] button").click()
    wait.until(EC.url_contains("action=key.revoke"))  # read the filtered page, not the one it replaces
    actions = {cell.text for cell in driver.find_elements(By.CSS_SELECTOR, "#audit tbody td:nth-child(4)")}
    check(actions == {"key.revoke"}, f"filtering by action shows only that action: {actions}")
    shot("09-audit")
    for index in range(60):
        api("GET", "/v1/me", secret)  # refused (revoked) and audited under this org: a log to page through
    time.sleep(2)  # refusals are written in batches, once a second
    driver.get(base + "/dashboard/audit")
    older = driver.find_elements(By.ID, "older")
    check(len(older) == 1, "a long log offers an older page")
    first_page = [int(c.text) for c in driver.find_elements(By.CSS_SELECTOR, "#audit tbody td:first-child")]
    older[0].click()
    wait.until(EC.url_contains("cursor="))
    second = [int(c.text) for c in driver.find_elements(By.CSS_SELECTOR, "#audit tbody td:first-child")]
    check(second and max(second) < min(first_page), "the older page continues where the first ended")

    # Phone width: nothing wider than the screen but the tables, which scroll in their own box.
    driver.set_window_size(390, 844)
    driver.get(base + f"/dashboard/apps/{app_id}")
    overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    check(overflow <= 1, f"the app page fits a phone ({overflow}px too wide)")
    shot("10-app-phone")
    driver.set_window_size(1280, 900)

    # Read-only roles are offered nothing they may not do.
    for role in ["auditor", "member"]:
        status, created = api("POST", "/v1/keys", owner, {"app_id": app_id, "label": f"{role}-ui", "role": role})
        sign_in(created["key"])
        driver.get(base + f"/dashboard/apps/{app_id}")
        shot(f"11-{role}")
        check(not driver.find_elements(By.ID, "create-key"), f"a {role} key sees no Create API key button")
        check(not driver.find_elements(By.XPATH, "//button[text()='Revoke']"), f"a {role} key sees no Revoke")
        driver.get(base + "/dashboard/apps")
        check(not driver.find_elements(By.ID, "create-app"), f"a {role} key sees no Create app")

    # Signing out ends the session.
    driver.find_element(By.CSS_SELECTOR, "form[action='/dashboard/sign-out'] button").click()
    wait.until(EC.url_contains("/dashboard/sign-in"))
    driver.get(base + "/dashboard/apps")
    check("/dashboard/sign-in" in driver.current_url, "after signing out the dashboard asks to sign in again")
finally:
    driver.quit()
    server.terminate()
    server.wait(timeout=30)
    shutil.rmtree(directory, ignore_errors=True)

print(f"{'FAILED' if failures else 'passed'}: {len(failures)} failure(s); screenshots in {screenshots}")
sys.exit(1 if failures else 0)
