"""Every error the server sends carries its protocol header: that is how a till tells the
server's own refusal from an error page of a proxy or firewall in between (docs/sync.md)."""

from __future__ import annotations

from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION


def test_the_servers_errors_carry_its_protocol_header(app, client, shop):
    too_large = b'{"protocol_version": 1, "events": [' + b" " * 200 + b"]}"
    unparsable = b'{"protocol_version": 1, "events": [}'
    answers = {
        "unauthorized": client.post("/api/v1/sync/push", json={"events": []}),
        "not found": client.get("/api/v1/no-such-route"),
        "invalid": client.post(
            "/api/v1/sync/push",
            data=unparsable,
            content_type="application/json",
            headers=shop.s1.headers,
        ),
    }
    app.config["MAX_CONTENT_LENGTH"] = 64
    answers["too large"] = client.post(
        "/api/v1/sync/push",
        data=too_large,
        content_type="application/json",
        headers=shop.s1.headers,
    )
    for what, answer in answers.items():
        assert answer.status_code >= 400, what
        assert answer.get_json()["error"], what
        assert answer.headers[PROTOCOL_HEADER] == str(PROTOCOL_VERSION), what
    assert answers["too large"].status_code == 413
