"""`GET /metrics`: names and labels of what the gateway counts, bounded label cardinality
(route templates and bounded operation names, never raw paths), SQL counted per request as
tests/sql_counter.py counts it, and who may read the endpoint."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from pydantic import SecretStr, ValidationError

from gateway.core.settings import Environment, Settings
from gateway.http.app import create_app
from gateway.observability import graphql
from gateway.observability.endpoint import listener
from gateway.observability.metrics import REGISTRY
from gateway.webhooks.worker import DeliveryWorker
from tests.auth_helpers import bearer, make_user, use_memory_throttle
from tests.environment import child_environment
from tests.factories import World
from tests.helpers import UtcClock, create_project, hook
from tests.sql_counter import count_sql
from tests.webhook_receiver import Receiver, receiving

ISSUES = "/api/v1/workspaces/acme/projects/WEB/issues"
ISSUE_TEMPLATE = "/api/v1/workspaces/{slug}/projects/{key}/issues/{number}"


def samples(text: str, name: str) -> list[Sample]:
    return [
        s
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    ]


async def scrape(client: httpx.AsyncClient) -> str:
    answer = await client.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return answer.text


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def world(empty_world: World, client: httpx.AsyncClient) -> World:
    """Workspace `acme` with project `WEB`, made over REST."""
    await create_project(client, empty_world, "WEB")
    return empty_world


async def test_requests_are_counted_by_route_template_method_and_status(
    client: httpx.AsyncClient, world: World
) -> None:
    made = await client.post(ISSUES, json={"title": "Count me"}, headers=world.h("admin"))
    assert made.status_code == 201, made.text
    number = made.json()["number"]
    labels = {"route": ISSUE_TEMPLATE, "method": "GET"}
    before = value("switchyard_http_requests_total", status="200", **labels)
    assert (await client.get(f"{ISSUES}/{number}", headers=world.h("admin"))).status_code == 200
    assert (await client.get(f"{ISSUES}/999", headers=world.h("admin"))).status_code == 404
    text = await scrape(client)
    after = [
        s
        for s in samples(text, "switchyard_http_requests_total")
        if s.labels == {**labels, "status": "200"}
    ]
    assert after[0].value == before + 1
    assert value("switchyard_http_requests_total", status="404", **labels) >= 1
    latency = samples(text, "switchyard_http_request_duration_seconds_count")
    assert any(s.labels == labels and s.value >= 2 for s in latency)
    assert samples(text, "switchyard_build_info")[0].labels["version"]
    assert samples(text, "switchyard_subscriptions")
    pool = {s.labels["state"] for s in samples(text, "switchyard_db_pool_connections")}
    postgres = world.app.state.settings.database_url.startswith("postgres")
    assert pool == ({"in_use", "idle", "max"} if postgres else set())


async def test_sql_statements_are_those_the_request_sent(
    client: httpx.AsyncClient, world: World
) -> None:
    route = "/api/v1/workspaces/{slug}/projects/{key}/issues"
    count_before = value("switchyard_http_request_sql_statements_sum", route=route)
    with count_sql() as sql:
        made = await client.post(ISSUES, json={"title": "SQL"}, headers=world.h("admin"))
    assert made.status_code == 201
    assert sql.count > 0
    assert value("switchyard_http_request_sql_statements_sum", route=route) == (
        count_before + sql.count
    )
    assert value("switchyard_http_request_sql_duration_seconds_sum", route=route) > 0


async def test_graphql_operations_are_counted_by_name_and_type_with_error_codes(
    client: httpx.AsyncClient, world: World
) -> None:
    query = "query CountedViewer { viewer { username } }"
    before = value("switchyard_graphql_operations_total", operation="CountedViewer", type="query")
    for headers in (world.h("admin"), {}):  # the compiled path, then the resolvers' refusal
        await client.post(
            "/graphql", json={"query": query, "operationName": "CountedViewer"}, headers=headers
        )
    answer = await client.get("/graphql", params={"query": query}, headers=world.h("admin"))
    assert answer.status_code == 200
    await client.post("/graphql", json={"query": "{ viewer {"}, headers=world.h("admin"))
    text = await scrape(client)
    counted = samples(text, "switchyard_graphql_operations_total")
    assert any(
        s.labels == {"operation": "CountedViewer", "type": "query"} and s.value == before + 2
        for s in counted
    )
    assert any(s.labels == {"operation": "anonymous", "type": "query"} for s in counted)
    errors = {
        (s.labels["operation"], s.labels["code"])
        for s in samples(text, "switchyard_graphql_errors_total")
    }
    assert ("CountedViewer", "UNAUTHENTICATED") in errors
    assert ("anonymous", "GRAPHQL_PARSE_FAILED") in errors
    mutation = "mutation CountedMutation($input: CreateWorkspaceInput!) {"
    mutation += " createWorkspace(input: $input) { workspace { slug } } }"
    await client.post(
        "/graphql",
        json={"query": mutation, "variables": {"input": {"slug": "m1", "name": "M"}}},
        headers=world.h("admin"),
    )
    assert value("switchyard_graphql_operations_total", operation="anonymous", type="mutation") >= 1


def _series(text: str, name: str) -> set[tuple[tuple[str, str], ...]]:
    return {tuple(sorted(s.labels.items())) for s in samples(text, name)}


async def test_label_cardinality_is_bounded(client: httpx.AsyncClient, world: World) -> None:
    before = await scrape(client)
    admin = world.h("admin")
    for i in range(50):
        await client.get(f"/no/such/path/{i}")
        await client.get(f"{ISSUES}/{1000 + i}", headers=admin)
        name = f"Probe{i}" if i % 3 else "x" * (100 + i)  # long names are "other"
        await client.post(
            "/graphql",
            json={"query": f"query {name} {{ viewer {{ id }} }}", "operationName": name},
            headers=admin,
        )
        await client.post("/graphql", json={"query": "{ x }", "operationName": f"bad-{i}!"})
    text = await scrape(client)
    requests = "switchyard_http_requests_total"
    new = _series(text, requests) - _series(before, requests)
    assert len(new) <= 6, new  # 200 requests on 150 distinct paths: a handful of series
    routes = {s.labels["route"] for s in samples(text, requests)}
    assert {"unmatched", ISSUE_TEMPLATE} <= routes
    assert not any("/no/such" in r or "1000" in r for r in routes)
    assert all(r == "unmatched" or r.startswith("/") for r in routes)
    counted = "switchyard_graphql_operations_total"
    operations = {s.labels["operation"] for s in samples(text, counted)}
    assert len(operations) <= graphql.MAX_NAMES + 2  # and "other", "anonymous"
    assert "other" in operations
    assert not any(len(o) > graphql.MAX_NAME or "!" in o for o in operations)
    added = {dict(s)["operation"] for s in _series(text, counted) - _series(before, counted)}
    assert all(o.startswith("Probe") or o in ("other", "anonymous") for o in added), added


def test_operation_names_past_the_cap_are_other() -> None:
    names = graphql._Names()
    for i in range(graphql.MAX_NAMES):
        assert names.label(f"Op{i}") == f"Op{i}"
    assert names.label("OneTooMany") == "other"
    assert names.label("Op7") == "Op7"  # already admitted
    assert names.label(None) == "anonymous"


async def test_rate_limit_refusals_are_counted(app: FastAPI, settings: Settings) -> None:
    limited = create_app(settings.model_copy(update={"rate_limit_anonymous_per_minute": 1}))
    use_memory_throttle(limited)
    before = value("switchyard_rate_limit_refusals_total", api="rest")
    graphql_before = value("switchyard_rate_limit_refusals_total", api="graphql")
    transport = httpx.ASGITransport(app=limited, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        assert (await http.get("/api/v1/meta")).status_code == 200
        assert (await http.get("/api/v1/meta")).status_code == 429
        graph = await http.post("/graphql", json={"query": "{ serverInfo { version } }"})
        assert graph.status_code == 429
    assert value("switchyard_rate_limit_refusals_total", api="rest") == before + 1
    assert value("switchyard_rate_limit_refusals_total", api="graphql") == graphql_before + 1


async def test_webhook_attempts_are_counted_by_outcome(
    client: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    local = settings.model_copy(
        update={"webhook_allow_private": True, "webhook_timeout_seconds": 0.5}
    )
    before = value("switchyard_webhook_delivery_attempts_total", outcome="succeeded")
    retrying = value("switchyard_webhook_delivery_attempts_total", outcome="retrying")
    async with receiving(Receiver()) as receiver:
        await hook(world, local, receiver.url)
        await create_project(client, world, "OPS")
        worker = DeliveryWorker(local, clock=UtcClock())
        try:
            assert await worker.run_once() == 1
        finally:
            await worker.stop()
    assert value("switchyard_webhook_delivery_attempts_total", outcome="succeeded") == before + 1
    await create_project(client, world, "GONE")  # its receiver has stopped: refused, then retried
    worker = DeliveryWorker(local, clock=UtcClock())
    try:
        assert await worker.run_once() == 1
    finally:
        await worker.stop()
    assert value("switchyard_webhook_delivery_attempts_total", outcome="retrying") == (retrying + 1)


def _app(settings: Settings, **changes: object) -> FastAPI:
    return create_app(settings.model_copy(update=changes))


async def _get(app: FastAPI, headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        return await http.get("/metrics", headers=headers)


async def test_a_token_guards_the_endpoint(settings: Settings) -> None:
    guarded = _app(settings, metrics_token=SecretStr("scrape-secret-123"))
    refused = await _get(guarded)
    assert refused.status_code == 401
    assert refused.json()["code"] == "UNAUTHENTICATED"
    assert (await _get(guarded, {"Authorization": "Bearer wrong"})).status_code == 401
    assert (await _get(guarded, {"Authorization": "Bearer scrape-secret-123"})).status_code == 200
    assert (await _get(_app(settings, metrics_enabled=False))).status_code == 404


def _production(**changes: object) -> Settings:
    return Settings(
        environment=Environment.production,
        jwt_secret="production-secret-" + "abcdefghijklmnopqrstuvwxyz0123456789",
        **changes,  # type: ignore[arg-type]
    )


def test_production_never_serves_metrics_anonymously() -> None:
    assert _production().metrics is False  # off unless asked for
    with pytest.raises(ValidationError, match="GATEWAY_METRICS_TOKEN"):
        _production(metrics_enabled=True)
    assert _production(metrics_enabled=True, metrics_token="t" * 20).metrics
    assert _production(metrics_enabled=True, metrics_port=9464).metrics


async def test_production_serves_the_app_port_only_with_the_token(settings: Settings) -> None:
    base = settings.model_copy(
        update={"environment": Environment.production, "metrics_enabled": True}
    )
    token = SecretStr("scrape-secret-123")
    with_token = create_app(base.model_copy(update={"metrics_token": token}))
    assert (await _get(with_token)).status_code == 401
    port_only = create_app(base.model_copy(update={"metrics_port": 9464}))
    assert (await _get(port_only)).status_code == 404


@pytest.fixture
async def test_the_listener_of_its_own_serves_on_loopback(
    settings: Settings, free_port: int
) -> None:
    own = settings.model_copy(update={"metrics_port": free_port})
    with listener(own) as address:
        assert address == ("127.0.0.1", free_port)
        async with httpx.AsyncClient() as http:
            answer = await http.get(f"http://127.0.0.1:{free_port}/metrics")
        assert answer.status_code == 200
        assert "switchyard_build_info" in answer.text
    with listener(settings) as none:
        assert none is None


async def test_a_user_route_is_counted_under_its_template(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await make_user("templated")
    await client.get("/api/v1/users/templated", headers=bearer(app, user))
    assert (
        value(
            "switchyard_http_requests_total",
            route="/api/v1/users/{username}",
            method="GET",
            status="200",
        )
        >= 1
    )


@pytest.mark.slow
def test_serve_refuses_a_metrics_port_with_several_workers(tmp_path: Path) -> None:
    env = child_environment()
    env |= {"GATEWAY_DATABASE_URL": f"sqlite://{tmp_path / 'm.sqlite3'}"}
    env |= {"GATEWAY_METRICS_PORT": "9464"}
    gateway = str(Path(sys.executable).parent / "gateway")
    result = subprocess.run(
        [gateway, "serve", "--workers", "2"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: refusing to start: GATEWAY_METRICS_PORT serves one process's")
