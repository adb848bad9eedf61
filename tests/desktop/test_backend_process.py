"""BackendProcess on its own (no BackendClient): a real process, reported through signals."""

from __future__ import annotations

import sys

from backend.protocol import Request
from desktop.backend_client import BackendClient
from desktop.backend_process import E_BACKEND_CRASHED, E_BACKEND_STOPPED, BackendProcess
from desktop.components.backend_logic import RestartPolicy

SAYS_AND_EXITS = ("import sys\n"
                  "print('line one ✓', flush=True)\n"
                  "sys.stderr.write('warming up\\n'); sys.stderr.flush()\n"
                  "sys.stdout.write('no newline at the end')\n"
                  "sys.exit(3)\n")
ECHOES = ("import sys\n"
          "for line in sys.stdin:\n"
          "    print('got ' + line.strip(), flush=True)\n")


def _record(process: BackendProcess) -> list[tuple]:
    seen: list[tuple] = []
    process.state_changed.connect(lambda s: seen.append(("state", s)))
    process.sig_line.connect(lambda line: seen.append(("line", line)))
    process.sig_launching.connect(lambda: seen.append(("launching",)))
    process.sig_stderr.connect(lambda line: seen.append(("stderr", line)))
    process.sig_requests_lost.connect(lambda c, _m, sent: seen.append(("lost", c, sent)))
    process.sig_jobs_lost.connect(lambda what: seen.append(("jobs_lost", what)))
    process.sig_crashed.connect(lambda _m, again: seen.append(("crashed", again)))
    return seen


def test_a_crash_is_reported_in_order_without_a_client(qtbot) -> None:
    process = BackendProcess(command=[sys.executable, "-c", SAYS_AND_EXITS],
                             restart_policy=RestartPolicy(max_restarts=0))
    seen = _record(process)
    process.start()
    qtbot.waitUntil(lambda: process.state == "crashed", timeout=5000)
    assert seen[:2] == [("state", "starting"), ("launching",)]
    assert ("line", "line one ✓") in seen and ("stderr", "warming up") in seen
    assert ("line", "no newline at the end") in seen  # flushed at exit
    end = seen[seen.index(("line", "no newline at the end")) + 1:]
    what = "exited unexpectedly with code 3"
    assert [e[0] for e in end] == ["lost", "jobs_lost", "state", "lost", "crashed"]
    assert end[0] == ("lost", E_BACKEND_CRASHED, True) and what in end[1][1]
    assert end[3] == ("lost", E_BACKEND_CRASHED, False) and end[4] == ("crashed", False)
    # "warming up" is no error: the banner points at the Log panel instead of quoting it
    assert process.last_crash_message.endswith("It logged no error; its last lines are in "
                                               "the Log panel.") and not process.running


def test_write_ready_and_stop(qtbot) -> None:
    process = BackendProcess(command=[sys.executable, "-c", ECHOES], stop_timeout_ms=3000)
    seen = _record(process)
    assert not process.write(Request(id="x0", cmd="ping"))  # nothing runs yet
    process.start()
    assert process.running and process.write(Request(id="x1", cmd="ping"))
    qtbot.waitUntil(lambda: any(e[0] == "line" for e in seen), timeout=5000)
    line = next(e[1] for e in seen if e[0] == "line")
    assert line.startswith("got ") and '"id":"x1"' in line
    process.set_ready()
    assert process.state == "ready"
    process.stop(Request(id="s1", cmd="shutdown"))  # stdin closes: the echo loop ends
    assert process.state == "stopped" and process.stopped_by_user
    assert ("lost", E_BACKEND_STOPPED, False) in seen and ("jobs_lost",) not in seen
    assert not any(e[0] == "crashed" for e in seen)


def test_the_client_owns_its_process() -> None:
    assert not issubclass(BackendClient, BackendProcess)
    client = BackendClient(command=[sys.executable, "-c", ECHOES])
    assert isinstance(client.process, BackendProcess) and client.process.parent() is client
    assert client.state == client.process.state == "stopped"
