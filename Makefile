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

KSOURCES := Kbuild $(wildcard compat/*.h compat/*.sh compat/probes/*.c \
	exporter/Kbuild exporter/*.[ch] importer/Kbuild importer/*.[ch] uapi/*.h)

.PHONY: all modules clean help deps selftests tools check demo checkpatch

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
		--terse --show-types -f $(filter-out Kbuild %/Kbuild %.sh,$(KSOURCES))

check:
	@scripts/check

demo: deps
	@$(MAKE) --no-print-directory tools
	@scripts/vm-run --kernel 6.12 -- tools/demo/run $(BUILD_DIR)/tools

clean:
	rm -rf $(BUILD_DIR)

help:
	@echo 'cohbuf targets:'
	@echo '  make [KERNELRELEASE=<release>]  build the modules into build/<release>/'
	@echo '                                  (W=1, C=1|2 and CHECK= pass through)'
	@echo '  make demo      two processes share one buffer, in a 6.12 guest'
	@echo '  make check     builds, checkpatch and every selftest on 6.1 and 6.12'
	@echo '  make selftests build the selftests into build/selftests/'
	@echo '  make tools     build the user-space tools into build/tools/'
	@echo '  make checkpatch  checkpatch.pl --strict on the kernel and uapi sources'
	@echo '  make deps      install the Debian packages cohbuf needs (as root)'
	@echo '  make clean     remove build/'
