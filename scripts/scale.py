#!/usr/bin/env python3
"""Scale of history: 1 000 000 messages (several conversations, mixed sizes, some
Chinese and Japanese), measured with the real release binary.

    cargo build --release && python3 scripts/scale.py [rows]

1. Fills a history quickly with direct SQLite inserts in one transaction, in the
   schema of the previous release (1: a word index kept by a trigger), as an existing
   user's history would be.
2. First start on it: the upgrade and the time the writer takes to build the trigram
   search index and the conversation index in the background (polled from a read-only
   connection).
3. Then, three rounds each: start-up to first frame and peak RSS of the TUI (200x50 in
   a pty), headless `search` round trips (stdin to the answer line) for words and for
   substrings inside words and CJK text, and headless `history` round trips for a peer
   heard from once a million messages ago and for a frequent one.
Uses only loopback and temporary directories.
"""
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from measure import BIN, start_tui  # noqa: E402

SCHEMA_1 = """
CREATE TABLE messages (id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, peer_ip TEXT NOT NULL,
    peer_port INTEGER NOT NULL, team TEXT NOT NULL, outgoing INTEGER NOT NULL, text TEXT NOT NULL,
    msg_id INTEGER UNIQUE, status TEXT, reason TEXT, claimed_ip TEXT);
CREATE INDEX messages_peer ON messages (peer_ip, peer_port, id);
CREATE INDEX messages_undelivered ON messages (status) WHERE status IN ('pending', 'retrying');
CREATE VIRTUAL TABLE messages_fts USING fts5 (text, content = 'messages', content_rowid = 'id', detail = none);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
END;
PRAGMA user_version = 1;
"""

# A peer heard from once, at the very start: its conversation is the one an index is for.
RARE = "10.9.0.1"

WORDS = ("lab router printer deadline coffee network exam project server lunch meeting "
         "homework kernel compiler library window").split()
CJK = ["東京タワーに行きました", "明日の会議は十時からです", "我们明天见面吧", "这个项目很有意思"]


def text(i):
    kind = i % 10
    if kind == 0:
        return CJK[(i // 10) % len(CJK)] + f" {i}"
    words = [WORDS[(i * 7 + k * 3) % len(WORDS)] for k in range(3 + (i % 5) * (8 if kind == 9 else 2))]
    return f"message {i}: " + " ".join(words)


def fill(db_path, n):
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA journal_mode = WAL")
    db.executescript(SCHEMA_1)
    rows = ((1700000000000 + i * 1000, RARE if i == 5 else f"10.0.{i % 7}.{i % 30}", 8080,
             f"T{i % 30}", i % 3 == 0, text(i), i // 3 + 1 if i % 3 == 0 else None,
             "delivered" if i % 3 == 0 else None, None, None) for i in range(n))
    db.executemany("INSERT INTO messages (at_ms, peer_ip, peer_port, team, outgoing, text, msg_id,"
                   " status, reason, claimed_ip) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
    db.commit()
    db.close()


class Headless:
    def __init__(self, data):
        t = time.time()
        self.p = subprocess.Popen([BIN, "--headless", "--name", "A", "--port", "0", "--bind",
                                   "127.0.0.1", "--data-dir", data, "--log-file", "/dev/null"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.expect("listening")
        self.listening_ms = (time.time() - t) * 1000

    def expect(self, event):
        while True:
            line = self.p.stdout.readline()
            if not line:
                sys.exit("brigade exited")
            v = json.loads(line)
            if v["event"] == event:
                return v

    def search(self, query):
        t = time.time()
        self.p.stdin.write(json.dumps({"cmd": "search", "query": query}) + "\n")
        v = self.expect("search")
        return (time.time() - t) * 1000, len(v["hits"])

    def history(self, peer):
        t = time.time()
        self.p.stdin.write(json.dumps({"cmd": "history", "peer": peer, "limit": 50}) + "\n")
        v = self.expect("history")
        return (time.time() - t) * 1000, len(v["messages"])

    def peak_mib(self):
        with open(f"/proc/{self.p.pid}/status") as f:
            return int(next(line.split()[1] for line in f if line.startswith("VmHWM"))) / 1024

    def quit(self):
        self.p.stdin.close()
        self.p.wait()


def indexed_to(db_path):
    """How far both background indexes (search, conversations) have come."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return db.execute("SELECT min(indexed_to, peers_to) FROM search_index").fetchone()[0]
    except sqlite3.OperationalError:
        return -1
    finally:
        db.close()


QUERIES = {"word": ["router", "deadline printer", "compiler"],
           "substring": ["outer", "eadlin", "mpil"],
           "CJK": ["タワー", "明天", "项目很"]}


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    if not os.path.exists(BIN):
        sys.exit("build first: cargo build --release")
    with tempfile.TemporaryDirectory() as data:
        db_path = os.path.join(data, "history.db")
        t = time.time()
        fill(db_path, n)
        print(f"filled {n} messages (schema 1) in {time.time() - t:.1f} s; "
              f"{os.path.getsize(db_path) / 2**20:.0f} MiB")
        h = Headless(data)
        print(f"first start (upgrade from schema 1): listening after {h.listening_ms:.0f} ms")
        t = time.time()
        while indexed_to(db_path) < n:
            time.sleep(0.2)
        print(f"search and conversation indexes built in the background in {time.time() - t:.1f} s; "
              f"peak RSS {h.peak_mib():.1f} MiB; db {os.path.getsize(db_path) / 2**20:.0f} MiB")
        h.quit()
        for run in range(3):
            p, master, ms = start_tui(data)
            time.sleep(0.5)
            with open(f"/proc/{p.pid}/status") as f:
                peak = int(next(line.split()[1] for line in f if line.startswith("VmHWM"))) / 1024
            p.kill()
            p.wait()
            os.close(master)
            h = Headless(data)
            times = {}
            for kind, qs in QUERIES.items():
                samples = [h.search(q) for q in qs for _ in range(5)]
                times[kind] = (statistics.median(s[0] for s in samples), max(s[0] for s in samples),
                               min(s[1] for s in samples))
            talks = [h.history(peer) for peer in (f"{RARE}:8080", "10.0.3.3:8080") for _ in range(5)]
            hpeak = h.peak_mib()
            h.quit()
            found = ", ".join(f"{k} p50 {v[0]:.1f} ms (max {v[1]:.1f}, >= {v[2]} hits)"
                              for k, v in times.items())
            talk = (f"conversation p50 {statistics.median(t[0] for t in talks):.1f} ms "
                    f"(max {max(t[0] for t in talks):.1f}; rare peer {talks[0][1]} message, "
                    f"frequent {talks[-1][1]})")
            print(f"round {run + 1}: TUI first frame {ms:.0f} ms, peak RSS {peak:.1f} MiB; "
                  f"headless listening {h.listening_ms:.0f} ms, peak RSS {hpeak:.1f} MiB; search {found}; {talk}")


if __name__ == "__main__":
    main()
