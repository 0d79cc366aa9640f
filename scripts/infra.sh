#!/usr/bin/env bash
# Makes sure RabbitMQ and PostgreSQL answer on the local machine: use the running ones, start
# installed ones, install them with apt on Debian, or run them with Docker Compose.
# Skipped for a service whose URL is given in the environment (it is someone else's).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'infra: %s\n' "$*"; }
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
have_docker_engine() { command -v docker >/dev/null && docker info >/dev/null 2>&1; }
can_apt() { command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; }

wait_for() {  # port name
  for _ in $(seq 1 60); do answers "$1" && { say "$2 is up on 127.0.0.1:$1"; return 0; }; sleep 1; done
  say "$2 did not come up on 127.0.0.1:$1"; return 1
}

start_postgres() {
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
}

install_postgres() {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  local hba
  hba=$(ls /etc/postgresql/*/main/pg_hba.conf | sort -V | tail -n 1)
  # A development machine: the local user 'postgres' over loopback, as this project expects.
  grep -q '^host all postgres 127.0.0.1/32 trust' "$hba" ||
    sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
}

ensure_postgres() {
  if [ -n "${DATABASE_URL:-}" ]; then say "PostgreSQL given by DATABASE_URL"; return; fi
  answers 5432 && { say "PostgreSQL is running"; return; }
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then start_postgres
  elif have_docker_engine; then docker compose up -d postgres
  elif can_apt; then install_postgres; start_postgres
  else say "no PostgreSQL: install it, or set DATABASE_URL"; return 1; fi
  wait_for 5432 PostgreSQL
}

ensure_rabbitmq() {
  if [ -n "${AMQP_URL:-}" ]; then say "RabbitMQ given by AMQP_URL"; return; fi
  answers 5672 && { say "RabbitMQ is running"; return; }
  if command -v rabbitmq-server >/dev/null; then rabbitmq-server -detached
  elif have_docker_engine; then docker compose up -d rabbitmq
  elif can_apt; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
    rabbitmq-server -detached || true
  else say "no RabbitMQ: install it, or set AMQP_URL"; return 1; fi
  wait_for 5672 RabbitMQ
}

ensure_postgres
ensure_rabbitmq
