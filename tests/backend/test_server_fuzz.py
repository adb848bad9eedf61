"""Random bytes, random JSON and random request shapes against one real backend process.

Properties: every non-blank line gets exactly one reply; a line whose id can be
read gets exactly one reply carrying that id; nothing else carries one of our
ids; the server answers a ping after every batch and still stops when stdin
closes.
"""

from __future__ import annotations

import itertools
import json
import queue
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from backend.jobs import JOB_MODULES
from tests.backend.backend_proc import BackendProcess

# commands that only read (or refuse); anything else the server knows is renamed
SAFE = ["ping", "jobs.list", "job.cancel", "job.pause", "job.resume", "job.start"]
NASTY_TEXT = ["\ud800", "a\udfffb", "\udcff.wav", "", "\x00", "声 – Ω", "\\", '"']


@dataclass(frozen=True)
class Probe:
    """One line to send, built around a fresh id at send time."""

    kind: str  # "bytes": no id; "request": the id is readable; "broken": maybe readable
    value: Any
    id_form: str = "str"  # "str", "int" or a bad JSON value for the id
    cut: int = 0  # "broken": characters removed from the end of the line


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63),
                      st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8),
                      st.sampled_from(NASTY_TEXT))
json_value = st.recursive(json_leaf, lambda kids: st.one_of(
    st.lists(kids, max_size=4), st.dictionaries(st.text(max_size=6), kids, max_size=4)),
    max_leaves=12)
cmd_value = st.one_of(st.sampled_from(SAFE), st.text(max_size=10), json_leaf)
bad_id = st.sampled_from([1.5, True, None, [1], {"a": 1}, "missing"])

probes = st.one_of(
    st.builds(Probe, st.just("bytes"), st.binary(max_size=60)),
    st.builds(Probe, st.just("request"),
              st.fixed_dictionaries({"cmd": cmd_value},
                                    optional={"args": json_value, "type": st.one_of(
                                        st.just("request"), st.text(max_size=6), json_leaf)}),
              st.sampled_from(["str", "int"])),
    st.builds(Probe, st.just("request"), st.dictionaries(st.text(max_size=6), json_value,
                                                         max_size=4),
              st.sampled_from(["str", "int"])),
    st.builds(Probe, st.just("bytes"), json_value.map(lambda v: json.dumps(v).encode())),
    st.builds(Probe, st.just("bytes"), st.fixed_dictionaries(
        {"cmd": st.sampled_from(SAFE)}, optional={"args": json_value}), bad_id),
    st.builds(Probe, st.just("broken"), st.fixed_dictionaries(
        {"cmd": st.sampled_from(SAFE), "args": json_value}), st.just("str"),
        st.integers(1, 40)),
    st.builds(Probe, st.just("broken"), st.sampled_from(["deep", "surrogate", "latin-1"]),
              st.just("str"), st.just(0)),
)


class Session:
    """The one backend and the bookkeeping of the ids sent to it."""

    def __init__(self, backend: BackendProcess, known_commands: set[str]):
        self.backend = backend
        self.known = known_commands
        self.numbers = itertools.count(1)
        self.ours: set[str] = set()

    def fresh_id(self, form: str) -> tuple[Any, str]:
        n = next(self.numbers)
        rid: Any = f"fz-{n}" if form == "str" else 7_000_000_000 + n
        self.ours.add(str(rid))
        return rid, str(rid)

    def safe(self, obj: Any) -> Any:
        """Never shutdown, never a job or command that writes: rename what the server knows."""
        if isinstance(obj, dict):
            cmd = obj.get("cmd")
            if isinstance(cmd, str) and cmd in self.known and cmd not in SAFE:
                obj["cmd"] = "fz." + cmd
            args = obj.get("args")
            if isinstance(args, dict) and args.get("kind") in JOB_MODULES:
                args["kind"] = "fz." + args["kind"]
            obj.pop("id", None)
        return obj

    def line(self, probe: Probe) -> tuple[bytes, str | None, bool]:
        """The bytes to send, the id a reply must carry, and whether that is certain."""
        if probe.kind == "bytes":
            value = probe.value
            if isinstance(value, dict):  # a request whose id is of a bad type (or missing)
                obj = {**self.safe(dict(value))}
                if probe.id_form != "missing":
                    obj["id"] = probe.id_form
                value = json.dumps(obj).encode()
            return value, None, False
        rid, sid = self.fresh_id(probe.id_form)
        if probe.kind == "request":
            obj = self.safe(json.loads(json.dumps(probe.value)))
            if not isinstance(obj, dict):
                obj = {"cmd": "ping", "args": obj}
            return json.dumps({"id": rid, **obj}).encode(), sid, True
        if probe.value == "deep":
            return (f'{{"id": "{sid}", "cmd": "ping", "args": ' + "[" * 50_000 + "]" * 50_000
                    + "}").encode(), sid, True
        if probe.value == "surrogate":
            return f'{{"id": "{sid}", "cmd": "ping", "args": {{"echo": "\\ud800"}}}}'.encode(), \
                sid, True
        if probe.value == "latin-1":
            return f'{{"id": "{sid}", "cmd": "ping", "args": "é"}}'.encode("latin-1"), sid, True
        text = json.dumps({"id": sid, **self.safe(dict(probe.value))})
        return text[:max(1, len(text) - probe.cut)].encode(), sid, False


def _collect(backend: BackendProcess, count: int, ping: str) -> list[dict[str, Any]]:
    """Replies until ``count`` arrived, the ping's among them."""
    got: list[dict[str, Any]] = []
    while len(got) < count or all(m.get("id") != ping for m in got):
        assert backend.proc.poll() is None, "the backend exited"
        try:
            msg = backend.lines.get(timeout=10)
        except queue.Empty:
            raise AssertionError(f"{len(got)} of {count} replies; got {got[-5:]}") from None
        if msg["type"] in ("result", "error"):
            got.append(msg)
    return got


def test_random_lines_never_stop_the_server(tmp_path: Path) -> None:
    backend = BackendProcess(env={"TIMBRE_DATA_DIR": str(tmp_path / "data")})
    try:
        assert backend.next()["type"] == "hello"
        known = set(backend.event("backend.ready")["data"]["commands"])
        session = Session(backend, known)
        _run_examples(session)
        assert backend.proc.stdin is not None
        backend.proc.stdin.close()  # the reader is alive: closing stdin stops the server
        assert backend.proc.wait(timeout=15) == 0
    finally:
        backend.close()
        if backend.proc.poll() is None:
            backend.proc.kill()


def _run_examples(session: Session) -> None:
    @settings(max_examples=120, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate],  # one shared process: no shrinking
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(probes, min_size=1, max_size=8))
    def batch(probe_list: list[Probe]) -> None:
        backend = session.backend
        sent: list[bytes] = []
        certain: dict[str, int] = {}  # id -> replies seen; exactly one each
        maybe: set[str] = set()  # broken lines: at most one reply with the id
        for probe in probe_list:
            data, rid, sure = session.line(probe)
            sent.extend(data.split(b"\n"))
            if rid is not None and sure:
                certain[rid] = 0
            elif rid is not None:
                maybe.add(rid)
        ping, _ = session.fresh_id("str")
        certain[ping] = 0
        payload = b"".join(line + b"\n" for line in sent)
        payload += json.dumps({"id": ping, "cmd": "ping"}).encode() + b"\n"
        expected = sum(1 for line in sent if line.strip()) + 1
        assert backend.proc.stdin is not None
        backend.proc.stdin.write(payload)
        backend.proc.stdin.flush()
        replies = _collect(backend, expected, ping)
        assert len(replies) == expected, (sent, replies)
        for reply in replies:
            rid = reply.get("id")
            if rid in certain:
                certain[rid] += 1
            elif rid is not None:
                assert rid in maybe, f"a reply with an id nobody sent: {rid!r} {sent}"
                maybe.remove(rid)
        assert all(n == 1 for n in certain.values()), (certain, sent, replies)

    batch()
