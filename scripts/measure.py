#!/usr/bin/env python3
"""Measures what a benchmark harness cannot: the real TUI binary's start-up to first
frame and peak memory with a 100 000-message history, and its CPU use when idle.

    cargo build --release && python3 scripts/measure.py

Uses only loopback and temporary directories. The history is written with the real
schema: brigade creates the database, then rows are inserted with Python's sqlite3.
"""
import fcntl
import os
import pty
import select
import sqlite3
import struct
import subprocess
import sys
import tempfile
import termios
import time

BIN = os.path.join(os.path.dirname(__file__), "..", "target", "release", "brigade")


def make_history(data, n):
    # Let brigade create the schema (headless, stdin closed: it starts and quits).
    subprocess.run([BIN, "--headless", "--name", "A", "--port", "0", "--bind", "127.0.0.1",
                    "--data-dir", data, "--log-file", "/dev/null"],
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True)
    db = sqlite3.connect(os.path.join(data, "history.db"))
    rows = [(1780000000000 + i, f"10.0.{i % 7}.{i % 50}", 8080, f"T{i % 50}", i % 3 == 0,
             f"message number {i} with a few words about the lab and the router",
             i // 3 + 1 if i % 3 == 0 else None, "delivered" if i % 3 == 0 else None, None, None)
            for i in range(n)]
    db.executemany("INSERT INTO messages (at_ms, peer_ip, peer_port, team, outgoing, text, msg_id,"
                   " status, reason, claimed_ip) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
    db.commit()
    db.close()


def ticks(pid):
    """CPU ticks and voluntary context switches over all threads."""
    cpu = switches = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{t}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
            cpu += int(fields[11]) + int(fields[12])
        with open(f"/proc/{pid}/task/{t}/status") as f:
            for line in f:
                if line.startswith("voluntary_ctxt_switches"):
                    switches += int(line.split()[1])
    return cpu, switches


def start_tui(data):
    """Starts the TUI at 200x50 in a pty; returns (process, master fd, ms to first frame)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    t = time.time()
    p = subprocess.Popen([BIN, "--name", "A", "--port", "0", "--bind", "127.0.0.1",
                          "--data-dir", data, "--log-file", "/dev/null"],
                         stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    seen = b""
    # "Peers" is the first word of the peer list: it is on screen once a frame is drawn.
    while b"Peers" not in seen:
        ready, _, _ = select.select([master], [], [], 10)
        if not ready:
            sys.exit("no frame within 10 s")
        seen += os.read(master, 65536)
    return p, master, (time.time() - t) * 1000


def main():
    if not os.path.exists(BIN):
        sys.exit("build first: cargo build --release")
    with tempfile.TemporaryDirectory() as data:
        make_history(data, 100_000)
        for run in range(3):
            p, master, ms = start_tui(data)
            time.sleep(0.5)  # let start-up allocations settle before reading the peak
            with open(f"/proc/{p.pid}/status") as f:
                peak = next(line.split()[1] for line in f if line.startswith("VmHWM"))
            print(f"start-up to first frame, 100 000-message history: {ms:.0f} ms; peak memory {int(peak) / 1024:.1f} MiB")
            if run == 2:
                before = ticks(p.pid)
                time.sleep(10)  # the measurement itself: ten idle seconds
                after = ticks(p.pid)
                print(f"idle for 10 s: {after[0] - before[0]} CPU ticks, {after[1] - before[1]} context switches")
            p.kill()
            p.wait()
            os.close(master)


if __name__ == "__main__":
    main()
