"""App lifecycle of an actor: ``foreground``, ``background``, ``resume``.

The Halo apps close their socket on pause and reopen it on resume; the backend
treats "socket open" as "in the foreground".  ``background`` therefore closes
the socket and, where the target can tell, waits until the server has seen the
close, so the next step never races the disconnect.
"""

from __future__ import annotations

import asyncio

from halo_sim.scenario.actor import Actor
from halo_sim.scenario.context import RunContext
from halo_sim.scenario.polling import poll
from halo_sim.scenario.steps import Args, StepOutcome, step
from simkit.errors import StepFailed

DISCONNECT_WAIT_S = 2.0
CLOSE_GRACE_S = 0.1


async def _open(ctx: RunContext, actor: Actor) -> StepOutcome:
    if actor.ws is not None:
        return StepOutcome({"already": True}, "socket already open")
    if actor.token is None:
        raise StepFailed(f"{actor.name} cannot open its socket before logging in")
    hello = await actor.open_socket(f"{ctx.target.ws_url}/ws?token={actor.token}")
    ctx.transcript.add("ws_open", actor=actor.name, hello=hello)
    return StepOutcome({"frame": hello}, "socket open")


@step("actor", "foreground")
async def foreground(ctx: RunContext, actor: Actor | None, args: Args) -> StepOutcome:
    """The app is on screen: its socket is open.

    Result: `{frame}` — the server's `connected` hello (`{already: true}` when it was open).
    """
    assert actor is not None
    return await _open(ctx, actor)


@step("actor", "resume")
async def resume(ctx: RunContext, actor: Actor | None, args: Args) -> StepOutcome:
    """The app comes back: the socket reopens (fetching missed messages is a separate step).

    Result: `{frame}` — the server's `connected` hello (`{already: true}` when it was open).
    """
    assert actor is not None
    return await _open(ctx, actor)


@step("actor", "background")
async def background(ctx: RunContext, actor: Actor | None, args: Args) -> StepOutcome:
    """The app is paused: its socket closes, and the server has noticed before we go on.

    Result: `{foreground: false}`.
    """
    assert actor is not None
    await actor.close_socket()
    ctx.transcript.add("ws_close", actor=actor.name)
    if ctx.target.has("state_dump"):
        await _wait_server_sees_close(ctx, actor)
    else:  # nothing to ask: give the server a moment to process the close frame
        await asyncio.sleep(CLOSE_GRACE_S)
    return StepOutcome({"foreground": False}, "socket closed")


async def _wait_server_sees_close(ctx: RunContext, actor: Actor) -> None:
    key = f"{actor.role}:{actor.id}"
    gone, _ = await poll(
        lambda: ctx.call("test.connections", {}),
        lambda result: key not in result["body"].get("sockets", {}),
        DISCONNECT_WAIT_S,
        0.005,
    )
    if not gone:
        raise StepFailed(f"the server still lists a socket for {actor.name} {DISCONNECT_WAIT_S} s after it closed")
