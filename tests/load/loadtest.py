"""Drives a release polyauth with wrk and prints: scenario, requests/s, p50, p99, errors, peak RSS,
then each figure against its target. With --peer, better-auth (installed by tests/load/run into
target/peer) runs the who-am-I and correct-password scenarios after polyauth, on the same
machine, and each figure is printed beside polyauth's with the ratio.

Run through tests/load/run. Standard library only. 50 connections, load generator on the same
machine; every scenario on the same fresh server.
"""
import json, os, re, shutil, socket, subprocess, sys, tempfile, time, urllib.request

ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
PEER = "--peer" in sys.argv
BIN, SECONDS = ARGS[0], int(ARGS[1])
CONNECTIONS = 50
# wrk threads of the refresh scenario, as of every other: each deals out its share of the chains.
REFRESH_THREADS = 2
HERE = os.path.dirname(os.path.abspath(__file__))
PEER_DIR = os.path.join(os.path.dirname(os.path.dirname(HERE)), "target", "peer")


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def call(base, method, path, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method, headers={"content-type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.headers, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, json.loads(e.read() or b"null")


def rss_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reset_peak(pid):
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def wrk(base, path, script=None, headers=(), threads=2):
    cmd = ["wrk", "-t", str(threads), "-c", str(CONNECTIONS), "-d", f"{SECONDS}s", "--latency", "--timeout", "10s"]
    for h in headers:
        cmd += ["-H", h]
    if script:
        cmd += ["-s", os.path.join(HERE, script)]
    out = subprocess.run(cmd + [base + path], capture_output=True, text=True, check=True).stdout
    def ms(label):
        m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    non2xx = int(m.group(1)) if m else 0
    m = re.search(r"unexpected=(\d+)", out)
    unexpected = int(m.group(1)) if m else None
    return rps, ms("50%"), ms("99%"), errors, non2xx, unexpected, out


def first_answer(cmd, env, port, path):
    """Starts `cmd`; answers the process and the ms to its first 200 on `path`."""
    t0 = time.perf_counter()
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.05) as s:
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                if s.recv(12).startswith(b"HTTP/1.1 200"):
                    break
        except OSError:
            time.sleep(0.0005)
        if server.poll() is not None:
            sys.exit(f"{cmd[0]} exited before answering")
    return server, (time.perf_counter() - t0) * 1000


def median_start(launch):
    """The median of five starts, each on a fresh store."""
    starts = []
    for _ in range(5):
        d = tempfile.mkdtemp(prefix="polyauth-start-")
        server, ms = launch(d, free_port())
        starts.append(ms)
        server.terminate(); server.wait()
        shutil.rmtree(d, ignore_errors=True)
    return sorted(starts)[2]


def start_peer(data, port):
    env = {"PATH": os.environ.get("PATH", ""), "NODE_ENV": "production"}
    return first_answer(["node", os.path.join(PEER_DIR, "server.mjs"), str(port), os.path.join(data, "peer.sqlite")],
                        env, port, "/api/auth/ok")


def measure(server, base, scenarios):
    rows = []
    for name, path, script, hdrs, threads, expect_2xx in scenarios:
        reset_peak(server.pid)
        rps, p50, p99, errors, non2xx, unexpected, out = wrk(base, path, script, hdrs, threads)
        bad = unexpected if unexpected is not None else (non2xx if expect_2xx else 0)
        rows.append((name, rps, p50, p99, errors + bad, rss_kib(server.pid, "VmHWM") / 1024))
    return rows


def run_peer():
    """better-auth on SQLite: who-am-I (get-session with the session cookie) and email sign-in."""
    startup_ms = median_start(start_peer)
    data = tempfile.mkdtemp(prefix="polyauth-peer-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    origin = {"origin": base}
    server, _ = start_peer(data, port)
    try:
        for i in range(CONNECTIONS):
            st, _, body = call(base, "POST", "/api/auth/sign-up/email",
                               {"email": f"peer{i}@example.com", "password": "tulip-river-93", "name": f"peer{i}"}, origin)
            assert st == 200, (st, body)
        st, headers, body = call(base, "POST", "/api/auth/sign-in/email", {"email": "peer0@example.com", "password": "tulip-river-93"}, origin)
        assert st == 200, (st, body)
        cookie = "; ".join(c.split(";", 1)[0] for c in headers.get_all("set-cookie"))
        os.environ["POLYAUTH_LOAD_LOGIN"] = '{"email":"peer%d@example.com","password":"tulip-river-93"}'
        time.sleep(0.5)
        idle_rss = rss_kib(server.pid, "VmRSS") / 1024
        rows = measure(server, base, [
            ("who-am-I (GET /api/auth/get-session)", "/api/auth/get-session", None, [f"Cookie: {cookie}"], 2, True),
            ("password login, right (POST /api/auth/sign-in/email)", "/api/auth/sign-in/email", "login_right.lua", [f"Origin: {base}"], 2, True),
        ])
    finally:
        server.terminate(); server.wait()
        shutil.rmtree(data, ignore_errors=True)
    return startup_ms, idle_rss, rows


def start(data, port):
    """Starts the server on a fresh store; answers the process and the ms to its first answer."""
    env = {"PATH": os.environ.get("PATH", ""), "POLYAUTH_DATA_DIR": data, "POLYAUTH_ADDR": f"127.0.0.1:{port}", "RUST_LOG": "error",
           # One machine is one address: the per-address limits would measure their own 429s.
           "POLYAUTH_LIMIT_ATTEMPTS": "100000000/60", "POLYAUTH_LIMIT_SENDS": "100000000/60",
           "POLYAUTH_LIMIT_REGISTRATIONS": "100000000/60", "POLYAUTH_LIMIT_CAPTCHAS": "100000000/60",
           "POLYAUTH_SMS_DAILY_BUDGET": "1000000000", "POLYAUTH_EMAIL_DAILY_BUDGET": "1000000000",
           "POLYAUTH_HASH_QUEUE_PER_CORE": "100000"}
    server, ms = first_answer([BIN], env, port, "/health")
    return server, env, ms


def main():
    startup_ms = median_start(lambda d, p: start(d, p)[::2])
    data = tempfile.mkdtemp(prefix="polyauth-load-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server, env, _ = start(data, port)
    time.sleep(0.5)
    idle_rss = rss_kib(server.pid, "VmRSS") / 1024
    try:
        # Seed: one user per connection, each with its own session for the refresh chains.
        call(base, "POST", "/auth/create", {"username": "loaduser", "password": "tulip-river-93", "email": "load@example.com"})
        # The login scenario spreads over as many accounts as connections: an account's attempts
        # are reserved before the password is checked, so more than ten logins in flight on one
        # account would be its lockout, not a login rate.
        for i in range(CONNECTIONS):
            call(base, "POST", "/auth/create", {"username": f"loaduser{i}", "password": "tulip-river-93", "email": f"load{i}@example.com"})
        # Seed 004's who-am-I takes a token of its own sessions (a 001 token is refused there).
        form = urllib.request.Request(base + "/auth/login", data=b"username=loaduser&password=tulip-river-93", method="POST",
                                      headers={"content-type": "application/x-www-form-urlencoded"})
        with urllib.request.urlopen(form) as r:
            token = json.loads(r.read())["data"]["token"]
        # A chain per connection, and one more per wrk thread: wrk calls the first thread's
        # request() once before it starts, to check the script, which takes a chain from its pool.
        refresh = []
        for i in range(CONNECTIONS + REFRESH_THREADS):
            _, _, b = call(base, "POST", "/api/v1/auth/login", {"email": "load@example.com", "password": "tulip-river-93"})
            refresh.append(b["data"]["refreshToken"])
        with open(os.path.join(data, "refresh_tokens.txt"), "w") as f:
            f.write("\n".join(refresh))
        os.environ["POLYAUTH_LOAD_TOKENS"] = os.path.join(data, "refresh_tokens.txt")
        os.environ["POLYAUTH_LOAD_THREADS"] = str(REFRESH_THREADS)

        # The raw rate is measured right before and right after the login scenarios and
        # averaged: this shared machine's speed drifts within a run, and a rate taken minutes
        # away from the logins compared them with another machine.
        def raw_hash_rate():
            return float(subprocess.run([BIN, "hash-rate", "--seconds", str(min(SECONDS, 5))], env={**env, "POLYAUTH_STORE": "memory"},
                                        capture_output=True, text=True, check=True).stdout.split()[0])
        before_login = [
            ("health (GET /health, the server's own ceiling)", "/health", None, [], 2, True),
            ("who-am-I (GET /auth/)", "/auth/", None, [f"Authorization: Bearer {token}"], 2, True),
        ]
        logins = [
            ("password login, right (POST /auth/)", "/auth/", "login_right.lua", [], 2, True),
            ("password login, wrong (POST /auth/, 401 expected)", "/auth/", "login_wrong.lua", [], 2, False),
        ]
        after_login = [
            ("token refresh (updateToken)", "/api/v1/auth/updateToken", "refresh.lua", [], REFRESH_THREADS, True),
            ("send-code into outbox (/v1/auth/send-code)", "/v1/auth/send-code", "send_code.lua", [], 2, True),
            ("registration (POST /auth/create)", "/auth/create", "register.lua", [], 2, True),
        ]
        rows = measure(server, base, before_login)
        rates = [raw_hash_rate()]
        rows += measure(server, base, logins)
        rates.append(raw_hash_rate())
        hash_rate = sum(rates) / len(rates)
        rows += measure(server, base, after_login)
    finally:
        server.terminate(); server.wait()
        shutil.rmtree(data, ignore_errors=True)

    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
    print(f"machine: {os.cpu_count()} cores, {cpu}; {CONNECTIONS} connections, {SECONDS} s per scenario, wrk on the same machine")
    print(f"start to first answered request: {startup_ms:.1f} ms (median of 5); idle RSS: {idle_rss:.1f} MiB; raw argon2id verify rate: {hash_rate:.1f}/s "
          f"(mean of {rates[0]:.1f} before and {rates[1]:.1f} after the login scenarios)")
    print()
    print("| scenario | requests/s | p50 ms | p99 ms | errors | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, rps, p50, p99, errors, peak in rows:
        print(f"| {name} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {errors} | {peak:.1f} |")
    row = lambda prefix: next(r for r in rows if r[0].startswith(prefix))
    health, whoami, login, refresh = row("health"), row("who-am-I"), row("password login, right"), row("token refresh")
    print()
    print("| figure | measured | target | met |")
    print("|---|---:|---:|---|")
    for figure, value, target, met in [
        ("who-am-I / health", f"{100 * whoami[1] / health[1]:.0f} %", "≥ 70 %", whoami[1] >= 0.7 * health[1]),
        ("who-am-I p99", f"{whoami[3]:.2f} ms", "≤ 5 ms", whoami[3] <= 5),
        ("refresh", f"{refresh[1]:,.0f}/s", "≥ 10,000/s", refresh[1] >= 10000),
        ("password login / raw argon2id verify rate", f"{100 * login[1] / hash_rate:.0f} %", "≥ 90 %", login[1] >= 0.9 * hash_rate),
        ("peak RSS under login", f"{login[5]:.1f} MiB", "≤ 100 MiB", login[5] <= 100),
        ("start to first answer", f"{startup_ms:.1f} ms", "≤ 25 ms", startup_ms <= 25),
    ]:
        print(f"| {figure} | {value} | {target} | {'yes' if met else 'MISSED'} |")
    if PEER:
        peer_start, peer_idle, peer_rows = run_peer()
        print()
        print("peer: better-auth 1.7.25 on SQLite (better-sqlite3 12.9.0), Node.js "
              + subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
              + ", run after polyauth on the same machine with the same wrk settings")
        print()
        print("| figure | polyauth | better-auth | polyauth / better-auth |")
        print("|---|---:|---:|---:|")
        for (name, ours), theirs in zip([("who-am-I", whoami), ("password login, right", login)], peer_rows):
            print(f"| {name} requests/s | {ours[1]:,.0f} | {theirs[1]:,.0f} | {ours[1] / theirs[1]:.1f}x |")
            print(f"| {name} p99 ms | {ours[3]:.2f} | {theirs[3]:.2f} | {ours[3] / theirs[3]:.3f}x |")
            print(f"| {name} errors | {ours[4]} | {theirs[4]} | |")
            print(f"| peak RSS during {name}, MiB | {ours[5]:.1f} | {theirs[5]:.1f} | {ours[5] / theirs[5]:.2f}x |")
        print(f"| idle RSS, MiB | {idle_rss:.1f} | {peer_idle:.1f} | {idle_rss / peer_idle:.2f}x |")
        print(f"| start to first answer, ms | {startup_ms:.1f} | {peer_start:.1f} | {startup_ms / peer_start:.3f}x |")


if __name__ == "__main__":
    main()
