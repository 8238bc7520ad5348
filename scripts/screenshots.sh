#!/usr/bin/env bash
# Regenerates screenshots/*.png from the real program in a real terminal: xterm under
# Xvfb, each program in a tmux session (so this script can type into it), captured with
# ImageMagick's import. Two brigade TUIs (A, B) and a classic-style menu peer (C) chat
# on loopback.
#
#   scripts/screenshots.sh
#
# Needs Debian's xvfb xterm imagemagick x11-utils fonts-dejavu-core and python3; run as
# root it installs them.
set -euo pipefail
cd "$(dirname "$0")/.."

need=(Xvfb xterm import xwininfo tmux python3)
missing=()
for cmd in "${need[@]}"; do command -v "$cmd" >/dev/null || missing+=("$cmd"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      xvfb xterm imagemagick x11-utils fonts-dejavu-core tmux python3 >/dev/null
  else
    echo "missing: ${missing[*]} (Debian: apt-get install xvfb xterm imagemagick x11-utils fonts-dejavu-core tmux)" >&2
    exit 1
  fi
fi

cargo build --release --quiet
BRIGADE=$PWD/target/release/brigade
OUT=$PWD/screenshots
mkdir -p "$OUT"
WORK=$(mktemp -d)
export LANG=C.UTF-8 LC_ALL=C.UTF-8
DISPLAY_NUM=:77
T=(tmux -u -L brigade-shots -f "$WORK/tmux.conf")
printf 'set -g status off\nset -g default-terminal xterm-256color\n' >"$WORK/tmux.conf"

cleanup() {
  "${T[@]}" kill-server 2>/dev/null || true
  [ -n "${XVFB:-}" ] && kill "$XVFB" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

Xvfb "$DISPLAY_NUM" -screen 0 2000x1300x24 -nolisten tcp >/dev/null 2>&1 &
XVFB=$!
export DISPLAY=$DISPLAY_NUM

# Free loopback ports for A, B and C.
read -r PA PB PC < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
')

# wait_for SESSION TEXT: until the session's screen shows TEXT (at most 15 s).
wait_for() {
  for _ in $(seq 150); do
    "${T[@]}" capture-pane -p -t "$1" 2>/dev/null | grep -qF -- "$2" && return 0
    sleep 0.1
  done
  echo "timed out waiting for '$2' in $1:" >&2
  "${T[@]}" capture-pane -p -t "$1" >&2 || true
  exit 1
}

keys() { "${T[@]}" send-keys -t "$1" "${@:2}"; sleep 0.15; }
# select_peer SESSION TEXT: Alt+Down, then Alt+Up, through the peer list until the screen
# shows TEXT (the compose box's title names the selected peer).
select_peer() {
  local key
  for key in M-Down M-Down M-Down M-Down M-Up M-Up M-Up M-Up M-Up M-Up; do
    "${T[@]}" capture-pane -p -t "$1" | grep -qF -- "$2" && return 0
    keys "$1" "$key"
  done
  wait_for "$1" "$2"
}
type_line() { "${T[@]}" send-keys -t "$1" -l "$2"; "${T[@]}" send-keys -t "$1" Enter; sleep 0.2; }

# term NAME SESSION COLSxROWS+X+Y [light]: an xterm attached to the session, placed
# where no other window covers it (Xvfb keeps nothing of a covered window).
term() {
  local colors=(-bg '#1d1f21' -fg '#d8d8d8')
  [ "${4:-}" = light ] && colors=(-bg '#fdfdf8' -fg '#202020')
  xterm -T "$1" -fa 'DejaVu Sans Mono' -fs 11 -geometry "$3" "${colors[@]}" \
    -e "${T[@]}" attach -t "$2" >/dev/null 2>&1 &
  for _ in $(seq 100); do xwininfo -name "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "no window $1" >&2; exit 1
}

shoot() {
  sleep 0.4
  local id
  id=$(xwininfo -name "$1" | awk '/Window id:/ {print $4}')
  import -window "$id" "$OUT/$2.png"
  echo "wrote screenshots/$2.png"
}

common=(--bind 127.0.0.1 --advertise-ip 127.0.0.1 --no-bell --log-file "$WORK/brigade.log")
# A keeps a history, with a conversation with C from yesterday evening in it: the
# first start (headless, stdin closed: it quits at once) creates the database, then
# yesterday's rows are written the way brigade writes them.
"$BRIGADE" --headless --name A --port "$PA" --data-dir "$WORK/a" --no-discovery "${common[@]}" </dev/null >/dev/null
python3 - "$WORK/a/history.db" "$PC" <<'PY'
import datetime, sqlite3, sys
db, port = sys.argv[1], int(sys.argv[2])
evening = datetime.datetime.now().astimezone().replace(hour=18, minute=2, second=0, microsecond=0)
evening -= datetime.timedelta(days=1)
rows = [
    (0, False, "did anyone keep the slides from the networking lab?"),
    (1, True, "I have them, sending the link after dinner"),
    (3, False, "great, the router config was on slide 12 I think"),
    (9, True, "yes: the router needs a static route for 10.0.0.0/8"),
]
conn = sqlite3.connect(db)
for i, (minute, outgoing, text) in enumerate(rows):
    at = int((evening + datetime.timedelta(minutes=minute)).timestamp() * 1000)
    conn.execute(
        "INSERT INTO messages (at_ms, peer_ip, peer_port, team, outgoing, text, msg_id, status)"
        " VALUES (?, '127.0.0.1', ?, 'C', ?, ?, ?, ?)",
        (at, port, int(outgoing), text, 900 + i if outgoing else None,
         "delivered" if outgoing else None),
    )
conn.commit()
PY
"${T[@]}" new-session -d -s a -x 100 -y 30 "$BRIGADE --name A --port $PA --data-dir $WORK/a ${common[*]}"
"${T[@]}" new-session -d -s c -x 70 -y 30 "python3 scripts/classic_peer.py --name C --port $PC"
term brigade-A a 100x30+0+0
term classic-C c 70x30+0+640
wait_for a "A @ 127.0.0.1:$PA"
"${T[@]}" new-session -d -s b -x 100 -y 30 "$BRIGADE --name B --port $PB --peer 127.0.0.1:$PA/A --no-history ${common[*]}"
term brigade-B b 100x30+940+0
wait_for a "B is active"

# The classic peer writes to A through its menu (option 1).
wait_for c "0. Quit"
type_line c 1
type_line c 127.0.0.1
type_line c "$PA"
type_line c "hello from the menu program"
wait_for a "hello from the menu program"

# A: Ctrl+K connects to both Active peers (the menu's option 3).
keys a C-k
wait_for c "connection message"
# A writes to B, B answers, A writes to C.
select_peer a "To B ("
type_line a "Hi B, are you coming to the lab at five? I can bring the router."
wait_for b "lab at five"
select_peer b "To A ("
type_line b "yes, see you there"
wait_for a "see you there"
select_peer a "To C ("
type_line a "hi C, this is brigade"
wait_for c "hi C, this is brigade"
# A looks at B's conversation while C answers: C's answers are unread.
select_peer a "To B ("
type_line c 1
type_line c 127.0.0.1
type_line c "$PA"
type_line c "nice! the menu program still works"
type_line c 1
type_line c 127.0.0.1
type_line c "$PA"
type_line c "did you get the route working in the end?"
wait_for a "Connected 2"
select_peer a "To C ("
wait_for a " new ─"
shoot brigade-A reading
select_peer a "To all peers"
shoot brigade-A conversation
shoot brigade-B conversation-b
shoot classic-C classic-peer

# Ctrl+F finds words and parts of words in the whole history; Enter shows the hit in
# its conversation, highlighted.
keys a C-f
"${T[@]}" send-keys -t a -l "rout"
wait_for a "static route"
keys a Enter
wait_for a "hit 1 of"
shoot brigade-A search
keys a Escape

keys a F1
shoot brigade-A help
keys a Escape
sleep 0.3
keys a C-n
type_line a "10.213.8"
type_line a "8080"
type_line a "B2"
type_line a "hello"
shoot brigade-A new-recipient
keys a Escape

# The start-up form (no --name or --port), with a team name that has a space.
"${T[@]}" new-session -d -s d -x 100 -y 30 "$BRIGADE --bind 127.0.0.1 --no-history --no-discovery --log-file $WORK/d.log"
term brigade-start d 100x30+940+640 light
wait_for d "Start brigade"
type_line d "Team Subhra"
type_line d "$PA"
wait_for d "has spaces"
shoot brigade-start startup-form
