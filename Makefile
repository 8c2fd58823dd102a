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

.PHONY: all modules clean help

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

clean:
	rm -rf $(BUILD_DIR)

help:
	@echo 'cohbuf targets:'
	@echo '  make [KERNELRELEASE=<release>]  build the modules into build/<release>/'
	@echo '  make clean                      remove build/'
