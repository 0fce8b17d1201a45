"""Load and soak through a real Envoy 1.40 (V8, --concurrency 2) running the jwtgate filter.

One listener, the filter with inline keys (the committed test key tests/vectors/keys/main.pem),
a `direct_response` 200 as the backend, wrk on loopback cycling through a pre-generated file of
valid, expired, forged and malformed tokens (tests/soak/soak.lua). Bounded by a request count
and by time. Checks, each printed as pass/fail:

- the request budget was reached (1,000,000 by default; 20,000 with --quick);
- zero 5xx (wrk's tally and Envoy's downstream_rq_5xx) and zero transport errors;
- zero wasm VM traps: no VM created or reloaded during the run (`wasm.envoy.wasm.runtime.v8.created`,
  `wasm.<plugin>.vm_reload*`) and no trap/panic line in Envoy's log. Checked against a deliberately
  panicking proxy-wasm module: under the default fail-closed policy Envoy 1.40 changes no counter
  in /stats for a trap; it logs "Function: proxy_on_request_headers failed: Uncaught RuntimeError:
  unreachable" (and the Rust SDK's "panicked at"), and answers 503 from then on, so the log lines
  and the 5xx check are what catch one;
- verdicts: every distinct token checked once before the load (each class maps to exactly one
  status and code), then under load each class's replies match what it was sent;
- Envoy's RSS flat after warm-up (sampled from /proc/<pid>/status).

Usage: soak.py [--quick] [--requests N] [--seconds S] [--connections C] [--threads T]
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "envoy" / "e2e"))

from envoyrun import Envoy, bearer, direct, free_port, listener, request, wasm_filter  # noqa: E402
from idp import Key, b64url  # noqa: E402

ISSUER = "https://issuer.soak.test"
AUDIENCE = "jwtgate-soak"
KEYS = ROOT / "tests" / "vectors" / "keys"
# The verdict each class must get, as (status, code); "ok" is the backend's 200.
EXPECTED = {
    "valid": (200, "ok"),
    "expired": (401, "expired"),
    "forged": (401, "bad_signature"),
    "malformed": (401, "malformed"),
}
# Share of each class in the token cycle (out of 20).
MIX = {"valid": 10, "expired": 4, "forged": 3, "malformed": 3}


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def make_tokens(distinct: int, rnd: random.Random) -> dict:
    main = Key.from_pem("main", (KEYS / "main.pem").read_bytes())
    attacker = Key.from_pem("main", (KEYS / "attacker.pem").read_bytes())  # claims main's kid
    now = int(time.time())
    per = {c: max(1, distinct * w // sum(MIX.values())) for c, w in MIX.items()}

    def claims(i, exp):
        issued = min(now, exp - 600) - 60
        return {"iss": ISSUER, "aud": AUDIENCE, "sub": f"system:serviceaccount:soak:sa-{i}",
                "iat": issued, "nbf": issued, "exp": exp, "jti": f"{i}-{rnd.randrange(1 << 40)}"}

    out = {
        "valid": [main.sign(claims(i, now + 7200)) for i in range(per["valid"])],
        "expired": [main.sign(claims(i, now - 3600)) for i in range(per["expired"])],
        "forged": [attacker.sign(claims(i, now + 7200)) for i in range(per["forged"])],
    }
    good = out["valid"][0].split(".")
    hdr = lambda d: b64url(json.dumps(d).encode())  # noqa: E731
    shapes = [
        lambda r: "".join(rnd.choice("abcdefghijklmnop") for _ in range(20 + r)),  # one segment
        lambda r: f"{good[0]}.{good[1]}x{r}",  # two segments
        lambda r: f"{good[0]}.{good[1]}.{good[2]}.x{r}",  # four segments
        lambda r: f"{b64url(b'not json at all ' + str(r).encode())}.{good[1]}.{good[2]}",  # header not JSON
        lambda r: f"{hdr({'alg': 'RS256', 'kid': 'main'})[:-1]}{r}.{good[1]}.{good[2]}",  # header damaged
        lambda r: f"{good[0]}.{good[1]}.{good[2][:40]}+/+{r}{good[2][44:]}",  # not base64url
    ]
    out["malformed"] = [shapes[i % len(shapes)](i) for i in range(per["malformed"])]
    return out


def cycle(tokens: dict, rnd: random.Random) -> list:
    """The order wrk sends them in: blocks of 20 with the MIX, shuffled, over all tokens."""
    idx = {c: 0 for c in tokens}
    total = sum(len(v) for v in tokens.values())
    lines = []
    while len(lines) < total:
        block = [c for c, w in MIX.items() for _ in range(w)]
        rnd.shuffle(block)
        for c in block:
            lines.append((c, tokens[c][idx[c] % len(tokens[c])]))
            idx[c] += 1
    return lines


def code_of(status: int, body: str) -> str:
    if status == 200:
        return "ok"
    try:
        return json.loads(body).get("error", "?")
    except ValueError:
        return "?"


def stats(envoy: Envoy) -> dict:
    _, text = envoy.admin("/stats")
    out = {}
    for line in text.splitlines():
        k, _, v = line.partition(": ")
        if v.strip().lstrip("-").isdigit():
            out[k.strip()] = int(v)
    return out


# What Envoy (V8) and the Rust SDK log when a VM traps: "Function: proxy_on_... failed: Uncaught
# RuntimeError: unreachable", and the SDK's "panicked at" just before the abort.
TRAP_LOG = re.compile(r"panicked at|RuntimeError|Uncaught|Function: \S+ failed|wasm.*(trap|crash)", re.I)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="20,000 requests, at most 30 s")
    ap.add_argument("--requests", type=int)
    ap.add_argument("--seconds", type=int)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--distinct", type=int, default=1000, help="distinct tokens in the cycle")
    ap.add_argument("--rss-growth-mb", type=float, default=48.0,
                    help="largest RSS growth allowed after warm-up")
    a = ap.parse_args()
    requests = a.requests or (20_000 if a.quick else 1_000_000)
    seconds = a.seconds or (20 if a.quick else 540)
    sample_every = 0.5 if a.quick else 3.0

    wrk = shutil.which("wrk")
    if not wrk:
        print("wrk is missing (tests/soak/soak.sh installs it)")
        return 2
    rnd = random.Random(20261122)
    work = Path(tempfile.mkdtemp(prefix="jwtgate-soak-"))
    t_gen = time.time()
    tokens = make_tokens(a.distinct, rnd)
    token_file = work / "tokens.txt"
    token_file.write_text("".join(f"{c} {t}\n" for c, t in cycle(tokens, rnd)))
    print(f"tokens: {', '.join(f'{len(v)} {c}' for c, v in tokens.items())} "
          f"({time.time() - t_gen:.1f}s to sign)")

    main_key = Key.from_pem("main", (KEYS / "main.pem").read_bytes())
    plugin = {"providers": {"soak": {"issuer": ISSUER, "audiences": [AUDIENCE],
                                     "local_jwks": {"inline_string": json.dumps({"keys": [main_key.jwk()]})}}},
              "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "soak"}}]}
    port = free_port()
    envoy = Envoy([listener("soak", port, [wasm_filter(plugin)], [direct("/", 200, "ok")])], [], concurrency=2)
    results = []  # (name, passed, detail)
    wrk_proc = None
    try:
        envoy.start()
        pid = envoy.proc.pid

        # 1. Every distinct token once: each class maps to exactly one (status, code).
        seen = {c: {} for c in tokens}
        for c, ts in tokens.items():
            for t in ts:
                st, _, body = request(port, "/", bearer(t))
                k = (st, code_of(st, body))
                seen[c][k] = seen[c].get(k, 0) + 1
        ok = all(list(seen[c]) == [EXPECTED[c]] for c in tokens)
        results.append(("verdicts, every distinct token", ok,
                        "; ".join(f"{c}: {', '.join(f'{s}:{k} x{n}' for (s, k), n in v.items())}" for c, v in seen.items())))

        before = stats(envoy)
        rss_start = rss_kb(pid)
        samples = []  # (t, kB)
        stop = threading.Event()

        def sample():
            t0 = time.time()
            while not stop.is_set():
                samples.append((time.time() - t0, rss_kb(pid)))
                stop.wait(sample_every)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()

        # 2. The load: count-bounded in the script, time-bounded by wrk -d and by timeout.
        result_file = work / "wrk.json"
        per_thread = -(-requests // a.threads)
        cmd = [wrk, f"-t{a.threads}", f"-c{a.connections}", f"-d{seconds}s", "--timeout", "5s",
               "-s", str(Path(__file__).with_name("soak.lua")), f"http://127.0.0.1:{port}/",
               "--", str(token_file), str(per_thread)]
        print(f"load: {' '.join(cmd[1:6])} ... until {requests:,} requests or {seconds}s")
        t0 = time.time()
        wrk_proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                    env=dict(os.environ, SOAK_RESULT=str(result_file)))
        markers = [Path(f"{result_file}.done.{i}") for i in range(1, a.threads + 1)]
        interrupted = False
        while wrk_proc.poll() is None and time.time() - t0 < seconds + 30:
            if not interrupted and all(m.exists() for m in markers):
                wrk_proc.send_signal(signal.SIGINT)  # wrk then stops and reports at once
                interrupted = True
            time.sleep(0.1)
        if wrk_proc.poll() is None:
            wrk_proc.kill()
        wrk_out, _ = wrk_proc.communicate()
        wall = time.time() - t0
        time.sleep(1.2)  # the filter flushes its counters on a 1 s tick
        stop.set()
        sampler.join(5)
        samples.append((wall, rss_kb(pid)))
        after = stats(envoy)
        alive = envoy.proc.poll() is None

        # A sample of every class again after the load: still the same verdicts.
        wrong = []
        if alive:
            for c, ts in tokens.items():
                for t in ts[::5]:
                    st, _, body = request(port, "/", bearer(t))
                    if (st, code_of(st, body)) != EXPECTED[c]:
                        wrong.append(f"{c}: {st} {code_of(st, body)}")
        results.append(("verdicts after the load (every 5th token)", alive and not wrong,
                        f"{len(wrong)} wrong" + (f", e.g. {wrong[0]}" if wrong else "")))
        try:
            w = json.loads(result_file.read_text())
        except (OSError, ValueError):
            print(wrk_out)
            results.append(("wrk produced a result", False, wrk_out[-500:]))
            raise SystemExit(report(results))

        n = w["requests"]
        dur = w["duration_us"] / 1e6
        rps = n / dur if dur else 0
        got = w["got"]
        sent = w["sent"]
        fivexx_wrk = sum(v for k, v in got.items() if k.split(":")[0].startswith("5"))
        delta = {k: after.get(k, 0) - before.get(k, 0) for k in set(after) | set(before)}
        fivexx_envoy = delta.get("http.soak.downstream_rq_5xx", 0)
        transport = {k: v for k, v in w["errors"].items() if k != "status" and v}

        results.append((f"at least {requests:,} requests", n >= requests, f"{n:,} in {dur:.1f}s"))
        results.append(("zero 5xx", fivexx_wrk == 0 and fivexx_envoy == 0,
                         f"wrk {fivexx_wrk}, envoy downstream_rq_5xx {fivexx_envoy}"))
        results.append(("zero transport errors", not transport, json.dumps(w["errors"])))

        trap_stats = {k: v for k, v in delta.items()
                      if v and (k == "wasm.envoy.wasm.runtime.v8.created" or ".vm_reload" in k)}
        trap_lines = [ln for ln in envoy.log().splitlines() if TRAP_LOG.search(ln)]
        traps = sum(trap_stats.values()) + len(trap_lines)
        results.append(("zero wasm VM traps", traps == 0 and alive,
                        f"stats {trap_stats or 'unchanged'}, log lines {len(trap_lines)}"
                        + (f": {trap_lines[0][:200]}" if trap_lines else "")
                        + ("" if alive else ", ENVOY EXITED")))

        # Under load: no reply outside the expected set; each class's count matches what it
        # was sent, up to the requests still in flight when wrk stopped (<= connections).
        want_keys = {f"{s}:{k}": c for c, (s, k) in EXPECTED.items()}
        unexpected = {k: v for k, v in got.items() if k not in want_keys}
        drift = {c: got.get(f"{s}:{k}", 0) - sent.get(c, 0) for c, (s, k) in EXPECTED.items()}
        ok = not unexpected and all(-a.connections <= d <= 0 for d in drift.values())
        results.append(("verdicts under load, per class", ok,
                        f"unexpected {unexpected or 'none'}, replies minus sent {drift}"))

        # RSS: warm-up is the first fifth of the run (at least one sample).
        kb = [s[1] for s in samples if s[1]]
        warm_i = max(1, len(kb) // 5)
        warm = kb[warm_i - 1] if kb else 0
        peak_after = max(kb[warm_i - 1:]) if kb else 0
        end = kb[-1] if kb else 0
        growth = max(end, peak_after) - warm
        results.append(("Envoy RSS flat after warm-up", bool(kb) and growth <= a.rss_growth_mb * 1024,
                        f"start {rss_start / 1024:.1f} MB, warm {warm / 1024:.1f} MB, peak after warm "
                        f"{peak_after / 1024:.1f} MB, end {end / 1024:.1f} MB (growth {growth / 1024:+.1f} MB, "
                        f"bound {a.rss_growth_mb:.0f} MB, {len(kb)} samples)"))

        # The summary table.
        print()
        print(f"{'requests':<22}{n:>14,}")
        print(f"{'duration':<22}{dur:>13.1f}s")
        print(f"{'req/s':<22}{rps:>14,.0f}")
        print(f"{'latency p50/p99/max':<22}{w['latency_us']['p50'] / 1000:>8.2f} / {w['latency_us']['p99'] / 1000:.2f}"
              f" / {w['latency_us']['max'] / 1000:.2f} ms")
        print(f"{'class':<12}{'sent':>12}  replies")
        for c, (s, k) in EXPECTED.items():
            print(f"{c:<12}{sent.get(c, 0):>12,}  {s} {k}: {got.get(f'{s}:{k}', 0):,}")
        if unexpected:
            print(f"{'unexpected':<12}{'':>12}  {unexpected}")
        print(f"{'5xx':<22}{fivexx_wrk + fivexx_envoy:>14}")
        print(f"{'wasm traps':<22}{traps:>14}")
        print(f"{'filter counters':<22}{'':>2}" + ", ".join(
            f"{k.replace('wasmcustom.jwtgate.', '')} {v:,}" for k, v in sorted(delta.items())
            if k.startswith("wasmcustom.") and v))
        print(f"{'Envoy RSS (MB)':<22}start {rss_start / 1024:.1f}, warm {warm / 1024:.1f}, "
              f"end {end / 1024:.1f}, peak after warm {peak_after / 1024:.1f}")
        print()
    finally:
        if wrk_proc and wrk_proc.poll() is None:
            wrk_proc.kill()
            wrk_proc.wait(5)
        envoy.stop()
        shutil.rmtree(envoy.dir, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    return report(results)


def report(results) -> int:
    for name, ok, detail in results:
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}")
    passed = sum(1 for _, ok, _ in results if ok)
    failed = len(results) - passed
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    # `timeout` sends SIGTERM: turn it into an exit so the finally blocks stop wrk and Envoy.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
