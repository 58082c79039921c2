# knockguard build. `make` builds; `make check` installs missing Debian packages
# (when root), builds with gcc and clang, runs the unit tests plain and under
# ASan+UBSan, the Zeek conformance kit and the no-false-alarm replay when
# ../shared is present, then (as root) the syslog end-to-end test against a
# private rsyslogd and the capture fixtures recorded from real peers.

CC      ?= cc
BUILD   ?= build
OPT     ?= -O2
CFLAGS  += -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -g $(OPT) -Iguard
LDLIBS  += -lpcap -lm -liniparser -lnftnl -lmnl -lnetfilter_queue

ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRCS  := $(sort $(shell find guard -name '*.c' ! -name main.c ! -path 'guard/ctl/*'))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
SUPPORT_SRCS := $(sort $(wildcard tests/support/*.c))
SUPPORT_OBJS := $(SUPPORT_SRCS:%.c=$(BUILD)/%.o)
TEST_SRCS := $(sort $(wildcard tests/unit/test_*.c))
TEST_BINS := $(TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps unit unit-asan check conformance fixtures bench bench-tools demo clean format lint

all: $(BUILD)/knockguard $(BUILD)/knockguardctl

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libguard.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/knockguard: $(BUILD)/guard/main.o $(BUILD)/libguard.a
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
	@[ "$(BUILD)" != build ] || ln -sf $(BUILD)/knockguard knockguard

$(BUILD)/knockguardctl: $(BUILD)/guard/ctl/knockguardctl.o $(BUILD)/libguard.a
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
	@[ "$(BUILD)" != build ] || ln -sf $(BUILD)/knockguardctl knockguardctl

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(SUPPORT_OBJS) $(BUILD)/libguard.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -lcmocka -o $@

deps:
	@vm/install-deps.sh

# Every unit test binary, one after the other; fails if any fails.
unit: $(TEST_BINS) $(BUILD)/knockguard $(BUILD)/knockguardctl
	@set -e; for t in $(TEST_BINS); do echo "== $$t"; $$t; done
	@tests/cli/run.sh $(BUILD)/knockguard
	@tests/cli/ctl.sh $(BUILD)/knockguardctl

unit-asan:
	$(MAKE) BUILD=build-asan SAN=1 OPT=-O1 unit

conformance: $(BUILD)/knockguard
	@tests/conformance/run.sh $(BUILD)/knockguard
	@tests/conformance/false_alarms.sh $(BUILD)/knockguard

# Capture fixtures recorded from real peers (knockd, fwknop, sshd, openvpn,
# wireguard-go, nmap, a BITS-like server) in private netns, then replayed and
# checked against tests/fixtures/expected.tsv. Needs root (skips otherwise).
# FIXTURES_DIR=dir keeps the pcaps there.
FIXTURES_DIR ?=
fixtures: $(BUILD)/knockguard
	@tests/fixtures/install-peers.sh
	@d='$(FIXTURES_DIR)'; \
	if [ -z "$$d" ]; then d=$$(mktemp -d "$${TMPDIR:-/tmp}/kg-fixtures.XXXXXX") && trap 'rm -rf "$$d"' EXIT; \
	else mkdir -p "$$d"; fi; \
	tests/fixtures/record.sh "$$d"; r=$$?; \
	tests/fixtures/check.sh $(BUILD)/knockguard "$$d" && [ $$r -eq 0 ]

# End-to-end tests against real daemons (they need root and skip without it).
.PHONY: e2e
E2E_BINS := $(BUILD)/tests/e2e/send_alert $(BUILD)/tests/e2e/nft_tool $(BUILD)/tests/e2e/nfq_echo

$(BUILD)/tests/e2e/send_alert: $(BUILD)/tests/e2e/send_alert.o $(BUILD)/libguard.a
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/e2e/nft_tool: $(BUILD)/tests/e2e/nft_tool.o $(BUILD)/libguard.a
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/e2e/nfq_echo: $(BUILD)/tests/e2e/nfq_echo.o $(BUILD)/libguard.a
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

e2e: $(E2E_BINS)
	@set -e; for t in tests/e2e/*.sh; do echo "== $$t"; $$t $(BUILD); done

check: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) unit-asan
	$(MAKE) CC=clang BUILD=build-clang all
	$(MAKE) conformance
	$(MAKE) e2e
	$(MAKE) fixtures

bench: deps
	$(MAKE) all
	@tests/bench/run.sh $(BUILD)

demo: deps
	@vm/demo.sh

format:
	clang-format -i $$(find guard tests -name '*.[ch]')

# Benchmark helpers, built by tests/bench/run.sh: a pcap generator and the bare
# libpcap read loop knockguard is measured against. One step from source (no .o)
# so they never mix with libguard's objects.
BENCH_BINS := $(BUILD)/bench/gen_pcap $(BUILD)/bench/pcap_loop

$(BUILD)/bench/%: tests/bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) $< $(LDLIBS) -o $@

bench-tools: $(BENCH_BINS)

# Static analysis; not part of `make check`.
CPPCHECK_FLAGS := --std=c11 --enable=warning,style,performance,portability --inline-suppr \
	--error-exitcode=1 --quiet -j 2 -Iguard -D_DEFAULT_SOURCE --suppress=missingIncludeSystem

lint:
	@command -v cppcheck >/dev/null || \
		{ echo "lint: cppcheck is not installed (apt-get install cppcheck)" >&2; exit 1; }
	cppcheck $(CPPCHECK_FLAGS) guard tests/bench

clean:
	rm -rf build build-asan build-clang knockguard knockguardctl

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
