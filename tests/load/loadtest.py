"""Drives a release polyauth with wrk and prints: scenario, requests/s, p50, p99, errors, peak RSS.

Run through tests/load/run. Standard library only. 50 connections, load generator on the same
machine; every scenario on the same fresh server.
"""
import json, os, re, shutil, socket, subprocess, sys, tempfile, time, urllib.request

BIN, SECONDS = sys.argv[1], int(sys.argv[2])
CONNECTIONS = 50
HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def call(base, method, path, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method, headers={"content-type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, dict(r.headers), json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read() or b"null")


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


def start(data, port):
    """Starts the server on a fresh store; answers the process and the ms to its first answer."""
    env = {"PATH": os.environ.get("PATH", ""), "POLYAUTH_DATA_DIR": data, "POLYAUTH_ADDR": f"127.0.0.1:{port}", "RUST_LOG": "error",
           # One machine is one address: the per-address limits would measure their own 429s.
           "POLYAUTH_LIMIT_ATTEMPTS": "100000000/60", "POLYAUTH_LIMIT_SENDS": "100000000/60",
           "POLYAUTH_LIMIT_REGISTRATIONS": "100000000/60", "POLYAUTH_LIMIT_CAPTCHAS": "100000000/60",
           "POLYAUTH_SMS_DAILY_BUDGET": "1000000000", "POLYAUTH_EMAIL_DAILY_BUDGET": "1000000000",
           "POLYAUTH_HASH_QUEUE_PER_CORE": "100000"}
    t0 = time.perf_counter()
    server = subprocess.Popen([BIN], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.05) as s:
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(12).startswith(b"HTTP/1.1 200"):
                    break
        except OSError:
            time.sleep(0.0005)
    return server, env, (time.perf_counter() - t0) * 1000


def main():
    # Start-up: the median of five starts, each on a fresh store.
    starts = []
    for _ in range(5):
        d = tempfile.mkdtemp(prefix="polyauth-start-")
        server, _, ms = start(d, free_port())
        starts.append(ms)
        server.terminate(); server.wait()
        shutil.rmtree(d, ignore_errors=True)
    startup_ms = sorted(starts)[2]
    data = tempfile.mkdtemp(prefix="polyauth-load-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server, env, _ = start(data, port)
    time.sleep(0.5)
    idle_rss = rss_kib(server.pid, "VmRSS") / 1024
    rows = []
    try:
        # Seed: one user per connection, each with its own session for the refresh chains.
        call(base, "POST", "/auth/create", {"username": "loaduser", "password": "load-pass-1", "email": "load@example.com"})
        # The login scenario spreads over as many accounts as connections: an account's attempts
        # are reserved before the password is checked, so more than ten logins in flight on one
        # account would be its lockout, not a login rate.
        for i in range(CONNECTIONS):
            call(base, "POST", "/auth/create", {"username": f"loaduser{i}", "password": "load-pass-1", "email": f"load{i}@example.com"})
        st, _, body = call(base, "POST", "/auth/", {"username": "loaduser", "password": "load-pass-1"})
        token = body["access_token"]
        refresh = []
        for i in range(CONNECTIONS):
            _, _, b = call(base, "POST", "/api/v1/auth/login", {"email": "load@example.com", "password": "load-pass-1"})
            refresh.append(b["data"]["refreshToken"])
        with open(os.path.join(data, "refresh_tokens.txt"), "w") as f:
            f.write("\n".join(refresh))
        os.environ["POLYAUTH_LOAD_TOKENS"] = os.path.join(data, "refresh_tokens.txt")

        hash_rate = float(subprocess.run([BIN, "hash-rate", "--seconds", str(min(SECONDS, 5))], env={**env, "POLYAUTH_STORE": "memory"},
                                         capture_output=True, text=True, check=True).stdout.split()[0])
        scenarios = [
            ("who-am-I (GET /auth/)", "/auth/", None, [f"Authorization: {token}"], 2, True),
            ("password login, right (POST /auth/)", "/auth/", "login_right.lua", [], 2, True),
            ("password login, wrong (POST /auth/, 401 expected)", "/auth/", "login_wrong.lua", [], 2, False),
            ("token refresh (updateToken)", "/api/v1/auth/updateToken", "refresh.lua", [], CONNECTIONS, True),
            ("send-code into outbox (/v1/auth/send-code)", "/v1/auth/send-code", "send_code.lua", [], 2, True),
            ("registration (POST /auth/create)", "/auth/create", "register.lua", [], 2, True),
        ]
        for name, path, script, hdrs, threads, expect_2xx in scenarios:
            reset_peak(server.pid)
            rps, p50, p99, errors, non2xx, unexpected, out = wrk(base, path, script, hdrs, threads)
            bad = unexpected if unexpected is not None else (non2xx if expect_2xx else 0)
            rows.append((name, rps, p50, p99, errors + bad, rss_kib(server.pid, "VmHWM") / 1024))
    finally:
        server.terminate(); server.wait()
        shutil.rmtree(data, ignore_errors=True)

    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
    print(f"machine: {os.cpu_count()} cores, {cpu}; {CONNECTIONS} connections, {SECONDS} s per scenario, wrk on the same machine")
    print(f"start to first answered request: {startup_ms:.1f} ms (median of 5); idle RSS: {idle_rss:.1f} MiB; raw argon2id verify rate: {hash_rate:.1f}/s")
    print()
    print("| scenario | requests/s | p50 ms | p99 ms | errors | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, rps, p50, p99, errors, peak in rows:
        print(f"| {name} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {errors} | {peak:.1f} |")
    login = next(r for r in rows if r[0].startswith("password login, right"))
    print()
    print(f"password login / raw verify rate: {100 * login[1] / hash_rate:.0f}%")


if __name__ == "__main__":
    main()
