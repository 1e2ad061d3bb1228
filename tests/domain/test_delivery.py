"""The delivery contract: socket open → ws, else tokens → fcm, else none."""

from __future__ import annotations

import pytest

from halo_sim.domain.delivery import Channel, RecipientReach, choose_channel


@pytest.mark.parametrize(
    ("socket_open", "tokens", "expected"),
    [
        (True, ("t1", "t2"), Channel.WS),
        (True, (), Channel.WS),
        (False, ("t1",), Channel.FCM),
        (False, ("t1", "t2"), Channel.FCM),
        (False, (), Channel.NONE),
    ],
    ids=[
        "socket-with-tokens",
        "socket-without-tokens",
        "no-socket-one-token",
        "no-socket-two-tokens",
        "no-socket-no-tokens",
    ],
)
def test_choose_channel(socket_open: bool, tokens: tuple[str, ...], expected: Channel) -> None:
    assert choose_channel(RecipientReach(socket_open, tokens)) is expected


def test_channel_values_are_the_delivered_via_strings() -> None:
    assert [c.value for c in Channel] == ["ws", "fcm", "none"]
