# SPDX-License-Identifier: GPL-2.0
#
# The one version of cohbuf, the file VERSION, for Makefile, tools/Makefile,
# selftests/Makefile and Kbuild (which hands it to both modules'
# MODULE_VERSION). The name is prefixed because kbuild exports VERSION, the
# kernel's own.
COHBUF_VERSION := $(strip $(file <$(dir $(lastword $(MAKEFILE_LIST)))VERSION))
