#!/usr/bin/env bash
# The REST API under load, beside its reference in the same run: wrk against Switchboard's
# GET /v1/queues and POST /v1/work-items (each 201 is a durably committed work item), and against
# nginx serving a static JSON file of the same size as the queues answer. Prints requests/s, p99
# and the ratios. Targets (issue 4): GET >= 0.5 x nginx with p99 <= 2 ms; >= 20,000 durable
# items/s.
#
# Usage: bench/rest_bench.sh BUILD_DIR [SECONDS] [THREADS]   (./dev bench runs it)
#        REST_BENCH_ROUNDS=N: runs per figure (default 3; each figure printed is the median)
set -euo pipefail

build=${1:?usage: rest_bench.sh BUILD_DIR [SECONDS] [THREADS]}
seconds=${2:-5}
# Threads of Switchboard's listener: its configuration's default. An idle connection holds no
# thread and a POST waits for its commit without one, so a few serve all 50 connections.
threads=${3:-4}
# Runs of each measurement; the figures printed are their medians.
rounds=${REST_BENCH_ROUNDS:-3}
# wrk's connections. The bare Poco reference gives each connection a thread for as long as it
# is open (Poco's HTTPServer), so it gets one thread per connection: with fewer, the connections
# beyond its thread count would wait unanswered and its figures would cover only the others.
connections=50
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
program="$build/server/app/switchboard"
work=$(mktemp -d /tmp/sb-rest-bench.XXXXXX)
server_pid=""
nginx_pid=""
poco_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  [ -n "$poco_pid" ] && kill "$poco_pid" 2>/dev/null && wait "$poco_pid" 2>/dev/null
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

key=bench-integrator-key-0123456789
cat >"$work/switchboard.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<switchboard xmlns="urn:switchboard:config:v1" version="1.0">
  <server id="sb-bench"><listener address="127.0.0.1" port="0" threads="$threads"/></server>
  <store maxBatch="1000"><sqlite path="$work/switchboard.db"/></store>
  <security>
    <apiKey name="bench" secret="$key"/>
    <agentTokens secret="bench-agent-token-secret-0123456789abcdef"/>
  </security>
  <logging level="warning"/>
  <routing defaultQueue="general"/>
  <queues>
    <queue id="general" ordering="longestIdle"/>
    <queue id="billing" ordering="highestSkill longestIdle" skill="billing"/>
    <queue id="technical" ordering="highestSkill longestIdle" skill="technical"/>
    <queue id="sales" ordering="roundRobin"/>
  </queues>
</switchboard>
EOF

"$program" serve --config "$work/switchboard.xml" >"$work/server.out" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do
  grep -q "listening on" "$work/server.out" 2>/dev/null && break
  sleep 0.05
done
port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/server.out")
[ -n "$port" ] || { cat "$work/server.log"; exit 1; }
api="http://127.0.0.1:$port"

# The reference serves the same bytes as the queues answer.
curl -s -H "Authorization: Bearer $key" "$api/v1/queues" >"$work/queues.json"
nginx_port=$((port + 1))
mkdir -p "$work/nginx"
cat >"$work/nginx.conf" <<EOF
daemon off;
worker_processes 2;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  server {
    listen 127.0.0.1:$nginx_port;
    location = /v1/queues { default_type application/json; alias $work/queues.json; }
  }
}
EOF
# nginx's workers leave root for an unprivileged user, which must read the reference file.
chmod -R a+rX "$work"
/usr/sbin/nginx -c "$work/nginx.conf" -p "$work/nginx" &
nginx_pid=$!
sleep 0.3

poco_port=$((port + 2))
"$build/bench/poco_http_reference" "$work/queues.json" "$poco_port" "$connections" &
poco_pid=$!
sleep 0.3

cat >"$work/post.lua" <<EOF
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $key"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"medium":"web","subject":"Call me back about my invoice","customer":{"name":"Carol","addresses":[{"kind":"phone","value":"+351210000000"}]},"attributes":{"topic":"billing"}}'
EOF

# Prints "REQUESTS_PER_SECOND P99_MS" for one wrk run, after a second of the same load that is
# not counted (connections opened, threads started, caches and allocator warm), for every server
# alike.
measure() {
  local output
  wrk -t2 -c"$connections" -d1s "$@" >/dev/null
  output=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency "$@")
  local rate p99
  rate=$(awk '/Requests\/sec/ {print $2}' <<<"$output")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}' <<<"$output")
  local errors
  errors=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$output")
  if [ -n "$errors" ]; then
    # A rate made of refusals measures nothing: stop rather than print it.
    echo "rest_bench: failed requests for $*: $errors" >&2
    exit 1
  fi
  echo "$rate $p99"
}

# Each figure is the median of $rounds runs. GET and its references run in turns within each
# round, so that a change of the machine's speed during the benchmark falls on all of them.
for _ in $(seq "$rounds"); do
  measure "http://127.0.0.1:$nginx_port/v1/queues" >>"$work/nginx.rate"
  measure "http://127.0.0.1:$poco_port/v1/queues" >>"$work/poco.rate"
  measure -H "Authorization: Bearer $key" "$api/v1/queues" >>"$work/get.rate"
done
for _ in $(seq "$rounds"); do
  measure -s "$work/post.lua" "$api/v1/work-items" >>"$work/post.rate"
done
# Again, now that the POSTs left their items waiting (no agent is ready): statistics must not
# cost a walk over every waiting item.
for _ in $(seq "$rounds"); do
  measure "http://127.0.0.1:$nginx_port/v1/queues" >>"$work/nginx-loaded.rate"
  measure -H "Authorization: Bearer $key" "$api/v1/queues" >>"$work/get-loaded.rate"
done
waiting=$(curl -s -H "Authorization: Bearer $key" "$api/v1/queues" | jq '[.queues[].waiting] | add')
# Prints "MEDIAN_RATE MEDIAN_P99" of a file of "RATE P99" lines (each column on its own).
median() {
  local rate p99
  rate=$(awk '{print $1}' "$1" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')
  p99=$(awk '{print $2}' "$1" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')
  echo "$rate $p99"
}
read -r nginx_rate nginx_p99 <<<"$(median "$work/nginx.rate")"
read -r poco_rate poco_p99 <<<"$(median "$work/poco.rate")"
read -r get_rate get_p99 <<<"$(median "$work/get.rate")"
read -r post_rate post_p99 <<<"$(median "$work/post.rate")"
read -r nginx_loaded_rate _ <<<"$(median "$work/nginx-loaded.rate")"
read -r loaded_rate loaded_p99 <<<"$(median "$work/get-loaded.rate")"

printf '\nREST API, wrk -t2 -c%s for %ss each, median of %s runs, response of %s bytes, %s Switchboard threads, %s bare Poco threads\n' \
  "$connections" "$seconds" "$rounds" "$(wc -c <"$work/queues.json")" "$threads" "$connections"
printf 'reference  nginx static file        %10.0f requests/s  p99 %7.2f ms\n' "$nginx_rate" "$nginx_p99"
printf 'reference  bare Poco HTTPServer     %10.0f requests/s  p99 %7.2f ms  (%.2f x nginx)\n' \
  "$poco_rate" "$poco_p99" "$(awk -v a="$poco_rate" -v b="$nginx_rate" 'BEGIN {print a / b}')"
printf 'switchboard GET /v1/queues          %10.0f requests/s  p99 %7.2f ms  ratio %.2f x nginx (target >= 0.50, p99 <= 2 ms), %.2f x bare Poco\n' \
  "$get_rate" "$get_p99" "$(awk -v a="$get_rate" -v b="$nginx_rate" 'BEGIN {print a / b}')" \
  "$(awk -v a="$get_rate" -v b="$poco_rate" 'BEGIN {print a / b}')"
printf 'switchboard POST /v1/work-items     %10.0f durable items/s  p99 %7.2f ms  (target >= 20000)\n' \
  "$post_rate" "$post_p99"
printf 'switchboard GET /v1/queues, %s waiting %10.0f requests/s  p99 %7.2f ms  ratio %.2f x nginx\n' \
  "$waiting" "$loaded_rate" "$loaded_p99" "$(awk -v a="$loaded_rate" -v b="$nginx_loaded_rate" 'BEGIN {print a / b}')"
printf 'runs (requests/s): POST %s; GET %s; nginx %s\n' \
  "$(awk '{printf "%s%.0f", (NR > 1 ? ", " : ""), $1}' "$work/post.rate")" \
  "$(awk '{printf "%s%.0f", (NR > 1 ? ", " : ""), $1}' "$work/get.rate")" \
  "$(awk '{printf "%s%.0f", (NR > 1 ? ", " : ""), $1}' "$work/nginx.rate")"
