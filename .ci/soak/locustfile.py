"""`make soak` traffic: account managers browsing lists and details, an integration pushing order
batches (and re-pushing some, as a client retrying after a timeout would), and one forced re-tier
run started half-way through. Every order reference the API acknowledged is written to
SOAK_OUT/pushed.txt so the check afterwards can prove each is stored exactly once."""

# ruff: noqa: S311 -- random only picks pages and amounts for the load mix, never a secret

import itertools
import os
import random
import threading
from pathlib import Path

import gevent
import requests
from locust import HttpUser, between, events, task

OUT = Path(os.environ["SOAK_OUT"])
RUN_ID = os.environ.get("SOAK_RUN_ID", "soak")
INTEGRATION_TOKEN = os.environ["SOAK_INTEGRATION_TOKEN"]
ADMIN_TOKEN = os.environ["SOAK_ADMIN_TOKEN"]
MANAGERS = [pair.split(":", 1) for pair in os.environ["SOAK_MANAGERS"].split(",")]
CODES = os.environ["SOAK_CUSTOMER_CODES"].split(",")
BATCH = int(os.environ.get("SOAK_BATCH", "50"))

_pushed: set[str] = set()
_pushed_lock = threading.Lock()
_sequence = itertools.count()


class AccountManager(HttpUser):
    weight = 4
    wait_time = between(0.2, 1.0)

    def on_start(self):
        username, password = random.choice(MANAGERS)
        self.client.get("/accounts/login/", name="login page")
        token = self.client.cookies.get("csrftoken", "")
        with self.client.post(
            "/accounts/login/",
            {"username": username, "password": password, "csrfmiddlewaretoken": token},
            headers={"Referer": self.host + "/accounts/login/"},
            name="login",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login as {username} answered {response.status_code}")
        page = self.client.get("/api/v1/customers/?page_size=100", name="api: my customers").json()
        self.codes = [row["code"] for row in page.get("results", [])] or ["NONE"]

    @task(4)
    def customer_list(self):
        query = random.choice(["", "?sort=-score", "?search=华", "?page=2"])
        self.client.get(f"/customers/{query}", name="customer list")

    @task(6)
    def customer_detail(self):
        self.client.get(f"/customers/{random.choice(self.codes)}/", name="customer detail")

    @task(1)
    def notices(self):
        self.client.get("/notices/", name="notices")

    @task(1)
    def api_customer(self):
        self.client.get(f"/api/v1/customers/{random.choice(self.codes)}/", name="api: customer")


class Integration(HttpUser):
    weight = 1
    wait_time = between(0.2, 0.6)

    def on_start(self):
        self.client.headers["Authorization"] = f"Token {INTEGRATION_TOKEN}"
        self.last_batch = None

    @task(5)
    def push_orders(self):
        refs = [f"{RUN_ID}-{next(_sequence)}" for _ in range(BATCH)]
        batch = [
            {
                "customer": random.choice(CODES),
                "amount": f"{random.randint(100, 90000)}.{random.randint(0, 99):02d}",
                "ordered_at": "2026-11-01",
                "source": "soak",
                "external_ref": ref,
            }
            for ref in refs
        ]
        self._push(batch, name="api: push orders")
        self.last_batch = batch

    @task(1)
    def push_again(self):
        """A client that timed out sends the same batch again: nothing may be stored twice."""
        if self.last_batch:
            self._push(self.last_batch, name="api: re-push orders")

    @task(1)
    def tier_changes(self):
        self.client.get("/api/v1/tier-changes/", name="api: tier-change feed")

    def _push(self, batch, *, name):
        with self.client.post("/api/v1/orders/", json=batch, name=name, catch_response=True) as response:
            if response.status_code not in (200, 201):
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return
        with _pushed_lock:
            _pushed.update(row["external_ref"] for row in batch)


def _start_run(host: str) -> None:
    response = requests.post(
        f"{host}/api/v1/tier-runs/",
        json={"force": True},
        headers={"Authorization": f"Token {ADMIN_TOKEN}"},
        timeout=60,
    )
    (OUT / "run.txt").write_text(f"{response.status_code} {response.text}\n")


@events.test_start.add_listener
def _schedule_run(environment, **_kwargs):
    run_time = environment.parsed_options.run_time if environment.parsed_options else 60
    gevent.spawn_later(max(1, (run_time or 60) / 2), _start_run, environment.host)


@events.test_stop.add_listener
def _write_pushed(environment, **_kwargs):
    with _pushed_lock:
        (OUT / "pushed.txt").write_text("\n".join(sorted(_pushed)) + "\n")


@events.quitting.add_listener
def _exit_code(environment, **_kwargs):
    if environment.stats.total.num_failures:
        environment.process_exit_code = 1
