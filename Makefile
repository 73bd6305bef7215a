# SPDX-License-Identifier: GPL-2.0-or-later
# Thin wrapper over CMake: the README's two commands, and a few conveniences.
#   make demo    install missing build dependencies, build, run the simulated-board demo
#   make check   install missing test dependencies, build, run the whole suite (and again
#                under ASan/UBSan), the fuzzers, and build and check the Debian packages
BUILD ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
# The kernel-device tests boot an x86_64 guest running this machine's binaries.
ifeq ($(shell dpkg --print-architecture 2>/dev/null),amd64)
VM_TESTS ?= ON
else
VM_TESTS ?= OFF
endif

.PHONY: all deps deps-build build demo check check-fast check-asan check-fuzz check-packages \
	format clean

all: build

# Everything make check needs; deps-build only what building and the demo need.
deps:
	@./scripts/install-deps --test

deps-build:
	@./scripts/install-deps --build

build: deps-build
	cmake -S . -B $(BUILD) -DHWB_WERROR=ON -DHWB_STRICT=ON -DHWB_VM_TESTS=$(VM_TESTS) $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

demo: build
	./scripts/demo.sh $(BUILD)

# The whole suite, then the same suite (less the QEMU layer, whose guest has no
# ASan runtime) under AddressSanitizer + UndefinedBehaviorSanitizer, then a
# bounded run of the libFuzzer targets (clang), then the Debian packages.
check: deps check-fast check-asan check-fuzz check-packages

check-fast: build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)

check-asan:
	cmake -S . -B $(BUILD_ASAN) -DHWB_WERROR=ON -DHWB_SANITIZE=ON -DHWB_VM_TESTS=OFF $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD_ASAN) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --test-dir $(BUILD_ASAN) --output-on-failure -j$(JOBS)

check-fuzz:
	CC=clang cmake -S . -B $(BUILD_FUZZ) -DHWB_WERROR=ON -DHWB_FUZZ=ON -DHWB_VM_TESTS=OFF $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD_FUZZ) -j$(JOBS) --target fuzz_labels fuzz_compose fuzz_router fuzz_request fuzz_http
	ctest --test-dir $(BUILD_FUZZ) --output-on-failure -L fuzz

# dpkg-buildpackage on a copy of the tree, lintian, then the packages unpacked
# into a scratch root and run from there (scripts/check-packages).
check-packages:
	JOBS=$(JOBS) ./scripts/check-packages

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ) .demo
