#!/usr/bin/env python3
"""Measures issue 13's memory and start-up bounds on the real headless binary.

    cargo build --release && python3 scripts/bounds.py [SECONDS] [SOURCES]

1. Flood: SOURCES (default 32) senders, each bound to its own 127.0.0.x, send 64 KiB
   classic messages (one per connection, waiting for brigade's close) for SECONDS
   (default 30) with default flags and the history on. Peak RSS (VmHWM) is sampled
   from /proc; then one small message from another address is timed from connect to
   brigade's clean close ("answers at once").
2. Restart on the history the flood wrote, topped up to FILL_GIB (env, default 2) GiB
   of 64 KiB messages with Python's sqlite3 (brigade stopped, its own schema): time from
   spawn to the `listening` event, and peak RSS after start-up.

Loopback and a temporary directory only (removed at the end).
"""
import json
import os
import sqlite3
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

BIN = os.environ.get("BRIGADE_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "target", "release", "brigade")
SECS = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
SOURCES = int(sys.argv[2]) if len(sys.argv) > 2 else 32


def kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def start(data, log):
    t0 = time.monotonic()
    p = subprocess.Popen([BIN, "--headless", "--name", "M", "--port", "0", "--bind", "127.0.0.1",
                          "--advertise-ip", "127.0.0.1", "--data-dir", data, "--log-file", log],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    for line in p.stdout:
        v = json.loads(line)
        if v["event"] == "listening":
            host, port = v["addr"].rsplit(":", 1)
            return p, (host, int(port)), time.monotonic() - t0
    raise SystemExit("brigade exited before listening")


def drain(p, counts):
    for line in p.stdout:
        kind = json.loads(line)["event"]
        counts[kind] = counts.get(kind, 0) + 1


def send(source, to, payload):
    """True: clean close (stored); False: reset or error."""
    s = socket.socket()
    try:
        s.bind((source, 0))
        s.connect(to)
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536):
            pass
        return True
    except OSError:
        return False
    finally:
        s.close()


def flood(to, source, stop, tally):
    body = "x" * (64 * 1024 - 64)
    n = 0
    while not stop.is_set():
        ok = send(source, to, f"{source}:7000 S{source.split('.')[-1]} {n} {body}".encode())
        tally[ok] += 1
        n += 1


def fill(path, gib):
    """Adds 64 KiB incoming messages until the file holds `gib` GiB."""
    db = sqlite3.connect(path)
    body = ("lorem ipsum dolor sit amet " * 2500)[:64 * 1024 - 32]
    at = int(time.time() * 1000) - 10**9
    while os.path.getsize(path) < gib * 2**30:
        rows = [(at + i, f"10.9.{i % 200}.{i % 100}", 7000, f"T{i % 100}", 0, f"{i} {body}")
                for i in range(2000)]
        at += 2000
        db.executemany("INSERT INTO messages (at_ms, peer_ip, peer_port, team, outgoing, text)"
                       " VALUES (?,?,?,?,?,?)", rows)
        db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def main():
    tmp = tempfile.mkdtemp(prefix="brigade-bounds-")
    data, log = os.path.join(tmp, "data"), os.path.join(tmp, "log")
    try:
        p, to, _ = start(data, log)
        counts = {}
        threading.Thread(target=drain, args=(p, counts), daemon=True).start()
        stop = threading.Event()
        tallies = [{True: 0, False: 0} for _ in range(SOURCES)]
        threads = [threading.Thread(target=flood, args=(to, f"127.0.0.{10 + i}", stop, tallies[i]))
                   for i in range(SOURCES)]
        for t in threads:
            t.start()
        peak_rss = 0
        end = time.monotonic() + SECS
        while time.monotonic() < end:
            peak_rss = max(peak_rss, kib(p.pid, "VmRSS"))
            time.sleep(0.1)
        stop.set()
        for t in threads:
            t.join()
        hwm = kib(p.pid, "VmHWM")
        t0 = time.monotonic()
        answered = send("127.0.0.250", to, b"127.0.0.250:7001 Q are you there")
        answer_ms = (time.monotonic() - t0) * 1000
        stored = sum(t[True] for t in tallies)
        refused = sum(t[False] for t in tallies)
        print(f"flood: {SOURCES} sources x {SECS:.0f} s of 64 KiB messages: {stored} stored "
              f"({stored * 64 / 1024 / SECS:.1f} MiB/s), {refused} refused with a reset; "
              f"events {counts}")
        print(f"flood: peak RSS {hwm / 1024:.1f} MiB (VmHWM; sampled max {peak_rss / 1024:.1f} MiB)")
        print(f"after the flood: a message from a new address {'stored' if answered else 'REFUSED'} "
              f"in {answer_ms:.1f} ms")
        p.stdin.close()
        p.wait(timeout=60)
        fill(os.path.join(data, "history.db"), float(os.environ.get("FILL_GIB", "2")))
        db = os.path.getsize(os.path.join(data, "history.db"))
        p, to, listen_s = start(data, log)
        threading.Thread(target=drain, args=(p, {}), daemon=True).start()
        t0 = time.monotonic()
        answered = send("127.0.0.251", to, b"127.0.0.251:7001 Q after restart")
        answer_ms = (time.monotonic() - t0) * 1000
        time.sleep(1.0)
        print(f"restart on a {db / 2**30:.2f} GiB history: listening after {listen_s * 1000:.0f} ms, "
              f"peak RSS {kib(p.pid, 'VmHWM') / 1024:.1f} MiB, first message "
              f"{'stored' if answered else 'REFUSED'} in {answer_ms:.1f} ms")
        p.stdin.close()
        p.wait(timeout=60)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
