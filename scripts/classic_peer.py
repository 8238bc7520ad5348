#!/usr/bin/env python3
"""A classic-style peer, like the menu programs on the campus network: for trying
brigade against the real protocol by hand (and for the screenshot script).

Listens with a backlog of 5, reads each connection with one recv(1024), sends each
message on a new connection as "<ip>:<port> <team> <message>" and closes. Menu:
1 send, 2 query active peers, 3 connect to active peers, 0 quit. Sending "exit"
disconnects. Loopback only by default.

    python3 scripts/classic_peer.py --name C --port 9993
"""
import argparse
import socket
import sys
import threading

peers = {}  # (ip, port) -> [team, status]
lock = threading.Lock()


def serve(sock):
    while True:
        conn, addr = sock.accept()
        data = conn.recv(1024).decode(errors="replace")
        conn.close()
        parts = data.strip().split(" ", 2)
        if len(parts) < 3 or ":" not in parts[0]:
            print(f"\n[from {addr[0]}] {data!r}", flush=True)
            continue
        port = int(parts[0].rsplit(":", 1)[1])
        team, text = parts[1], parts[2]
        with lock:
            if text.strip().lower() == "exit":
                peers.pop((addr[0], port), None)
                print(f"\n{team} ({addr[0]}:{port}) left", flush=True)
                continue
            status = peers.get((addr[0], port), [team, "Active"])[1]
            peers[(addr[0], port)] = [team, status]
        print(f"\n[{team} {addr[0]}:{port}] {text}", flush=True)


def send(me, ip, port, text):
    try:
        with socket.create_connection((ip, port), timeout=5) as s:
            s.sendall(f"{me} {text}".encode())
        with lock:
            if text.strip().lower() == "exit":
                peers.pop((ip, port), None)
            else:
                team = peers.get((ip, port), ["?", ""])[0]
                peers[(ip, port)] = [team, "Connected"]
        print("sent", flush=True)
    except OSError as e:
        print(f"failed: {e}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ip", default="127.0.0.1")
    args = ap.parse_args()
    sock = socket.socket()
    sock.bind((args.ip, args.port))
    sock.listen(5)
    threading.Thread(target=serve, args=(sock,), daemon=True).start()
    me = f"{args.ip}:{args.port} {args.name}"
    print(f"Server listening on port {args.port}", flush=True)
    while True:
        print("\n***** Menu *****\n1. Send message\n2. Query active peers\n"
              "3. Connect to active peers\n0. Quit", flush=True)
        choice = sys.stdin.readline()
        if not choice:
            return
        choice = choice.strip()
        if choice == "1":
            ip = input("Enter the recipient's IP address: ").strip()
            port = int(input("Enter the recipient's port number: ").strip())
            text = input("Enter your message: ")
            send(me, ip, port, text)
        elif choice == "2":
            with lock:
                for (ip, port), (team, status) in peers.items():
                    print(f"{ip}:{port} {team} {status}")
        elif choice == "3":
            with lock:
                active = [k for k, v in peers.items() if v[1] == "Active"]
            for ip, port in active:
                send(me, ip, port, "connection message")
        elif choice == "0":
            return


if __name__ == "__main__":
    main()
