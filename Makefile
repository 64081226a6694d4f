# luagan build.  `make` builds build/luagan (executable), build/luagan.so (Lua
# module) and build/libluagan_core.a; `make test` runs every test suite.
CC      ?= cc
OPT     ?= -O3 -march=native
# -O3: GCC 12 vectorises almost nothing at -O2.  No fast-math: results stay
# IEEE; we only promise not to read errno or FP exception flags, which lets
# sqrtf and guarded expressions vectorise.
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -fPIC -fopenmp $(OPT) -g \
           -fno-math-errno -fno-trapping-math \
           -I/usr/include/lua5.4 -I/usr/include/x86_64-linux-gnu/openblas-openmp -Icore
LDLIBS  += -L/usr/lib/x86_64-linux-gnu/openblas-openmp -lopenblas -fopenmp -ljpeg -lz -lmvec -lm
LUALIBS  = -llua5.4 -lreadline
BUILD   ?= build

# Open MPI, for lg.dist (lua/l_dist.c), when installed: found with
# pkg-config (ompi-c) or mpicc.  Without it luagan still builds and lg.dist
# is a job of one process.  `make MPI=0` leaves it out when installed.
MPI ?= $(shell pkg-config --exists ompi-c 2>/dev/null && echo 1 || \
         { mpicc --showme:version >/dev/null 2>&1 && echo 1; } || echo 0)
ifeq ($(MPI),1)
MPI_CFLAGS := $(shell pkg-config --cflags ompi-c 2>/dev/null || mpicc --showme:compile)
MPI_LIBS   := $(shell pkg-config --libs ompi-c 2>/dev/null || mpicc --showme:link)
endif
LDLIBS  += $(MPI_LIBS)

CORE_SRC = $(wildcard core/*.c)
BIND_SRC = $(filter-out lua/main.c,$(wildcard lua/*.c))
CORE_OBJ = $(CORE_SRC:%.c=$(BUILD)/%.o)
BIND_OBJ = $(BIND_SRC:%.c=$(BUILD)/%.o)
CTEST_SRC = $(wildcard tests/core/test_*.c)
CTESTS   = $(CTEST_SRC:tests/core/%.c=$(BUILD)/tests/%)

all: $(BUILD)/luagan $(BUILD)/luagan.so $(BUILD)/libluagan_core.a

# `make V=1` shows the full command lines
Q = $(if $(V),,@)

# -MMD writes each object's header dependencies next to it (.d), so that a
# header change rebuilds exactly the objects that include it.
$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

-include $(CORE_OBJ:.o=.d) $(BIND_OBJ:.o=.d) $(BUILD)/lua/main.d

# l_dist.o is rebuilt when the MPI configuration changes (Open MPI installed
# or removed since the last build): $(BUILD)/mpi.cfg holds the last one.
$(BUILD)/lua/l_dist.o: CFLAGS += $(MPI_CFLAGS) -DLG_HAVE_MPI=$(MPI)
$(BUILD)/lua/l_dist.o: $(BUILD)/mpi.cfg
$(BUILD)/mpi.cfg: FORCE
	@mkdir -p $(dir $@)
	@echo '$(MPI) $(MPI_CFLAGS) $(MPI_LIBS)' | cmp -s - $@ || echo '$(MPI) $(MPI_CFLAGS) $(MPI_LIBS)' > $@

$(BUILD)/libluagan_core.a: $(CORE_OBJ)
	$(Q)ar rcs $@ $^

$(BUILD)/luagan.so: $(BIND_OBJ) $(CORE_OBJ)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) -shared $(CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/lua/main.o: CFLAGS += -DLG_LUA_DIR='"$(abspath lua)"'

$(BUILD)/luagan: $(BUILD)/lua/main.o $(BIND_OBJ) $(CORE_OBJ)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LUALIBS) $(LDLIBS)

$(BUILD)/tests/%: tests/core/%.c tests/core/check.h $(BUILD)/libluagan_core.a
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -Itests/core $< -o $@ $(BUILD)/libluagan_core.a -lcmocka $(LDLIBS)

# libFuzzer targets (clang), the whole core built with ASan+UBSan.  `make fuzz`
# runs each for FUZZ_SECONDS from its seed corpus; `make test` runs a short
# pass (tests/run.sh).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = $(patsubst tests/fuzz/fuzz_%.c,$(BUILD)/fuzz/fuzz_%,$(wildcard tests/fuzz/fuzz_*.c))
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(CORE_SRC) $(wildcard core/*.h)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  FUZZ    $<")
	$(Q)clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fopenmp -Wno-pass-failed \
	  -I/usr/include/x86_64-linux-gnu/openblas-openmp -Icore $< $(CORE_SRC) -o $@ \
	  -L/usr/lib/x86_64-linux-gnu/openblas-openmp -lopenblas -ljpeg -lz -lmvec -lm
# ---------------------------------------------------------------- tests
# Each suite prints its own summary; tests/run.sh prints the closing
# "N passed, N failed" line over all of them.
test: deps-build all $(CTESTS) $(FUZZ_TARGETS)
	@OMP_NUM_THREADS=2 bash tests/run.sh $(BUILD)

# ASan + UBSan build in its own directory, same tests.  -march=native so that
# the code checked is the code that runs (the AVX-512/AVX2 sgemm and conv rows).
SAN_FLAGS = -fsanitize=address,undefined,float-cast-overflow
SAN_OPT   = -O1 -fno-omit-frame-pointer $(SAN_FLAGS) -fno-sanitize-recover=undefined,float-cast-overflow
SAN_MAKE  = BUILD=build-san LDFLAGS="$(SAN_FLAGS)" OPT="-march=native $(SAN_OPT)"
sanitize:
	$(MAKE) $(SAN_MAKE) test

# The Haswell (AVX2) kernels under the same sanitizers, on any x86-64: the C
# suites only, since the conv, gemm, fastmath and rng paths are what differ
# by instruction set.  CI runs it after `make sanitize`.
SAN_AVX2_MAKE = BUILD=build-san-avx2 LDFLAGS="$(SAN_FLAGS)" OPT="-march=haswell -mtune=haswell $(SAN_OPT)"
ctests: $(CTESTS)
sanitize-avx2: deps-build
	$(MAKE) $(SAN_AVX2_MAKE) ctests
	@OMP_NUM_THREADS=2 bash tests/run.sh build-san-avx2

# `make fuzz` also runs the Lua-API fuzzer (tests/fuzz/lua_api.lua) on the
# sanitizer build, FUZZ_SECONDS for each of LUA_FUZZ_SEEDS, every call logged
# to build-san/fuzz/lua_api-SEED.lua (a crash is its last line; the file
# replays the run).  LUA_FUZZ_FLAGS= (empty) also runs the known crash classes.
LUA_FUZZ_SEEDS ?= 1 2 3
LUA_FUZZ_FLAGS ?= --skip-known
fuzz: $(FUZZ_TARGETS)
	@for f in $(FUZZ_TARGETS); do n=$${f##*/fuzz_}; mkdir -p $(BUILD)/fuzz/corpus-$$n; \
	  $$f -max_total_time=$(FUZZ_SECONDS) $(BUILD)/fuzz/corpus-$$n tests/fuzz/corpus/$$n || exit 1; done
	$(MAKE) $(SAN_MAKE) build-san/luagan
	@mkdir -p build-san/fuzz; for s in $(LUA_FUZZ_SEEDS); do \
	  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:max_allocation_size_mb=256 OMP_NUM_THREADS=1 \
	  build-san/luagan tests/fuzz/lua_api.lua --seed $$s --seconds $(FUZZ_SECONDS) $(LUA_FUZZ_FLAGS) \
	    --log build-san/fuzz/lua_api-$$s.lua || { echo "lua_api: crash, the last call of" \
	    "build-san/fuzz/lua_api-$$s.lua; minimise with: build-san/luagan tests/fuzz/lua_api.lua" \
	    "--minimise build-san/fuzz/lua_api-$$s.lua"; exit 1; }; done

faults: all ; @$(BUILD)/luagan tests/faults/run.lua   # SIGKILL x50, full disk, two runs, symlinks on a run dir

bench: deps all
	@bash tests/bench/run.sh $(BUILD)

# The same benchmarks as an AVX2-only machine runs them, on any x86-64 one:
# luagan built for Haswell (build-avx2/: no AVX-512 in any kernel) against
# PyTorch with oneDNN capped at AVX2 (tests/bench/run.sh --isa avx2).
bench-avx2: deps
	$(MAKE) BUILD=build-avx2 OPT="-O3 -march=haswell -mtune=haswell" all
	@bash tests/bench/run.sh build-avx2 --isa avx2

demo: deps-build all
	$(BUILD)/luagan experiments/gan_mnist.lua

# The API reference, generated from the doc comments of lua/luagan/*.lua and
# lua/l_*.c (format: docs/design.md): $(BUILD)/docs/index.md and one markdown
# page per module.  help(x) in the REPL reads the same comments.
docs: $(BUILD)/luagan
	@$(BUILD)/luagan -e 'print(("$(BUILD)/docs/index.md: %d entries"):format(require("luagan.doc").generate("$(BUILD)/docs")))'

# Every experiment of experiments/plan.lua into runs/reproduce-MODE/, copied to
# experiments/results/, then the report (experiments/README.md and one page per
# paper, experiments/<exp>.md) from those results.  reproduce: reproduction
# size, 5 seeds per 2-D toy and 3 per image row (hours); reproduce-quick: smoke size (minutes).  JOBS=N runs
# N experiments at a time (default 2, one thread each); the driver's options:
# build/luagan experiments/reproduce.lua --help.
JOBS ?= 2
reproduce: all
	$(BUILD)/luagan experiments/reproduce.lua full --jobs $(JOBS)

reproduce-quick: all
	$(BUILD)/luagan experiments/reproduce.lua quick --jobs $(JOBS)

# `make install PREFIX=/usr/local` (DESTDIR=stage/ for packaging): the
# executable in BINDIR, the Lua module luagan.so in LIBDIR and the Lua package
# in LUADIR, the directories a stock lua5.4 searches under /usr/local.  The
# data the library reads at run time goes beside the package (LUADIR/luagan/
# models: the image metrics' classifier weights; LUADIR/luagan/datasets: the
# MNIST subset), where lg.metrics and lg.data look: luarocks deploys only the
# files under its lua/ dir, so that is the one place both installers share.
# luagan-scm-1.rockspec runs `make` and this rule with luarocks' directories.
# The binaries are those of `make all`, built with OPT (-march=native: for
# this machine's CPU).
PREFIX ?= /usr/local
BINDIR  = $(PREFIX)/bin
LIBDIR  = $(PREFIX)/lib/lua/5.4
LUADIR  = $(PREFIX)/share/lua/5.4
DOCDIR  = $(PREFIX)/share/doc/luagan
PKGDIR  = $(DESTDIR)$(LUADIR)/luagan

install: $(BUILD)/luagan $(BUILD)/luagan.so
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(PKGDIR)/gan $(PKGDIR)/models \
	  $(PKGDIR)/datasets/mnist10k $(DESTDIR)$(DOCDIR)
	install -m 755 $(BUILD)/luagan $(DESTDIR)$(BINDIR)/luagan
	install -m 755 $(BUILD)/luagan.so $(DESTDIR)$(LIBDIR)/luagan.so
	install -m 644 lua/luagan/*.lua $(PKGDIR)/
	install -m 644 lua/luagan/gan/*.lua $(PKGDIR)/gan/
	install -m 644 models/*.safetensors models/README.md $(PKGDIR)/models/
	install -m 644 datasets/README.md $(PKGDIR)/datasets/
	install -m 644 datasets/mnist10k/* $(PKGDIR)/datasets/mnist10k/
	install -m 644 README.md docs/*.md $(DESTDIR)$(DOCDIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/luagan $(DESTDIR)$(LIBDIR)/luagan.so
	rm -rf $(PKGDIR) $(DESTDIR)$(DOCDIR)

.PHONY: install uninstall

# Debian 12 packages, installed only when missing (so no root is needed once
# they are there).  deps-build: what building and testing need; deps: also
# the benchmark's reference (PyTorch) and the plotting tool.
BUILD_DEPS = build-essential pkg-config liblua5.4-dev lua5.4 libopenblas-openmp-dev libstb-dev \
             libcmocka-dev zlib1g-dev libjpeg62-turbo-dev libreadline-dev clang libclang-rt-14-dev libomp-dev \
             luarocks libopenmpi-dev openmpi-bin
ALL_DEPS   = $(BUILD_DEPS) python3-torch gnuplot-nox
define install_missing
	@if dpkg -s $(1) >/dev/null 2>&1; then :; else \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1); fi
endef
deps-build:
	$(call install_missing,$(BUILD_DEPS))
deps:
	$(call install_missing,$(ALL_DEPS))

# Fashion-MNIST (70k, IDX under /usr/share/datasets/fashion-mnist) from Debian.
datasets:
	$(call install_missing,dataset-fashion-mnist)

clean:
	rm -rf build build-san

.PHONY: FORCE all test sanitize sanitize-avx2 ctests bench bench-avx2 demo docs reproduce reproduce-quick deps deps-build datasets fuzz clean
