# Thin wrapper over CMake: the README's two commands, and a few conveniences.
#   make demo    install missing dependencies, build, run the simulated-board demo
#   make check   install missing dependencies, build, run the whole suite (and again under ASan/UBSan)
BUILD ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build demo check check-fast check-asan check-fuzz format clean

all: build

deps:
	@./scripts/install-deps

build:
	cmake -S . -B $(BUILD) -DHWB_WERROR=ON $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

demo: deps build
	./scripts/demo.sh $(BUILD)

# The whole suite, then the same suite (less the QEMU layer, whose guest has no
# ASan runtime) under AddressSanitizer + UndefinedBehaviorSanitizer, then a
# bounded run of the libFuzzer targets (clang).
check: deps check-fast check-asan check-fuzz

check-fast: build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)

check-asan:
	cmake -S . -B $(BUILD_ASAN) -DHWB_WERROR=ON -DHWB_SANITIZE=ON -DHWB_VM_TESTS=OFF $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD_ASAN) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --test-dir $(BUILD_ASAN) --output-on-failure -j$(JOBS)

check-fuzz:
	CC=clang cmake -S . -B $(BUILD_FUZZ) -DHWB_WERROR=ON -DHWB_FUZZ=ON -DHWB_VM_TESTS=OFF $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD_FUZZ) -j$(JOBS) --target fuzz_labels fuzz_compose fuzz_router fuzz_request
	ctest --test-dir $(BUILD_FUZZ) --output-on-failure -L fuzz

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ) .demo
