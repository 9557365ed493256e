"""Driving wrk (https://github.com/wg/wrk) with POST bodies, and reading its report.

wrk sends as fast as its connections allow (closed loop), so it measures the most a
server takes, with the latency at that load. The Lua script posts JSON bodies in turn
and counts the answers by status, so the caller knows exactly how many 202s the server
gave (wrk itself only reports "Non-2xx or 3xx responses").
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

_SCRIPT = """\
local bodies = {
%(bodies)s
}
local threads = {}
local n = 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  accepted = 0
  refused = 0
end

function request()
  n = n %% #bodies + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[n])
end

function response(status, headers, body)
  if status == 202 then accepted = accepted + 1 else refused = refused + 1 end
end

function done(summary, latency, requests)
  local a, r = 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("accepted")
    r = r + t:get("refused")
  end
  io.write(string.format("PREDICTQ-STATUS accepted=%%d refused=%%d\\n", a, r))
end
"""


def lua_script(bodies: list[str]) -> str:
    """A wrk script that POSTs `bodies` (JSON text) round-robin and counts 202s."""
    quoted = []
    for body in bodies:
        level = "=" * 4
        while f"]{level}]" in body:
            level += "="
        quoted.append(f"  [{level}[{body}]{level}],")
    return _SCRIPT % {"bodies": "\n".join(quoted)}


@dataclass(frozen=True)
class WrkResult:
    requests: int  # completed within the duration
    duration_s: float
    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    accepted: int  # 202 answers, counted by the script
    refused: int  # any other status

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors + self.refused


_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * _UNITS_MS[unit]


def parse(output: str) -> WrkResult:
    """Read the figures out of `wrk --latency` output (with the script's status line)."""
    def number(pattern: str, default: str | None = None) -> str:
        m = re.search(pattern, output, re.M)
        if m is None:
            if default is None:
                raise ValueError(f"wrk output has no match for {pattern!r}:\n{output}")
            return default
        return m.group(1)

    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                        r"timeout (\d+)", output)
    return WrkResult(
        requests=int(number(r"^\s*(\d+) requests in")),
        duration_s=_ms(number(r"requests in ([\d.]+(?:us|ms|s|m)),")) / 1000,
        requests_per_s=float(number(r"^Requests/sec:\s+([\d.]+)")),
        p50_ms=_ms(number(r"^\s+50%\s+(\S+)")),
        p90_ms=_ms(number(r"^\s+90%\s+(\S+)")),
        p99_ms=_ms(number(r"^\s+99%\s+(\S+)")),
        non_2xx=int(number(r"Non-2xx or 3xx responses: (\d+)", "0")),
        socket_errors=sum(int(g) for g in sockets.groups()) if sockets else 0,
        accepted=int(number(r"PREDICTQ-STATUS accepted=(\d+)")),
        refused=int(number(r"PREDICTQ-STATUS accepted=\d+ refused=(\d+)")),
    )


def require_wrk() -> str:
    """The wrk executable; exit with how to install it when it is missing."""
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("wrk is not installed; the intake benchmark needs it: "
                         "apt-get install wrk")
    return path


def run(url: str, bodies: list[str], *, connections: int, duration_s: int,
        threads: int, workdir: Path, timeout_s: int = 10) -> tuple[WrkResult, str]:
    """POST `bodies` round-robin to `url`; return the parsed result and wrk's output."""
    script = workdir / f"wrk-{abs(hash(url)) % 10_000}-{connections}.lua"
    script.write_text(lua_script(bodies), encoding="utf-8")
    cmd = [require_wrk(), f"-t{threads}", f"-c{connections}", f"-d{duration_s}s",
           f"--timeout={timeout_s}s", "--latency", "-s", str(script), url]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=duration_s + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse(done.stdout), done.stdout
