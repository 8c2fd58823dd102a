# SPDX-License-Identifier: GPL-2.0
#
# cohbuf: the user's entry points. `make help` lists them.

KERNELRELEASE ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KERNELRELEASE)/build

# Each kernel gets its own object tree, build/<release>/, a mirror of the
# kernel sources made of symlinks, so that builds for several kernels never
# share objects.
BUILD_DIR ?= $(CURDIR)/build
OBJ_DIR := $(BUILD_DIR)/$(KERNELRELEASE)

include version.mk

KSOURCES := Kbuild VERSION version.mk $(wildcard compat/*.h compat/*.sh \
	compat/probes/*.c exporter/Kbuild exporter/*.[ch] importer/Kbuild \
	importer/*.[ch] uapi/*.h)

.PHONY: all modules clean help deps selftests tools check check-debug debug-kernel demo \
	checkpatch lint man bench check-python

all: modules

modules:
	@test -d $(KDIR) || { echo "cohbuf: no kernel build tree at $(KDIR);" \
		"install linux-headers-$(KERNELRELEASE) or set KDIR" >&2; exit 1; }
	@mkdir -p $(OBJ_DIR)
	@find $(OBJ_DIR) -xtype l -delete
	@for f in $(KSOURCES); do \
		mkdir -p $(OBJ_DIR)/$$(dirname $$f); \
		ln -sfn $(CURDIR)/$$f $(OBJ_DIR)/$$f; \
	done
	$(MAKE) -C $(KDIR) M=$(OBJ_DIR) modules

deps:
	@scripts/deps

# The kselftest harness and checkpatch come from Debian's linux-source-6.12,
# extracted into a cache outside the repository by scripts/linux-source.
selftests: deps
	@$(MAKE) --no-print-directory -C selftests O=$(BUILD_DIR)/selftests \
		KSFT_INC=$$(scripts/linux-source)/tools/testing/selftests

tools:
	@$(MAKE) --no-print-directory -C tools O=$(BUILD_DIR)/tools

checkpatch: deps
	@perl $$(scripts/linux-source)/scripts/checkpatch.pl --strict --no-tree \
		--terse --show-types -f $(filter %.c %.h,$(KSOURCES))

check:
	@scripts/check

# The selftests and the reliability suite at full counts on the debug kernel
# (KASAN, lockdep, kmemleak, DMA-API debug, fault injection), built once
# into the cache by scripts/debug-kernel.
check-debug:
	@scripts/check --debug

debug-kernel:
	@scripts/debug-kernel >/dev/null

# W=1 and sparse builds for both kernels, checkpatch, the uapi headers
# alone as C and C++, -Werror and cppcheck on user space, man --warnings,
# and clang-format as advice: see scripts/lint. `make check` runs it first.
lint:
	@scripts/lint

# The Python module's unittests (python/tests/) on 6.1 and 6.12.
check-python:
	@for k in 6.1 6.12; do \
		scripts/vm-run --kernel $$k -- env PYTHONPATH=$(CURDIR)/python \
			PYTHONDONTWRITEBYTECODE=1 python3 -m unittest discover \
			-s $(CURDIR)/python/tests || exit 1; \
	done

demo: deps
	@$(MAKE) --no-print-directory tools
	@scripts/vm-run --kernel 6.12 -- tools/demo/run $(BUILD_DIR)/tools

# `make bench`: every sharing mechanism side by side, one boot per kernel
# (scripts/bench); results in build/bench/.
bench:
	@scripts/bench

clean:
	rm -rf $(BUILD_DIR)

# ---- Packaging and installing (DKMS, make install): see README.md ----

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/cohbuf
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DKMS_SRCDIR ?= /usr/src/cohbuf-$(COHBUF_VERSION)

TOOLS_OUT := $(BUILD_DIR)/tools
MAN_PAGES := $(patsubst man/%.scd,$(BUILD_DIR)/man/%,$(wildcard man/*.scd))
LIB_SO := libcohbuf.so.$(COHBUF_VERSION)
# What DKMS needs to build the modules, besides dkms.conf. The test importer
# is test infrastructure: it is left out unless COHBUF_IMPORTER=1.
COHBUF_IMPORTER ?=
DKMS_FILES := Makefile $(if $(COHBUF_IMPORTER),$(KSOURCES),$(filter-out importer/%,$(KSOURCES)))

.PHONY: install uninstall install-modules install-user uninstall-modules \
	uninstall-user dkms-source dkms-install dkms-uninstall deb check-deb

man: $(MAN_PAGES)

$(BUILD_DIR)/man/%: man/%.scd
	@mkdir -p $(dir $@)
	scdoc <$< >$@

# Modules go to /lib/modules/<release>/updates/ (the test importer only with
# COHBUF_IMPORTER=1); depmod runs only for the live system (no DESTDIR): a
# staging tree has no module index of its own.
# Distribution kernels ship no signing key, so kbuild's signing is turned
# off; DKMS signs with its own key (see README.md, Secure Boot).
INSTALLED_MODULES := exporter/cohbuf importer/cohbuf_importer

install-modules: modules
	$(MAKE) -C $(KDIR) M=$(OBJ_DIR) INSTALL_MOD_PATH=$(DESTDIR) \
		INSTALL_MOD_DIR=updates CONFIG_MODULE_SIG_ALL= modules_install
	$(if $(COHBUF_IMPORTER),,rm -rf $(DESTDIR)/lib/modules/$(KERNELRELEASE)/updates/importer)
	$(if $(DESTDIR),,depmod -a $(KERNELRELEASE))

install-user: tools man
	install -D -m 755 $(TOOLS_OUT)/cohbuf $(DESTDIR)$(BINDIR)/cohbuf
	install -D -m 644 -t $(DESTDIR)$(INCLUDEDIR)/cohbuf \
		uapi/cohbuf.h uapi/cohbuf_importer.h tools/lib/libcohbuf.h
	install -D -m 644 $(TOOLS_OUT)/lib/libcohbuf.a $(DESTDIR)$(LIBDIR)/libcohbuf.a
	install -D -m 755 $(TOOLS_OUT)/lib/$(LIB_SO) $(DESTDIR)$(LIBDIR)/$(LIB_SO)
	ln -sf $(LIB_SO) $(DESTDIR)$(LIBDIR)/libcohbuf.so.0
	ln -sf libcohbuf.so.0 $(DESTDIR)$(LIBDIR)/libcohbuf.so
	@mkdir -p $(DESTDIR)$(PKGCONFIGDIR)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(COHBUF_VERSION)|' \
		tools/lib/cohbuf.pc.in >$(DESTDIR)$(PKGCONFIGDIR)/cohbuf.pc
	for page in $(MAN_PAGES); do \
		section=$${page##*.}; \
		install -D -m 644 $$page $(DESTDIR)$(MANDIR)/man$$section/$${page##*/} || exit 1; \
	done
	install -D -m 644 udev/70-cohbuf.rules $(DESTDIR)$(DATADIR)/70-cohbuf.rules
	install -D -m 644 udev/72-cohbuf-dma-heap.rules \
		$(DESTDIR)$(DATADIR)/72-cohbuf-dma-heap.rules
	$(if $(DESTDIR),,ldconfig)

install: install-modules install-user

uninstall-modules:
	rm -f $(addprefix $(DESTDIR)/lib/modules/$(KERNELRELEASE)/updates/, \
		$(foreach m,$(INSTALLED_MODULES),$(m).ko $(m).ko.xz $(m).ko.zst $(m).ko.gz))
	$(if $(DESTDIR),,depmod -a $(KERNELRELEASE))

uninstall-user:
	rm -f $(DESTDIR)$(BINDIR)/cohbuf
	rm -rf $(DESTDIR)$(INCLUDEDIR)/cohbuf $(DESTDIR)$(DATADIR)
	rm -f $(addprefix $(DESTDIR)$(LIBDIR)/,libcohbuf.a $(LIB_SO) libcohbuf.so.0 libcohbuf.so)
	rm -f $(DESTDIR)$(PKGCONFIGDIR)/cohbuf.pc
	rm -f $(foreach p,$(MAN_PAGES),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(p)))/$(notdir $(p)))
	$(if $(DESTDIR),,ldconfig)

uninstall: uninstall-modules uninstall-user

# The source tree DKMS builds from: /usr/src/cohbuf-<version>, with the
# version written into dkms.conf as dh_dkms -V would.
dkms-source:
	rm -rf $(DESTDIR)$(DKMS_SRCDIR)
	for f in $(DKMS_FILES); do \
		install -D -m 644 $$f $(DESTDIR)$(DKMS_SRCDIR)/$$f || exit 1; \
	done
	chmod 755 $(DESTDIR)$(DKMS_SRCDIR)/compat/gen-probes.sh
	sed 's/^PACKAGE_VERSION="#MODULE_VERSION#"$$/PACKAGE_VERSION="$(COHBUF_VERSION)"/' \
		dkms.conf.in >$(DESTDIR)$(DKMS_SRCDIR)/dkms.conf
	$(if $(COHBUF_IMPORTER),printf '%s\n' 'BUILT_MODULE_NAME[1]="cohbuf_importer"' \
		'BUILT_MODULE_LOCATION[1]="build/$$kernelver/importer/"' \
		'DEST_MODULE_LOCATION[1]="/updates/dkms"' >>$(DESTDIR)$(DKMS_SRCDIR)/dkms.conf)

# Debian packages (cohbuf-dkms, libcohbuf0, libcohbuf-dev, cohbuf-tools,
# python3-cohbuf) into build/deb/, checked by lintian: see scripts/deb.
deb:
	@scripts/deb

# Install, upgrade and purge the packages in a clean Debian 12 build root,
# and run what DKMS built there in 6.1 and 6.12 guests: see scripts/deb-test.
check-deb:
	@scripts/deb-test

# Register, build and install for KERNELRELEASE (default: the running
# kernel); DKMS rebuilds for every kernel installed later (AUTOINSTALL).
dkms-install: dkms-source
	dkms add -m cohbuf -v $(COHBUF_VERSION)
	dkms build -m cohbuf -v $(COHBUF_VERSION) -k $(KERNELRELEASE)
	dkms install -m cohbuf -v $(COHBUF_VERSION) -k $(KERNELRELEASE)

dkms-uninstall:
	-dkms remove -m cohbuf -v $(COHBUF_VERSION) --all
	rm -rf $(DKMS_SRCDIR)

define HELP_TEXT
Usage: make [TARGET] [KERNELRELEASE=<release>]

Build
  all, modules       the modules for KERNELRELEASE (default: the running
                     kernel) into build/<release>/; W=1, C=1|2 and CHECK=
                     pass through
  tools              libcohbuf, the cohbuf command, the demo and the
                     benchmark into build/tools/
  selftests          the selftests into build/selftests/
  man                the man pages into build/man/
  deps               install the Debian packages cohbuf needs (as root)
  clean              remove build/

Test
  demo               two processes share one buffer, in a 6.12 guest
  check              lint, make install and every selftest on 6.1, 6.12 and
                     the newest Debian kernel (7.3, from trixie-backports)
  check-debug        every selftest and the reliability suite (fault
                     injection, kill -9, races, fuzzing) on the debug kernel
                     (KASAN, lockdep, kmemleak, DMA-API debug)
  debug-kernel       build the debug kernel into $$COHBUF_CACHE/debug-kernel/
  check-python       the Python module's tests, in 6.1 and 6.12 guests
  lint               W=1 and sparse on 6.1 and 6.12, W=1 on Debian 13's
                     6.12, 7.3 and sid's newest, checkpatch, headers,
                     -Werror and cppcheck on user space, man pages
  checkpatch         checkpatch.pl --strict on the kernel and uapi sources

Benchmark
  bench              cohbuf against the other ways to share memory, on 6.1
                     and 6.12: build/bench/bench.md, .png and .csv

Install (DESTDIR=, PREFIX=/usr/local)
  install            install-modules and install-user
  install-modules    the module into /lib/modules/<release>/updates/ (and
                     the test importer with COHBUF_IMPORTER=1)
  install-user       headers, libcohbuf, cohbuf.pc, the cohbuf command, the
                     man pages and a udev rule
  uninstall, uninstall-modules, uninstall-user
                     remove what the matching install target installed

Packaging (DKMS, as root)
  dkms-source        the source tree DKMS builds from, /usr/src/cohbuf-<version>
                     (the test importer too with COHBUF_IMPORTER=1)
  dkms-install       dkms-source, then dkms add, build and install
  dkms-uninstall     dkms remove --all, and the source tree
  deb                the Debian packages into build/deb/, and lintian
  check-deb          deb, then install, upgrade and purge them in a Debian
                     12 build root ($$COHBUF_CACHE/deb-root/), with the
                     DKMS-built module tested in 6.1 and 6.12 guests

  help               this list
endef
export HELP_TEXT

help:
	@echo "$$HELP_TEXT"
