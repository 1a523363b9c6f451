"""The coordinator's side of live worker events (dana.distributed.live.Relay, docs/
distributed.md "Events"): whichever way a branch's events arrive — all live, none live,
some live, live from an attempt that was lost — each reaches the run once and in order,
and nothing of a branch arrives after its result."""

from __future__ import annotations

from dana.distributed.live import Relay

EVENTS = [{"event": "step_started", "n": 0}, {"event": "step_succeeded", "n": 1},
          {"event": "step_started", "n": 2}]


def _relay() -> tuple[Relay, str, list[dict]]:
    got: list[dict] = []
    relay = Relay()
    return relay, relay.expect(got.append), got


def test_events_sent_live_are_not_forwarded_again_from_the_result():
    relay, job, got = _relay()
    for seq, event in enumerate(EVENTS):
        relay.receive([job, "w1", seq, event])
    assert got == EVENTS
    relay.settle(job, "w1", EVENTS)
    assert got == EVENTS
    relay.close()


def test_the_result_delivers_what_did_not_arrive_live():
    relay, job, got = _relay()
    relay.receive([job, "w1", 0, EVENTS[0]])
    relay.receive([job, "w1", 2, EVENTS[2]])  # after a gap: left to the result
    relay.settle(job, "w1", EVENTS)
    assert got == EVENTS
    relay.close()


def test_a_lost_attempt_s_events_stay_and_the_finishing_attempt_sends_all_of_its_own():
    relay, job, got = _relay()
    relay.receive([job, "w1", 0, EVENTS[0]])       # the first worker died after this
    relay.receive([job, "w2", 0, EVENTS[0]])       # the rerun: not the worker taken live
    relay.settle(job, "w2", EVENTS)
    assert got == [EVENTS[0], *EVENTS]
    relay.close()


def test_nothing_of_a_branch_arrives_after_its_result_or_for_an_unknown_branch():
    relay, job, got = _relay()
    relay.settle(job, "w1", EVENTS[:1])
    relay.receive([job, "w1", 1, EVENTS[1]])
    relay.receive(["no such job", "w1", 0, EVENTS[0]])
    relay.receive("not a message")
    assert got == EVENTS[:1]
    relay.close()
