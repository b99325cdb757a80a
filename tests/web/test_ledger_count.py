"""The ledger's heading when more cases match than it counts (issue 6, point 5)."""

from __future__ import annotations

from mediation import ledger as ledger_module
from tests.web.test_ledger import ledger, links  # noqa: F401  (``ledger`` is a fixture)


def test_the_ledger_says_more_than_when_it_stops_counting(client, login, ledger, monkeypatch):  # noqa: F811
    monkeypatch.setattr(ledger_module, "COUNT_LIMIT", 2)
    filed = [ledger.file(f"申请人{i}", days_ago=i) for i in range(3)]
    login(ledger.officer)
    page = client.get("/ledger").get_data(as_text=True)
    assert "超过 2 件" in page and sorted(links(page)) == sorted(filed)
    page = client.get("/ledger?q=申请人1").get_data(as_text=True)
    assert "共 1 件" in page and "超过" not in page
    client.post("/locale", data={"locale": "en", "next": "/ledger"})
    assert "More than 2 cases" in client.get("/ledger").get_data(as_text=True)
