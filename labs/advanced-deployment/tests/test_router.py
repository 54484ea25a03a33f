"""The router against real backend apps (in process, through httpx's ASGI
transport) and against deliberately slow or failing fakes: A/B routing,
shadow isolation, canary promotion and rollback, and config validation."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import httpx2
import pytest
from conftest import RouterFactory, ab_config, canary_config
from live import free_port
from pydantic import ValidationError

from wine_router import report
from wine_router.canary import CanaryRelease
from wine_router.config import RouterConfig, load_config

LAB = Path(__file__).resolve().parent.parent


def slow(seconds: float) -> httpx2.MockTransport:
    async def handler(request: httpx2.Request) -> httpx2.Response:
        await asyncio.sleep(seconds)
        return httpx2.Response(200, json={"class_name": "class_0", "model_version": "slow"})

    return httpx2.MockTransport(handler)


def failing(status: int = 500) -> httpx2.MockTransport:
    return httpx2.MockTransport(lambda request: httpx2.Response(status, json={"detail": "boom"}))


# --- A/B ---------------------------------------------------------------------


def test_every_answer_names_its_variant_and_model_version(
    router: RouterFactory, wine: dict[str, float]
) -> None:
    versions = {"a": "1.0.0", "b": "1.1.0"}
    seen = set()
    with router(ab_config(shadow=None)) as client:
        for i in range(40):
            response = client.post("/predict", json=wine, headers={"X-User-Id": f"u{i}"})
            assert response.status_code == 200
            body = response.json()
            variant = response.headers["x-variant"]
            assert body["variant"] == variant
            assert body["model_version"] == response.headers["x-model-version"] == versions[variant]
            seen.add(variant)
    assert seen == {"a", "b"}


def test_a_user_stays_on_one_variant(router: RouterFactory, wine: dict[str, float]) -> None:
    with router(ab_config(shadow=None)) as client:
        for user in ("alice", "bob", "carol"):
            variants = {
                client.post("/predict", json=wine, headers={"X-User-Id": user}).headers["x-variant"]
                for _ in range(5)
            }
            assert len(variants) == 1


def test_a_request_without_a_user_id_is_refused(router: RouterFactory, wine: dict) -> None:
    with router(ab_config(shadow=None)) as client:
        response = client.post("/predict", json=wine)
    assert response.status_code == 400
    assert "X-User-Id" in response.json()["detail"]


def test_a_backend_422_reaches_the_caller_unchanged(router: RouterFactory) -> None:
    with router(ab_config(shadow=None)) as client:
        response = client.post("/predict", json={"alcohol": -1}, headers={"X-User-Id": "u"})
        status = client.get("/admin/status").json()
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "alcohol"]
    assert sum(v["errors"] for v in status["variants"].values()) == 0  # the client's fault


def test_a_dead_backend_is_a_502_that_names_the_variant(
    router: RouterFactory, wine: dict[str, float]
) -> None:
    config = ab_config(shadow=None, ab={"salt": "s", "weights": {"a": 1, "b": 0}})
    config["variants"]["a"]["url"] = f"http://127.0.0.1:{free_port()}"  # nothing listens
    with router(config, a=None) as client:
        response = client.post("/predict", json=wine, headers={"X-User-Id": "u"})
    assert response.status_code == 502
    assert response.json() == {
        "detail": "variant 'a' could not be reached (ConnectError)",
        "variant": "a",
    }


# --- shadow ------------------------------------------------------------------


def answers(client, wines, users: int = 20) -> list[tuple[int, bytes]]:  # noqa: ANN001
    return [
        (r.status_code, r.content)
        for r in (
            client.post("/predict", json=wines[i % len(wines)][0], headers={"X-User-Id": f"u{i}"})
            for i in range(users)
        )
    ]


@pytest.mark.parametrize(
    "shadow_transport",
    [
        pytest.param(slow(5.0), id="slow"),
        pytest.param(failing(500), id="500"),
        pytest.param(None, id="refused"),
    ],
)
def test_a_slow_or_failing_shadow_changes_nothing_for_the_caller(
    router: RouterFactory, wines: list, shadow_transport: httpx2.MockTransport | None
) -> None:
    with router(ab_config(shadow=None)) as client:
        answers(client, wines, 1)  # warm up: load the models
        baseline = answers(client, wines)

    config = ab_config()
    if shadow_transport is None:
        config["variants"]["shadow"]["url"] = f"http://127.0.0.1:{free_port()}"
    with router(config, shadow=shadow_transport) as client:
        answers(client, wines, 1)
        started = time.perf_counter()
        shadowed = answers(client, wines)
        per_request = (time.perf_counter() - started) / len(shadowed)
        stats = client.get("/admin/status").json()["shadow"]

    assert shadowed == baseline  # same statuses, same bytes
    # The slow shadow sleeps 5 s per copy; the caller waits for none of it.
    assert per_request < 1.0
    assert stats["sent"] >= 1
    assert stats["agreed"] == stats["disagreed"] == 0


def test_failed_shadow_copies_are_counted(router: RouterFactory, wines: list) -> None:
    with router(ab_config(), shadow=failing(500)) as client:
        answers(client, wines, 10)
        stats = client.post("/admin/shadow/drain").json()
    assert stats["sent"] == stats["failed"] == 10


def test_a_full_shadow_queue_drops_copies_not_requests(router: RouterFactory, wines: list) -> None:
    config = ab_config()
    config["shadow"] = {**config["shadow"], "queue_size": 2, "workers": 1}
    with router(config, shadow=slow(5.0)) as client:
        results = answers(client, wines, 10)
        stats = client.get("/admin/status").json()["shadow"]
    assert all(status == 200 for status, _ in results)
    # One copy in flight, two queued, the other seven dropped.
    assert stats["dropped"] == 7


def test_shadow_answers_are_logged_and_compared(
    router: RouterFactory, wines: list, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "shadow.jsonl"
    config = ab_config()
    config["shadow"] = {**config["shadow"], "log": str(log)}
    with router(config) as client:
        results = answers(client, wines, 60)
        stats = client.post("/admin/shadow/drain").json()
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(records) == stats["sent"] == 60
    assert stats["agreed"] + stats["disagreed"] == 60
    records.sort(key=lambda r: int(r["user_id"][1:]))  # the workers finish in any order
    for (status, body), record in zip(results, records, strict=True):
        live = json.loads(body)
        assert status == 200
        assert record["primary"] == {
            "variant": live["variant"],
            "model_version": live["model_version"],
            "class_name": live["class_name"],
        }
        assert record["shadow"]["model_version"] == "1.2.0"
        assert record["agree"] == (record["shadow"]["class_name"] == live["class_name"])
        assert "variant" not in record["shadow"] or record["shadow"]["variant"] == "shadow"

    saved = tmp_path / "shadow-report.txt"
    assert report.main([str(log), "--save", str(saved)]) == 0
    out = capsys.readouterr().out
    assert "shadow copies: 60, compared: 60" in out
    assert f"agreement: {stats['agreed'] / 60:.2%}" in out
    assert saved.read_text() == out


# --- canary ------------------------------------------------------------------
# The canary logic does not need real models: fakes that answer at once keep
# these tests fast.


def fake(model_version: str) -> httpx2.MockTransport:
    body = {"class_name": "class_0", "model_version": model_version}
    return httpx2.MockTransport(lambda request: httpx2.Response(200, json=body))


STABLE = fake("1.0.0")


def send(client, wine, users: range) -> dict[str, str]:  # noqa: ANN001
    return {
        f"u{i}": client.post("/predict", json=wine, headers={"X-User-Id": f"u{i}"}).headers[
            "x-variant"
        ]
        for i in users
    }


def test_a_canary_is_promoted_step_by_step_and_keeps_its_users(
    router: RouterFactory, wine: dict[str, float]
) -> None:
    with router(canary_config(), a=STABLE, b=fake("1.1.0")) as client:
        assert client.get("/admin/canary").json()["canary_weight"] == 20
        refused = client.post("/admin/canary/promote")
        assert refused.status_code == 409
        assert "0 of 5 canary requests" in refused.json()["detail"]

        first = send(client, wine, range(100))
        share = sum(v == "canary" for v in first.values()) / 100
        assert 0.05 < share < 0.40  # 20 % of 100 users, loosely

        promoted = client.post("/admin/canary/promote")
        assert promoted.status_code == 200
        assert promoted.json()["canary_weight"] == 50
        assert promoted.json()["last_action"] == "promote"
        second = send(client, wine, range(100))
        assert all(second[u] == "canary" for u, v in first.items() if v == "canary")

        client.post("/admin/canary/promote")
        assert client.get("/admin/canary").json()["canary_weight"] == 100
        assert set(send(client, wine, range(50)).values()) == {"canary"}
        assert client.post("/admin/canary/promote").status_code == 409  # nothing left


def test_a_manual_rollback_sends_everyone_to_stable(
    router: RouterFactory, wine: dict[str, float]
) -> None:
    with router(canary_config(), a=STABLE, b=fake("1.1.0")) as client:
        send(client, wine, range(30))
        body = client.post("/admin/canary/rollback").json()
        assert (body["canary_weight"], body["last_action"]) == (0, "rollback")
        assert set(send(client, wine, range(100)).values()) == {"stable"}


def test_a_failing_canary_is_rolled_back_automatically(
    router: RouterFactory, wine: dict[str, float]
) -> None:
    with router(canary_config(), a=STABLE, b=failing(500)) as client:
        first = [
            client.post("/predict", json=wine, headers={"X-User-Id": f"u{i}"}) for i in range(100)
        ]
        status = client.get("/admin/canary").json()
        after = send(client, wine, range(100))
    failed = [r for r in first if r.status_code != 200]
    # The canary's first failure breaks a 2 % error budget over 5 requests.
    assert len(failed) == 1
    assert failed[0].headers["x-variant"] == "canary"
    assert status["canary_weight"] == 0
    assert status["reason"].startswith("automatic: canary error rate 1/1")
    assert set(after.values()) == {"stable"}


def test_the_chapters_rollback_example_with_the_lab_settings() -> None:
    """shadow-and-canary.md's example, with canary.toml's bounds (2 % over at
    least 50 requests): one failure is 1/50 = 2 %, within the budget; a second
    breaks it, even when they are the canary's first two answers."""
    release = CanaryRelease(load_config(LAB / "canary.toml").canary)
    release.record("canary", 12.0, error=True)
    assert (release.canary_weight, release.last_action) == (5, "start")
    assert release.status()["analysis"]["verdict"] == "wait"
    release.record("canary", 12.0, error=True)
    assert (release.canary_weight, release.last_action) == (0, "rollback")
    assert release.reason == "automatic: canary error rate 2/2 exceeds 2.0%"


def test_a_slow_canary_is_rolled_back_on_latency(router: RouterFactory, wine: dict) -> None:
    config = canary_config(max_p95_latency_ms=20)
    with router(config, a=STABLE, b=slow(0.05)) as client:
        send(client, wine, range(100))
        status = client.get("/admin/canary").json()
    assert status["canary_weight"] == 0
    assert "p95 latency" in status["reason"]


def test_canary_endpoints_answer_404_outside_canary_mode(router: RouterFactory) -> None:
    with router(ab_config(shadow=None)) as client:
        response = client.post("/admin/canary/promote")
    assert response.status_code == 404
    assert response.json() == {"detail": "no canary: the router is not in canary mode"}


# --- configuration -------------------------------------------------------------


def test_the_lab_configs_are_valid() -> None:
    ab = load_config(LAB / "router.toml")
    assert (ab.mode, ab.shadow is not None) == ("ab", True)
    canary = load_config(LAB / "canary.toml")
    assert canary.canary is not None
    assert canary.canary.steps == [5, 25, 50, 100]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ab": {"salt": "s", "weights": {"a": 1, "c": 1}}}, "unknown variant(s) ['c']"),
        ({"ab": {"salt": "s", "weights": {"a": 1, "shadow": 1}}}, "must not also answer live"),
        ({"ab": {"salt": "s", "weights": {"a": -1, "b": 2}}}, "weights must be >= 0"),
        ({"mode": "canary"}, "needs a [canary] table"),
        ({"timeout": 3}, "Extra inputs are not permitted"),
    ],
)
def test_a_bad_config_is_refused_with_the_reason(change: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        RouterConfig.model_validate(ab_config(**change))


def test_canary_steps_must_rise_to_100() -> None:
    with pytest.raises(ValidationError, match="last step must be 100"):
        RouterConfig.model_validate(canary_config(steps=[5, 50]))
