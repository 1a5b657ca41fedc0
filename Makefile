# sis — build, test, run. See README.md.
#   make          build build/sis
#   make test     C unit tests + Lua tests, on the release and the ASan+UBSan builds
#   make run      serve the REST API against the bundled demo school
#   make bench    benchmarks (print figures, assert nothing)
#   make stress   the REST front under hostile clients and pages (loopback, ~2 min, prints figures)
#   make deps     install the Debian packages (also run by test/run when one is missing)

PREFIX   ?= /usr/local
BUILD    ?= build
CC       ?= cc

# Debian packages: build, run, test and bench (README lists why each is needed).
DEB_PKGS := build-essential pkg-config liblua5.4-dev lua5.4 libcurl4-openssl-dev \
            libgumbo-dev lua-cjson-dev libcivetweb-dev libexpat1-dev libssl-dev \
            zlib1g-dev python3 curl valgrind wrk openssl man-db groff-base
PKGS     := lua5.4 lua5.4-cjson libcurl gumbo expat libssl libcrypto zlib

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

OPT      ?= -O2 -g
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS   += -std=c11 -D_GNU_SOURCE $(WARN) -Iinclude -Iengine $(PKG_CFLAGS) -MMD -MP
LDLIBS   += $(PKG_LIBS) -lcivetweb -lpthread -lm
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

SRC      := $(wildcard engine/*.c)
LIB_SRC  := $(filter-out engine/main.c,$(SRC))
TEST_SRC := $(wildcard tests/c/test_*.c)

OBJ      := $(SRC:engine/%.c=$(BUILD)/obj/%.o)
LIB_OBJ  := $(LIB_SRC:engine/%.c=$(BUILD)/obj/%.o)
ASAN_OBJ := $(SRC:engine/%.c=$(BUILD)/asan/obj/%.o)
ASAN_LIB := $(LIB_SRC:engine/%.c=$(BUILD)/asan/obj/%.o)
TESTS    := $(TEST_SRC:tests/c/%.c=$(BUILD)/%)
ASAN_TESTS := $(TEST_SRC:tests/c/%.c=$(BUILD)/asan/%)

.PHONY: all deps test test-fast run bench stress install uninstall clean asan
all: $(BUILD)/sis

$(BUILD)/obj/%.o: engine/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(OPT) -c -o $@ $<

$(BUILD)/asan/obj/%.o: engine/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -O1 -g $(SAN) -c -o $@ $<

$(BUILD)/sis: $(OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/asan/sis: $(ASAN_OBJ)
	$(CC) $(LDFLAGS) $(SAN) -o $@ $^ $(LDLIBS)

$(BUILD)/test_%: tests/c/test_%.c $(LIB_OBJ)
	$(CC) $(CFLAGS) $(OPT) -o $@ $^ $(LDLIBS)

$(BUILD)/asan/test_%: tests/c/test_%.c $(ASAN_LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -O1 -g $(SAN) -o $@ $^ $(LDLIBS)

asan: $(BUILD)/asan/sis

# Installs the Debian packages only when one is missing (idempotent; root or sudo).
deps:
	@dpkg -s $(DEB_PKGS) >/dev/null 2>&1 || { \
	  echo "installing Debian packages: $(DEB_PKGS)"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(DEB_PKGS); }

# The build is re-planned after deps so pkg-config sees freshly installed packages.
test: deps
	@$(MAKE) --no-print-directory $(BUILD)/sis $(BUILD)/asan/sis $(TESTS) $(ASAN_TESTS)
	@BUILD=$(BUILD) tests/run.sh

# The release build only (quicker while developing).
test-fast: deps
	@$(MAKE) --no-print-directory $(BUILD)/sis $(TESTS)
	@BUILD=$(BUILD) SIS_SKIP_ASAN=1 tests/run.sh

run: deps
	@$(MAKE) --no-print-directory $(BUILD)/sis
	@BUILD=$(BUILD) examples/demo-school.sh

bench: deps
	@$(MAKE) --no-print-directory $(BUILD)/sis
	@BUILD=$(BUILD) bench/run.sh

stress: deps
	@$(MAKE) --no-print-directory $(BUILD)/sis
	@python3 tests/stress/front_stress.py $(BUILD)/sis

# What `make install` puts under $(DESTDIR)$(PREFIX), and `make uninstall` removes
# (the shipped scripts whole, the other files by name; of the directories, only
# those that hold nothing else).
BINDIR   := $(PREFIX)/bin
SHAREDIR := $(PREFIX)/share/sis
MANDIR   := $(PREFIX)/share/man/man1
DOCDIR   := $(PREFIX)/share/doc/sis
DOC_FILES     = README.md CHANGELOG.md LICENSE
DOCS_FILES    = $(wildcard docs/*.md)
EXAMPLE_FILES = $(wildcard examples/*.lua) examples/sis.service examples/sis.env

install: $(BUILD)/sis
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SHAREDIR) $(DESTDIR)$(MANDIR) \
	  $(DESTDIR)$(DOCDIR)/docs $(DESTDIR)$(DOCDIR)/examples
	install -m 755 $(BUILD)/sis $(DESTDIR)$(BINDIR)/sis
	@# the shipped scripts are replaced whole (no stale file survives); a
	@# school's overlay lives elsewhere (SIS_SCRIPTS, docs/adapting.md)
	rm -rf $(DESTDIR)$(SHAREDIR)/scripts.new
	cp -r scripts $(DESTDIR)$(SHAREDIR)/scripts.new
	rm -rf $(DESTDIR)$(SHAREDIR)/scripts
	mv $(DESTDIR)$(SHAREDIR)/scripts.new $(DESTDIR)$(SHAREDIR)/scripts
	install -m 644 docs/sis.1 $(DESTDIR)$(MANDIR)/sis.1
	install -m 644 $(DOC_FILES) $(DESTDIR)$(DOCDIR)/
	install -m 644 $(DOCS_FILES) $(DESTDIR)$(DOCDIR)/docs/
	install -m 644 $(EXAMPLE_FILES) $(DESTDIR)$(DOCDIR)/examples/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sis $(DESTDIR)$(MANDIR)/sis.1
	rm -rf $(DESTDIR)$(SHAREDIR)/scripts
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,$(DOC_FILES) $(DOCS_FILES))
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/examples/,$(notdir $(EXAMPLE_FILES)))
	for d in $(DESTDIR)$(SHAREDIR) $(DESTDIR)$(DOCDIR); do \
	  [ ! -d "$$d" ] || find "$$d" -depth -type d -empty -delete; done

clean:
	rm -rf $(BUILD)

-include $(OBJ:.o=.d) $(ASAN_OBJ:.o=.d)
