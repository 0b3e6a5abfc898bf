# Shared set-up of the comparison scripts (sourced by compare.sh and capture_compare.sh;
# they set SCRIPT_DIR, ROOT, ROWS, SEED, KEEP, SPATE_BIN, PYTHON and define die/log).

# GNU time measures wall time, CPU and peak RSS; installed when missing and root.
ensure_gnu_time() {
  [[ -x /usr/bin/time ]] && return 0
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    log "installing GNU time (apt-get install -y time)"
    apt-get update -qq >/dev/null && apt-get install -y -qq time >/dev/null \
      || die "could not install GNU time; install the 'time' package"
  else
    die "/usr/bin/time (GNU time) is missing: install the 'time' package"
  fi
}

# WORK: --keep DIR (kept and reused) or a temporary directory removed at exit.
make_work_dir() {  # $1: prefix of the temporary directory
  if [[ -n "$KEEP" ]]; then
    mkdir -p -- "$KEEP" || die "cannot create --keep directory $KEEP"
    WORK=$(cd -- "$KEEP" && pwd)
  else
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    trap 'rm -rf -- "$WORK"' EXIT
  fi
  log "work directory: $WORK${KEEP:+ (kept)}"
}

# SPATE_BIN (built in release mode unless given) and SPATE_REV (the commit measured).
build_spate() {
  SPATE_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  if [[ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
    SPATE_REV="$SPATE_REV+dirty"
  fi
  if [[ -z "$SPATE_BIN" ]]; then
    command -v swift >/dev/null || die "swift not found (or pass --spate-bin)"
    log "building spate (swift build -c release --product spate)"
    (cd "$ROOT" && swift build -c release --product spate) >&2 || die "release build of spate failed"
    SPATE_BIN=$(cd "$ROOT" && swift build -c release --show-bin-path)/spate
  else
    SPATE_REV="$SPATE_REV (given binary $SPATE_BIN)"
  fi
  [[ -x "$SPATE_BIN" ]] || die "spate binary not found at $SPATE_BIN"
}

# PY: a venv in WORK with the given PyPI packages.
make_venv() {  # $@: packages
  local venv=$WORK/venv
  if ! "$venv/bin/python" -c "import $(IFS=,; echo "$*")" 2>/dev/null; then
    log "creating venv and installing $*"
    "$PYTHON" -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    "$venv/bin/pip" install -q --disable-pip-version-check "$@" || die "pip install $* failed"
  fi
  PY=$venv/bin/python
}

# BIDS: the generated bids CSV (reused from a kept directory when rows and seed match).
make_bids() {
  BIDS=$WORK/bids_${ROWS}_seed${SEED}.csv
  if [[ -s "$BIDS" ]]; then
    log "reusing $BIDS"
  else
    log "generating $ROWS bids"
    "$PY" "$SCRIPT_DIR/gen_bids.py" "$BIDS" --rows "$ROWS" --seed "$SEED"
  fi
}

# Optional PyPI packages in the venv made by make_venv: returns 1 instead of exiting
# when pip fails (the pip output is kept in WORK/pip-PACKAGE.log), so a script can
# go on without them.
venv_try_install() {  # $@: packages
  "$PY" -c "import $(IFS=,; echo "$*")" 2>/dev/null && return 0
  log "installing $* (optional)"
  "$WORK/venv/bin/pip" install -q --disable-pip-version-check "$@" >"$WORK/pip-$1.log" 2>&1
}
