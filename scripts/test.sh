#!/usr/bin/env bash
# scripts/test.sh — the project's single test command (run by `make test` and .ci/run).
#
#   scripts/test.sh          install what is missing, then: gofmt, go vet, staticcheck, go test -race
#   scripts/test.sh lint     only gofmt, go vet, staticcheck (what `make lint` runs)
#
# Designed for a fresh Debian machine as root: missing Debian packages are
# installed with apt-get (apt-get update only runs when something must be
# installed). As a non-root user it uses `sudo -n` if that works, and
# otherwise fails saying which packages to install. Nothing is skipped
# silently: a step that cannot run fails with a message saying what is missing.
#
# Environment:
#   CITYOPS_TEST_DATABASE_URL   superuser postgres:// URL for tests (see internal/testdb);
#                               if set, no local PostgreSQL is installed or started.
#   GO_TEST_TIMEOUT             go test -timeout (default 75m: the app package alone takes over 30 minutes under -race)
#   GO_TEST_FLAGS               extra flags for go test (e.g. "-run TestFoo -v")
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# staticcheck v0.8.2 is release 2026.2.2; it is built with and supports Go 1.26.
# (Module versions: https://proxy.golang.org/honnef.co/go/tools/@v/list)
STATICCHECK_VERSION="v0.8.2"
GO_TEST_TIMEOUT="${GO_TEST_TIMEOUT:-75m}"
GO_TEST_FLAGS="${GO_TEST_FLAGS:-}"

# ---------------------------------------------------------------------------
# EXTRA SERVICES — extension point for later steps.
#
# Debian packages that extra test services need go in EXTRA_DEB_PACKAGES
# (installed together with everything else, only if missing). Starting or
# checking the services themselves (Vault dev server, stripe-mock, chromium,
# ...) goes in ensure_extra_services, which runs after PostgreSQL is sorted
# out and before `go test`. Call `die "..."` there if a service cannot be
# provided — do not skip.
# ---------------------------------------------------------------------------
# The console's browser tests drive Debian's Chromium; fonts-noto-cjk renders the Chinese pages in
# their screenshots. The evaluation bulletins' PDFs are set in fonts-droid-fallback's CJK font and
# their tests read them back with pdftotext (poppler-utils).
# The monitoring MQTT tests start Mosquitto processes of their own (package mosquitto).
# The backup drill (tenants/restore_test.go) archives a throwaway cluster's WAL with pgBackRest and
# restores from it (pgbackrest); the shared rate-limit tests start their own redis-server.
# The video tests (platform/monitoring/video_test.go, app/browser_video_test.go) run ffmpeg (the
# RTSP→HLS gateway, snapshots; ffprobe checks the segments) against an RTSP server with a generated
# test pattern: GStreamer's RTSP server through python3-gi (platform/monitoring/testdata/rtsp_server.py).
EXTRA_DEB_PACKAGES=(chromium fonts-noto-cjk fonts-droid-fallback poppler-utils mosquitto pgbackrest redis-server
	ffmpeg python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-rtsp
	gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly)

ensure_extra_services() {
	# e.g.  ensure_vault; ensure_stripe_mock; ensure_chromium
	ensure_stripe_mock
	ensure_versitygw
	ensure_vault
	ensure_chromium
	ensure_mosquitto
	ensure_pgbackrest
	ensure_redis
	ensure_video
	ensure_mailpit
}

# redis-server: the shared rate-limit tests (app/limits_shared_test.go) start their own server.
ensure_redis() {
	command -v redis-server >/dev/null 2>&1 || die "no redis-server for the shared rate-limit tests: apt-get install redis-server"
	info "$(redis-server --version | cut -d' ' -f1-3)"
}

# mosquitto: the MQTT tests (platform/monitoring) start their own brokers from CITYOPS_MOSQUITTO,
# /usr/sbin/mosquitto or PATH (they restart them, so the system's broker on :1883 is not used).
# Without a broker, those tests fail when CI is set and skip otherwise; this step fails first.
ensure_mosquitto() {
	local bin="${CITYOPS_MOSQUITTO:-/usr/sbin/mosquitto}"
	if [ ! -x "$bin" ]; then
		bin="$(command -v mosquitto || true)"
	fi
	[ -n "$bin" ] && [ -x "$bin" ] || die "no mosquitto for the MQTT tests: apt-get install mosquitto (or set CITYOPS_MOSQUITTO)"
	export CITYOPS_MOSQUITTO="$bin"
	info "mosquitto: $("$bin" -h 2>/dev/null | head -1)"
}

# The backup drill runs pgbackrest (Debian's package) as the throwaway cluster's OS user.
ensure_pgbackrest() {
	command -v pgbackrest >/dev/null 2>&1 || die "no pgbackrest for the backup drill (tenants/restore_test.go): apt-get install pgbackrest"
	info "$(pgbackrest version)"
}

# ffmpeg, ffprobe and the GStreamer RTSP server (Debian's /usr/bin/python3 with gi) for the video tests.
ensure_video() {
	local bin
	for bin in ffmpeg ffprobe; do
		command -v "$bin" >/dev/null 2>&1 || die "no $bin for the video tests: apt-get install ffmpeg"
	done
	/usr/bin/python3 -c "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer" 2>/dev/null \
		|| die "no GStreamer RTSP server for Python at /usr/bin/python3 for the video tests: apt-get install python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-rtsp gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly"
	# (asked through the same Python bindings the test server uses: gst-inspect-1.0 is in another package)
	/usr/bin/python3 -c "import gi, sys; gi.require_version('Gst', '1.0'); from gi.repository import Gst; Gst.init(None); sys.exit(Gst.ElementFactory.find('x264enc') is None)" 2>/dev/null \
		|| die "no GStreamer x264enc for the video tests' test stream: apt-get install gstreamer1.0-plugins-ugly"
	info "video: $(ffmpeg -hide_banner -version | head -1)"
}

# The browser tests (app/browser_test.go) start Chromium from CITYOPS_CHROMIUM or /usr/bin/chromium.
ensure_chromium() {
	local bin="${CITYOPS_CHROMIUM:-/usr/bin/chromium}"
	[ -x "$bin" ] || die "no Chromium at $bin for the browser tests: apt-get install chromium (or set CITYOPS_CHROMIUM)"
	"$bin" --headless --no-sandbox --version >/dev/null 2>&1 || die "$bin does not start: $("$bin" --headless --no-sandbox --version 2>&1 | tail -1)"
	info "chromium: $("$bin" --version 2>/dev/null)"
}

# vault: the secrets tests run a real Vault dev server. A vault on PATH is used as is; otherwise
# tools/vault/build.sh builds Vault 1.21.0 from the Go module proxy once into the user cache
# (many minutes the first time on two cores; later runs reuse it).
ensure_vault() {
	if [ -n "${CITYOPS_VAULT_BIN:-}" ] && [ -x "$CITYOPS_VAULT_BIN" ]; then
		info "$("$CITYOPS_VAULT_BIN" version)"
		return
	fi
	if command -v vault >/dev/null 2>&1; then
		info "$(vault version)"
		return
	fi
	info "vault: tools/vault/build.sh (builds Vault 1.21.0 from the Go module proxy once)"
	CITYOPS_VAULT_BIN="$(bash tools/vault/build.sh)" \
		|| die "no vault binary: install HashiCorp Vault 1.21 (vault on PATH), or let tools/vault/build.sh reach the Go module proxy"
	export CITYOPS_VAULT_BIN
	info "$("$CITYOPS_VAULT_BIN" version)"
}

# stripe-mock: the billing tests start their own instance from PATH or GOBIN; it is installed
# here with go install (pinned) so that a fresh machine has it.
MAILPIT_VERSION="v1.33.1"
STRIPE_MOCK_VERSION="v0.203.0"
# mailpit: the notification tests (platform/notify) send real mail to a mailpit they start and read
# it back through its HTTP API. Without it they fail when CI is set and skip otherwise.
ensure_mailpit() {
	if command -v mailpit >/dev/null 2>&1 || [ -x "$GOBIN_DIR/mailpit" ]; then
		info "mailpit present"
		return
	fi
	info "go install github.com/axllent/mailpit@$MAILPIT_VERSION  (into $GOBIN_DIR)"
	GOBIN="$GOBIN_DIR" GOFLAGS= go install "github.com/axllent/mailpit@$MAILPIT_VERSION" \
		|| die "could not install mailpit $MAILPIT_VERSION (needs the Go module proxy): go install github.com/axllent/mailpit@$MAILPIT_VERSION"
	[ -x "$GOBIN_DIR/mailpit" ] || die "mailpit not found in $GOBIN_DIR after go install"
}

ensure_stripe_mock() {
	if command -v stripe-mock >/dev/null 2>&1 || [ -x "$GOBIN_DIR/stripe-mock" ]; then
		info "stripe-mock present"
		return
	fi
	info "go install github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION  (into $GOBIN_DIR)"
	GOBIN="$GOBIN_DIR" GOFLAGS= go install "github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION" \
		|| die "could not install stripe-mock $STRIPE_MOCK_VERSION (needs the Go module proxy): go install github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION"
	[ -x "$GOBIN_DIR/stripe-mock" ] || die "stripe-mock not found in $GOBIN_DIR after go install"
}

# versitygw: the object storage tests (internal/blob, app) run a real S3 server, versitygw with
# its posix backend, from PATH, CITYOPS_VERSITYGW_BIN or GOBIN; installed here with go install
# (pinned; keep in step with internal/blob/blobtest.VersitygwVersion).
VERSITYGW_VERSION="v1.8.0"
ensure_versitygw() {
	if [ -n "${CITYOPS_VERSITYGW_BIN:-}" ] && [ -x "$CITYOPS_VERSITYGW_BIN" ]; then
		info "versitygw: $CITYOPS_VERSITYGW_BIN"
		return
	fi
	if command -v versitygw >/dev/null 2>&1 || [ -x "$GOBIN_DIR/versitygw" ]; then
		info "versitygw present"
		return
	fi
	info "go install github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION  (into $GOBIN_DIR; a few minutes the first time)"
	GOBIN="$GOBIN_DIR" GOFLAGS= go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION" \
		|| die "could not install versitygw $VERSITYGW_VERSION, the S3 server the object storage tests run against (needs the Go module proxy): go install github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
	[ -x "$GOBIN_DIR/versitygw" ] || die "versitygw not found in $GOBIN_DIR after go install"
}

# ---------------------------------------------------------------------------

step_no=0
if [ -t 1 ]; then bold=$'\033[1m' red=$'\033[1;31m' reset=$'\033[0m'; else bold='' red='' reset=''; fi
say()  { printf '\n%s==> %s%s\n' "$bold" "$*" "$reset"; }
info() { printf '    %s\n' "$*"; }
die()  { printf '\n%sFAIL: %s%s\n' "$red" "$*" "$reset" >&2; exit 1; }
step() { step_no=$((step_no + 1)); say "[$step_no] $*"; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		sudo -n "$@"
	else
		return 1
	fi
}

# --- Go ---------------------------------------------------------------------
ensure_go() {
	if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
		export PATH="/usr/local/go/bin:$PATH"
	fi
	command -v go >/dev/null 2>&1 || die "go not found: install Go $(sed -n 's/^go //p' go.mod) (https://go.dev/dl/) and put it on PATH"
	local gobin
	gobin="$(go env GOBIN)"
	if [ -z "$gobin" ]; then
		gobin="$(go env GOPATH | cut -d: -f1)/bin"
	fi
	export GOBIN_DIR="$gobin"
	export PATH="$gobin:$PATH"
	info "$(go version)"
}

# --- Debian packages --------------------------------------------------------
have_initdb() {
	command -v initdb >/dev/null 2>&1 && return 0
	compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

have_pgbouncer() {
	command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ]
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# usable_local_server: is there a server on localhost:5432 that testdb can use
# (trust auth as postgres or root)? Without psql we can only see the port.
usable_local_server() {
	port_open 5432 || return 1
	if command -v psql >/dev/null 2>&1; then
		local u
		for u in postgres root; do
			PGCONNECT_TIMEOUT=5 psql -X -q -w "postgres://$u@localhost:5432/postgres?sslmode=disable" \
				-Atc 'SELECT 1' >/dev/null 2>&1 && return 0
		done
		return 1
	fi
	return 0
}

ensure_deb_packages() {
	local missing=()
	have_pgbouncer || missing+=(pgbouncer)
	if [ -z "${CITYOPS_TEST_DATABASE_URL:-}" ] && ! have_initdb && ! usable_local_server; then
		missing+=(postgresql)
	fi
	# go test -race needs cgo, i.e. a C compiler.
	command -v "$(go env CC)" >/dev/null 2>&1 || missing+=(gcc libc6-dev)
	local p
	for p in "${EXTRA_DEB_PACKAGES[@]}"; do
		dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
	done

	if [ "${#missing[@]}" -eq 0 ]; then
		info "all required Debian packages present"
		return
	fi
	info "missing: ${missing[*]}"
	command -v apt-get >/dev/null 2>&1 || die "apt-get not available; install these packages yourself: ${missing[*]}"
	as_root true || die "need root (or passwordless sudo) to install: apt-get install ${missing[*]}"
	info "apt-get update && apt-get install ${missing[*]}"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
		|| die "apt-get update failed (needed to install: ${missing[*]})"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
		|| die "apt-get install ${missing[*]} failed"
	have_pgbouncer || die "pgbouncer still not found after installing it (expected /usr/sbin/pgbouncer)"
}

# --- staticcheck ------------------------------------------------------------
ensure_staticcheck() {
	local want="${STATICCHECK_VERSION#v}"
	if command -v staticcheck >/dev/null 2>&1 && staticcheck -version 2>/dev/null | grep -q "($want)"; then
		info "$(staticcheck -version)"
		return
	fi
	if command -v staticcheck >/dev/null 2>&1; then
		info "found $(staticcheck -version 2>/dev/null || echo 'unknown staticcheck'), want $STATICCHECK_VERSION"
	fi
	info "go install honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION  (into $GOBIN_DIR)"
	GOBIN="$GOBIN_DIR" GOFLAGS= go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION" \
		|| die "could not install staticcheck $STATICCHECK_VERSION (needs network access to the Go module proxy)"
	[ -x "$GOBIN_DIR/staticcheck" ] || die "staticcheck not found in $GOBIN_DIR after go install"
	info "$("$GOBIN_DIR/staticcheck" -version)"
}

# --- PostgreSQL -------------------------------------------------------------
ensure_postgres() {
	if [ -n "${CITYOPS_TEST_DATABASE_URL:-}" ]; then
		info "using CITYOPS_TEST_DATABASE_URL (testdb fails the tests if it is unusable)"
		return
	fi
	if port_open 5432; then
		if usable_local_server; then
			info "PostgreSQL on localhost:5432 is usable"
		else
			info "PostgreSQL on localhost:5432 does not accept passwordless (trust) logins as postgres/root;"
			info "tests will use a throwaway cluster (internal/testdb) instead"
		fi
		return
	fi
	if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
		local ver
		for ver in $(ls /etc/postgresql | sort -rV); do
			[ -d "/etc/postgresql/$ver/main" ] || continue
			info "nothing on localhost:5432; starting cluster $ver/main"
			if as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start; then
				local i
				for i in $(seq 1 30); do port_open 5432 && break; sleep 0.5; done
			else
				info "could not start cluster $ver/main"
			fi
			break
		done
	fi
	if port_open 5432; then
		usable_local_server && info "PostgreSQL on localhost:5432 is usable" \
			|| info "PostgreSQL on localhost:5432 needs a password; tests will use a throwaway cluster"
		return
	fi
	have_initdb || die "no PostgreSQL server on localhost:5432 and no initdb for a throwaway cluster: apt-get install postgresql"
	info "no server on localhost:5432; tests will start a throwaway cluster (internal/testdb)"
}

# --- checks -----------------------------------------------------------------
check_gofmt() {
	step "gofmt"
	local files
	files="$(find . -name '*.go' -not -path './.git/*' -not -path './vendor/*' \
		-not -path '*/testdata/*' -not -path '*/node_modules/*' -print0 | xargs -0 -r gofmt -l)"
	if [ -n "$files" ]; then
		printf '    unformatted: %s\n' $files >&2
		die "gofmt: the files above need formatting (run: gofmt -w <file>)"
	fi
	info "ok"
}

check_tidy() {
	step "go mod tidy -diff"
	go mod tidy -diff || die "go.mod/go.sum are not tidy: run go mod tidy and commit the result"
	info "ok"
}

check_vet() {
	step "go vet ./..."
	go vet ./... || die "go vet ./... reported problems"
	info "ok"
}

check_staticcheck() {
	step "staticcheck ./...  ($STATICCHECK_VERSION)"
	staticcheck ./... || die "staticcheck ./... reported problems"
	info "ok"
}

run_tests() {
	step "go test -race -count=1 -timeout $GO_TEST_TIMEOUT ./... $GO_TEST_FLAGS"
	# shellcheck disable=SC2086 # GO_TEST_FLAGS is split on purpose
	CGO_ENABLED=1 go test -race -count=1 -timeout "$GO_TEST_TIMEOUT" $GO_TEST_FLAGS ./... \
		|| die "go test failed"
}

main() {
	local mode="${1:-test}"
	case "$mode" in
	test | lint) ;;
	*) die "usage: $0 [test|lint]" ;;
	esac
	local start=$SECONDS

	step "toolchain"
	ensure_go
	if [ "$mode" = test ]; then
		step "Debian packages"
		ensure_deb_packages
	fi
	step "staticcheck install"
	ensure_staticcheck
	if [ "$mode" = test ]; then
		step "PostgreSQL"
		ensure_postgres
		step "extra services"
		ensure_extra_services
		info "ok"
	fi

	check_gofmt
	check_tidy
	check_vet
	check_staticcheck
	if [ "$mode" = test ]; then
		run_tests
	fi
	say "all $mode steps passed ($((SECONDS - start))s)"
}

main "$@"
