#!/usr/bin/env bash
# Makes sure the local services the tests and the distributed mode use are installed and running:
# PostgreSQL (127.0.0.1:5432, user postgres), RabbitMQ (127.0.0.1:5672, guest/guest) and
# Redis (127.0.0.1:6379). Installs missing ones from Debian's packages. Safe to run repeatedly.
set -euo pipefail

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
wait_port() {
  for _ in $(seq 1 120); do listening "$1" && return 0; sleep 0.5; done
  echo "services.sh: $2 did not come up on port $1" >&2; return 1
}

# PostgreSQL
if ! listening 5432; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    apt_install postgresql
    fresh_pg=1
  fi
  ver=$(ls /etc/postgresql | sort -V | tail -n 1)
  if [ -n "${fresh_pg:-}" ]; then
    # Local development only: trust connections from this machine, as the test machines do.
    hba=/etc/postgresql/$ver/main/pg_hba.conf
    as_root sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
    as_root sed -i -E 's/^(local\s+all\s+(postgres|all)\s+)\S+/\1trust/' "$hba"
  fi
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  wait_port 5432 PostgreSQL
fi
# The control plane's least-privilege login (its grants come from migrations/; on a real
# server give it a password). Cluster-wide, so once per machine.
psql -h 127.0.0.1 -U postgres -d postgres -qAtc "DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'semalink_api') THEN
    CREATE ROLE semalink_api LOGIN;
  ELSE
    ALTER ROLE semalink_api LOGIN;
  END IF; END \$\$" >/dev/null

# RabbitMQ
if ! listening 5672; then
  command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server
  as_root rabbitmq-server -detached || true
  wait_port 5672 RabbitMQ
fi

# Redis
if ! listening 6379; then
  command -v redis-server >/dev/null || apt_install redis-server
  as_root redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  wait_port 6379 Redis
fi
# promtool checks docker/prometheus/ in the tests (benches/tests/deploy.rs). Debian's package
# brings the server too; nothing here starts it.
command -v promtool >/dev/null || apt_install prometheus
echo "services.sh: PostgreSQL, RabbitMQ and Redis are up"
