#!/usr/bin/env bash
# Every check, then the suite twice: on SQLite and on a real PostgreSQL started here.
# PostgreSQL listens on 127.0.0.1 only, keeps its data under /tmp, and is stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

export SAIDAO_VAR_DIR
SAIDAO_VAR_DIR=$(mktemp -d /tmp/saidao-test-var.XXXXXX)
PGDATA_DIR=""
PG_PID=""

cleanup() {
  if [[ -n "$PG_PID" ]] && kill -0 "$PG_PID" 2>/dev/null; then
    kill -INT "$PG_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.2; done
  fi
  [[ -n "$PGDATA_DIR" ]] && rm -rf "$PGDATA_DIR"
  rm -rf "$SAIDAO_VAR_DIR"
}
trap cleanup EXIT

# --- system packages the suite uses (CI is a fresh machine; we are root there) ---
pg_bin_dir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
need=()
[[ -x /usr/bin/chromium ]] || need+=(chromium)
[[ -n "$(pg_bin_dir)" && -x "$(pg_bin_dir)/postgres" ]] || need+=(postgresql)
command -v msgfmt >/dev/null || need+=(gettext)
command -v redis-server >/dev/null || need+=(redis-server)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)
# pdftotext reads certificates back in the suite
command -v pdftotext >/dev/null || need+=(poppler-utils)
if ((${#need[@]})); then
  echo "== installing ${need[*]}"
  # Debian starts PostgreSQL and Redis services on install; we start our own on loopback and
  # stop them by PID, so forbid service starts while installing.
  policy=""
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    policy=/usr/sbin/policy-rc.d
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  [[ -n "$policy" ]] && rm -f "$policy"
fi

echo "== ruff"
$BIN/ruff check .
$BIN/ruff format --check .
echo "== mypy (strict)"
$BIN/mypy
echo "== migrations are up to date"
$BIN/saidao makemigrations --check --dry-run
echo "== translations compile"
(cd saidao && ../$BIN/saidao compilemessages -l en >/dev/null)
git diff --quiet -- 'saidao/locale' 'saidao/*/locale' 2>/dev/null || { echo "compiled messages (.mo) are stale: run make messages"; exit 1; }
[[ -z "$(git ls-files --others --exclude-standard -- 'saidao/*.mo')" ]] || { echo "compiled messages (.mo) are not committed"; exit 1; }
echo "== every message has its English translation"
I18N_DIR=$(mktemp -d /tmp/saidao-i18n.XXXXXX)
cp -r saidao "$I18N_DIR/"
ROOT=$PWD
(cd "$I18N_DIR/saidao" && "$ROOT/$BIN/saidao" makemessages -l en --no-obsolete >/dev/null)
# The project's catalogue, and one per app that keeps its own (saidao/<app>/locale).
untranslated=0
while IFS= read -r PO; do
  missing=$(msgattrib --untranslated --no-obsolete "$PO" | grep -c '^msgid ' || true)
  fuzzy=$(msgattrib --only-fuzzy --no-obsolete "$PO" | grep -c '^msgid ' || true)
  # msgattrib repeats the header entry when it prints anything at all
  if ((missing > 1 || fuzzy > 1)); then
    echo "untranslated or fuzzy messages in ${PO#"$I18N_DIR/"}"; untranslated=1
  fi
done < <(find "$I18N_DIR/saidao" -path '*/locale/en/LC_MESSAGES/django.po')
rm -rf "$I18N_DIR"
if ((untranslated)); then
  echo "messages without an English translation: run make messages and translate them"; exit 1
fi

run_pytest() {
  local rc=0
  $BIN/pytest "$@" || rc=$?
  if ((rc == 5)); then echo "pytest collected no tests: that is a failure"; return 1; fi
  return "$rc"
}

echo "== pytest on SQLite"
run_pytest

echo "== starting PostgreSQL on 127.0.0.1"
PG_BIN=$(pg_bin_dir)
PGDATA_DIR=$(mktemp -d /tmp/saidao-pg.XXXXXX)
chown postgres:postgres "$PGDATA_DIR"
PG_PORT=$($BIN/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
runuser -u postgres -- "$PG_BIN/initdb" -D "$PGDATA_DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
runuser -u postgres -- "$PG_BIN/postgres" -D "$PGDATA_DIR/data" -h 127.0.0.1 -p "$PG_PORT" \
  -k "$PGDATA_DIR" -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
  >"$PGDATA_DIR/postgres.log" 2>&1 &
for _ in $(seq 1 100); do
  [[ -f "$PGDATA_DIR/data/postmaster.pid" ]] && "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" && break
  sleep 0.2
done
PG_PID=$(head -n 1 "$PGDATA_DIR/data/postmaster.pid")
"$PG_BIN/psql" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -c "CREATE DATABASE saidao" >/dev/null

echo "== pytest on PostgreSQL"
DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/saidao" run_pytest
