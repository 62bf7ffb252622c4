"""A person's path through 02_create_orders, in JupyterLab in headless Chromium:
open, run all, fill the form, click Create, see the confirmation and the order."""

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from orders_lib.sandbox import control
from orders_lib.workbook.lab import lab_command, write_overrides

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "reports" / "test-artifacts"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def sandbox(start_sandbox):
    return start_sandbox("browser-sandbox")


@pytest.fixture(scope="module")
def lab(sandbox, tmp_path_factory):
    port, token = free_port(), secrets.token_hex(8)
    write_overrides(Path(sys.prefix))
    home = tmp_path_factory.mktemp("lab-home")
    env = {
        **os.environ,
        "ORDERS_ENDPOINT_URL": sandbox.endpoint,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
    }
    server = subprocess.Popen(
        lab_command(sys.executable, port, token), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2)
            break
        except OSError:
            time.sleep(0.3)
    yield f"http://127.0.0.1:{port}", token
    server.terminate()
    server.wait(timeout=20)


def test_fill_the_form_click_create_and_see_the_order_reach_processed(lab, sandbox):
    base, token = lab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(f"{base}/lab/tree/02_create_orders.ipynb?reset&token={token}")
            expect(page.locator("#jp-main-statusbar")).to_contain_text("Idle", timeout=60_000)
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.locator('li.lm-Menu-item[data-command="runmenu:run-all"]').click()
            # Let run-all finish (its last cell prints the status counts), or its own
            # form.fill cells would overwrite what we type.
            expect(page.get_by_text("{'PROCESSED'").first).to_be_visible(timeout=90_000)
            page.get_by_label("Customer id").first.fill("C-7777")
            page.get_by_label("Name").first.fill("Browser Tester")
            page.get_by_label("Email").first.fill("browser@example.com")
            page.get_by_label("Idem. key").first.fill("browser-test-1")
            page.get_by_placeholder("SKU").first.fill("PEN-RED")
            page.get_by_placeholder("item name").first.fill("Red pen")
            page.locator(".widget-inline-hbox input[type=number]").first.fill("6")
            page.get_by_placeholder("unit price").first.fill("2.25")
            # ProcessOrder slowed by 3 s: the form must show the order NEW first, then follow it on its own.
            control.control(sandbox.endpoint, "chaos", {"function_delay_ms": {"techtest-process-order": 3000}})
            page.get_by_role("button", name="Create").first.click()
            confirmation = page.locator(".widget-output").filter(has_text="created: 13.50 EUR, status NEW").first
            expect(confirmation).to_be_visible(timeout=30_000)
            order_id = confirmation.inner_text().split()[1]
            journey = page.locator(".order-journey").filter(has_text=order_id).first
            expect(journey).to_contain_text("NEW", timeout=10_000)
            expect(journey).to_contain_text("PROCESSED", timeout=30_000)
            expect(journey).to_contain_text("notified", timeout=10_000)
            expect(page.locator("table.orders-latest").first).to_contain_text(order_id, timeout=30_000)
            expect(page.locator("table.orders-latest").first).to_contain_text("PROCESSED", timeout=10_000)
        finally:
            control.control(sandbox.endpoint, "chaos", {"reset": True})
            page.screenshot(path=str(ARTIFACTS / "02_create_orders.png"), full_page=True)
            browser.close()
