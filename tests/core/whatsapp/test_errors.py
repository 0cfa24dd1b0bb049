"""The error table of the protocol doc (§1.9), code by code, and Graph error parsing."""

from __future__ import annotations

import json
import random

import pytest

from funnel.core.whatsapp.errors import (
    ErrorKind,
    GraphApiError,
    GraphAuthError,
    GraphRecipientError,
    GraphTemplateError,
    GraphThrottledError,
    GraphTransportError,
    backoff_delay,
    classify,
    error_from_response,
)

R, N = True, False

# (code, retryable, kind) straight from the doc's table; extra flags are checked separately.
TABLE: list[tuple[int, bool, ErrorKind]] = [
    (1, R, ErrorKind.TRANSIENT),
    (2, R, ErrorKind.TRANSIENT),
    (4, R, ErrorKind.RATE_LIMIT),
    (80007, R, ErrorKind.RATE_LIMIT),
    (130429, R, ErrorKind.THROUGHPUT),
    (131056, R, ErrorKind.PAIR_RATE),
    (131057, R, ErrorKind.MAINTENANCE),
    (131000, R, ErrorKind.TRANSIENT),
    (131016, R, ErrorKind.TRANSIENT),
    (100, N, ErrorKind.INVALID),
    (131008, N, ErrorKind.INVALID),
    (131009, N, ErrorKind.INVALID),
    (190, N, ErrorKind.AUTH),
    (0, N, ErrorKind.PERMISSION),
    (3, N, ErrorKind.PERMISSION),
    (10, N, ErrorKind.PERMISSION),
    (200, N, ErrorKind.PERMISSION),
    (250, N, ErrorKind.PERMISSION),
    (299, N, ErrorKind.PERMISSION),
    (131047, N, ErrorKind.WINDOW_CLOSED),
    (131026, N, ErrorKind.UNDELIVERABLE),
    (131049, N, ErrorKind.MARKETING_CAP),
    (131050, N, ErrorKind.OPTED_OUT),
    (131048, N, ErrorKind.QUALITY),
    (131051, N, ErrorKind.INVALID),
    (131052, N, ErrorKind.MEDIA),
    (131053, N, ErrorKind.MEDIA),
    (131030, N, ErrorKind.CONFIG),
    (131031, N, ErrorKind.POLICY),
    (368, N, ErrorKind.POLICY),
    (130497, N, ErrorKind.POLICY),
    (131042, N, ErrorKind.POLICY),
    (132000, N, ErrorKind.TEMPLATE),
    (132001, N, ErrorKind.TEMPLATE),
    (132005, N, ErrorKind.TEMPLATE),
    (132007, N, ErrorKind.TEMPLATE),
    (132012, N, ErrorKind.TEMPLATE),
    (132015, N, ErrorKind.TEMPLATE_UNAVAILABLE),
    (132016, N, ErrorKind.TEMPLATE_UNAVAILABLE),
    (130472, N, ErrorKind.UNDELIVERABLE),
]

ALERTING = {190, 0, 3, 10, 200, 250, 299, 131048, 131031, 368, 130497, 131042}
PAUSING = {190, 131031, 368, 130497}


@pytest.mark.parametrize(("code", "retryable", "kind"), TABLE, ids=[str(t[0]) for t in TABLE])
def test_every_code_in_the_table(code: int, retryable: bool, kind: ErrorKind) -> None:
    policy = classify(code)
    assert policy.retryable is retryable
    assert policy.kind is kind
    assert policy.alert is (code in ALERTING)
    assert policy.pause_channel is (code in PAUSING)
    assert policy.record_opt_out is (code == 131050)
    # Only responses that carried no code at all leave the send's fate unknown.
    assert policy.may_have_been_sent is False
    if retryable:
        assert policy.max_attempts > 1
        assert policy.delay_s(0, jitter=0) > 0


def test_throughput_retries_after_about_a_second_and_slows_the_number() -> None:
    policy = classify(130429)
    assert policy.delay_s(0, jitter=0) == pytest.approx(1.0)
    assert policy.slow_channel
    assert not policy.per_recipient


def test_pair_rate_backs_off_4_to_the_n_never_below_6_seconds() -> None:
    policy = classify(131056)
    delays = [policy.delay_s(n, jitter=0) for n in range(5)]
    assert delays == [6.0, 6.0, 16.0, 64.0, 256.0]
    assert policy.per_recipient


def test_maintenance_and_rate_limits_wait_minutes_not_seconds() -> None:
    assert classify(131057).delay_s(0, jitter=0) == pytest.approx(60.0)
    assert classify(4).delay_s(0, jitter=0) >= 60.0
    assert classify(80007).delay_s(0, jitter=0) >= 60.0


def test_marketing_cap_is_not_retried_for_a_day() -> None:
    assert classify(131049).not_before_s >= 24 * 3600


def test_no_code_means_retryable_but_may_have_been_sent() -> None:
    timeout = classify(None)
    html_503 = classify(None, http_status=503)
    for policy in (timeout, html_503):
        assert policy.retryable
        assert policy.kind is ErrorKind.TRANSIENT
        assert policy.may_have_been_sent


def test_unknown_codes_are_not_retried_unless_the_server_failed() -> None:
    assert not classify(999_999).retryable
    assert classify(999_999).alert
    assert classify(999_999, http_status=500).retryable
    assert not classify(None, http_status=400).retryable


def test_jitter_only_lengthens_the_delay() -> None:
    rng = random.Random(7)
    samples = [
        backoff_delay(0, base_s=1, factor=4, min_s=6, jitter=0.5, rng=rng) for _ in range(200)
    ]
    assert min(samples) >= 6.0
    assert max(samples) <= 9.0
    assert len(set(samples)) > 100
    assert backoff_delay(30, base_s=1, factor=4, max_s=600, jitter=0) == 600


def graph_body(code: int, **extra: object) -> bytes:
    return json.dumps(
        {
            "error": {
                "message": f"(#{code}) Something",
                "type": "OAuthException",
                "code": code,
                "error_data": {"messaging_product": "whatsapp", "details": "Detail text"},
                "fbtrace_id": "AbCdEf",
                **extra,
            }
        }
    ).encode()


def test_graph_json_is_parsed_into_fields_and_the_right_class() -> None:
    err = error_from_response(
        400,
        graph_body(131047, error_subcode=2494010, error_user_title="Re-engagement message"),
        "application/json",
    )
    assert isinstance(err, GraphRecipientError)
    assert (err.code, err.subcode, err.http_status) == (131047, 2494010, 400)
    assert err.title == "Re-engagement message"
    assert err.details == "Detail text"
    assert err.fbtrace_id == "AbCdEf"
    assert not err.retryable
    assert err.kind is ErrorKind.WINDOW_CLOSED
    assert "131047" in str(err)
    assert "AbCdEf" in str(err)


@pytest.mark.parametrize(
    ("code", "status", "cls"),
    [
        (130429, 429, GraphThrottledError),
        (131056, 400, GraphThrottledError),
        (190, 401, GraphAuthError),
        (132015, 400, GraphTemplateError),
        (100, 400, GraphApiError),
    ],
)
def test_error_class_follows_the_kind(code: int, status: int, cls: type[GraphApiError]) -> None:
    err = error_from_response(status, graph_body(code))
    assert type(err) is cls


def test_string_codes_are_tolerated() -> None:
    err = error_from_response(400, b'{"error":{"code":"131026","message":"Undeliverable"}}')
    assert err.code == 131026
    assert err.kind is ErrorKind.UNDELIVERABLE


def test_html_5xx_becomes_a_transport_error_that_may_have_been_sent() -> None:
    err = error_from_response(503, b"<html><body>Sorry</body></html>", "text/html")
    assert isinstance(err, GraphTransportError)
    assert err.code is None
    assert err.http_status == 503
    assert err.retryable
    assert err.may_have_been_sent
    assert "HTML" in str(err)


def test_empty_and_non_graph_json_bodies_are_handled() -> None:
    assert error_from_response(502, b"").retryable
    err = error_from_response(400, b'{"detail": "nope"}', "application/json")
    assert isinstance(err, GraphTransportError)
    assert not err.retryable
