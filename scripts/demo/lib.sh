# What the demos share (sourced by live.sh and sites.sh): a scratch dir and
# the processes started, both cleaned up on exit; a watchdog that ends the
# demo within a minute; narration; starting a process with its output shown
# under its label; waiting (bounded) for a line it prints.
#
# Before sourcing, a demo may set demo_hide: an extended regex of output
# lines kept in the logs but not shown (default: the transport's own lines).

tmp=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
# A hard stop, whatever happens: the demo must end by itself.
trap 'echo "demo: took too long, stopping" >&2; exit 1' TERM
( sleep 55; kill -TERM $$ ) >/dev/null 2>&1 </dev/null &
watchdog=$!

if [[ -t 1 ]]; then bold=$'\e[1m'; dim=$'\e[2m'; plain=$'\e[0m'; else bold=; dim=; plain=; fi
# A step: a short pause first so that a reader can follow.
step() {
    sleep 0.7
    printf '\n%s==> %s%s\n' "$bold" "$*" "$plain"
}
note() { printf '%s    %s%s\n' "$dim" "$*" "$plain"; }

# start LABEL INPUT COMMAND...: runs a process in the background with stdin
# from INPUT; its output (stdout and stderr) is shown prefixed with LABEL and
# kept in $tmp/LABEL.log. The caller reads the process's pid from $last_pid.
start() {
    local label=$1 input=$2
    shift 2
    # The subshell closes our ends of the chat fifos (a node or its output
    # filter holding one open would keep a chat from ever seeing Ctrl-D),
    # then becomes the process.
    (
        for fd in "${typing_fds[@]}"; do eval "exec $fd>&-"; done
        exec "$@" <"$input" > >(tee "$tmp/$label.log" | grep --line-buffered -E -v -e "${demo_hide:-^grav\.zmq\[}" |
            sed -u "s/^/    $(printf '%-10s' "$label")| /") 2>&1
    ) &
    last_pid=$!
    pids+=("$last_pid")
}
typing_fds=()
# wait_for LABEL TEXT [SECONDS]: until the process printed TEXT (bounded).
wait_for() {
    local deadline=$((SECONDS + ${3:-10}))
    until grep -qF -- "$2" "$tmp/$1.log" 2>/dev/null; do
        ((SECONDS < deadline)) || { echo "demo: $1 never printed '$2'" >&2; return 1; }
        sleep 0.1
    done
}
