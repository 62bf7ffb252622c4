"""Where an order is on its way, from its stored item."""

from orders_lib.ops.orders import Journey


def test_stages_reached_with_their_times():
    new = Journey.of("o", {"status": "NEW", "createdAt": "2026-11-27T09:00:00.100Z"})
    assert new.steps() == [("NEW", "2026-11-27T09:00:00.100Z")] and not new.final
    done = Journey.of(
        "o",
        {
            "status": "PROCESSED",
            "createdAt": "2026-11-27T09:00:00.100Z",
            "processedAt": "2026-11-27T09:00:00.140Z",
            "notifiedAt": "2026-11-27T09:00:00.150Z",
        },
    )
    assert done.final and done.summary() == "NEW 09:00:00.100 → PROCESSED 09:00:00.140 → notified 09:00:00.150"


def test_a_vanished_order_is_final():
    gone = Journey.of("o", None)
    assert gone.final and gone.summary() == "not in the table"
