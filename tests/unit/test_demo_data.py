from __future__ import annotations

from datetime import date

from cascadeflow_cloud.demo import generate_events


def test_demo_data_is_deterministic_and_varied() -> None:
    a = generate_events(date(2026, 11, 25), days=14)
    b = generate_events(date(2026, 11, 25), days=14)
    assert [e.model_dump() for e in a] == [e.model_dump() for e in b]
    assert {e.team for e in a} == {"search", "support-bot", "analytics", "platform"}
    assert len({e.customer_id for e in a}) == 5
    assert len({e.model for e in a}) == 6
    assert all(e.user_id and e.user_id.startswith("u_") for e in a)
    weekday = sum(1 for e in a if e.timestamp.date() == date(2026, 11, 25))  # a Wednesday
    weekend = sum(1 for e in a if e.timestamp.date() == date(2026, 11, 22))  # a Sunday
    assert weekend < weekday
