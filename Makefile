# mlpc — build, test, install.
#
#   make            build/mlpc and build/libmlprt.a (and build/libmlpmpi.a when mpicc is found)
#   make test       install missing packages, build, run the whole suite
#   make demo       install missing packages, build, run an example end to end
#   make asan       the suite under AddressSanitizer + UBSan (in build/asan)
#   make valgrind   the runtime's suites under valgrind memcheck
#   make fuzz       libFuzzer on the parser (FUZZ_SECONDS, default 60)
#   make install    PREFIX=/usr/local (bin, lib, lib/pkgconfig, include/mlp, share/mlp/stdlib,
#                   the man pages, bash and zsh completion, Vim syntax and, in share/mlp/vscode,
#                   a VS Code extension with the TextMate grammar of .mlp)
#   make spec       regenerate SPEC.md's reference tables from the builtin registry
#   make golden     regenerate the lowering goldens (tests/golden): --emit-ir of every
#                   example and the errors of every tests/golden/lower spec

CC       ?= cc
BUILD    ?= build
PREFIX   ?= /usr/local
VERSION  := 0.1.0
OPT      ?= -O2
SAN      ?=

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-unused-parameter
CFLAGS   := -std=c11 $(OPT) -g $(WARN) $(SAN) -fPIC
COMPILER_INC := -Icompiler/front -Icompiler/middle -Icompiler/back -Icompiler/tools
CPPFLAGS := -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DMLP_VERSION='"$(VERSION)"' \
            -Iinclude $(COMPILER_INC) -I$(BUILD) -I. -MMD -MP
LDFLAGS  := $(SAN)

LLVM_CONFIG ?= llvm-config-19
BLAS_CFLAGS := $(shell pkg-config --cflags openblas 2>/dev/null)
BLAS_LIBS   := $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas)
CHECK_LIBS  := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)
# The SQL sources: SQLite and PostgreSQL's client library.
SQL_CFLAGS  := $(shell pkg-config --cflags libpq 2>/dev/null || echo -I/usr/include/postgresql)
SQL_LIBS    := -lsqlite3 -lpq
RT_LIBS     := $(BLAS_LIBS) $(SQL_LIBS) -lcjson -lsodium -lz -lm -lpthread
# codegen.c and emit.c include the LLVM-C headers; mlpc links the shared LLVM.
LLVM_CFLAGS := $(shell $(LLVM_CONFIG) --cflags 2>/dev/null)
LLVM_LIBS   := $(shell $(LLVM_CONFIG) --ldflags 2>/dev/null) -lLLVM-19

# ---- the compiler: front end, middle, back ends, tools; the driver -------
FRONT_SRC := $(wildcard compiler/*/*.c)
FRONT_OBJ := $(FRONT_SRC:%.c=$(BUILD)/%.o) $(BUILD)/grammar/mlp.tab.o $(BUILD)/grammar/lex.yy.o
MLPC_LIBS := $(BUILD)/libmlpfront.a

# ---- the runtime library linked into generated programs ------------------
# runtime/train/mpi.c is libmlpmpi.a's alone, built by Open MPI's mpicc when
# it is installed; without it, mlpc refuses environment.distributed = mpi.
MPI_SRC := runtime/train/mpi.c
RT_SRC := $(filter-out $(MPI_SRC),$(wildcard runtime/*/*.c runtime/*/*/*.c))
RT_OBJ := $(RT_SRC:%.c=$(BUILD)/%.o)
MPICC  ?= mpicc
MPI_LIB := $(if $(shell command -v $(MPICC) 2>/dev/null),$(BUILD)/libmlpmpi.a)

# ---- the predictor runtime for AArch64 (make cross) ---------------------
# What a predictor links: the row program, the cleaning ops it replays and
# the run-file plumbing, and the normalization and embedding layers (plain loops): with
# libc and libm only, as on the host. Not the other layer kernels: a
# cross-compiled predictor's dense layers are limited to 4096 weights each
# (or int8 ones). Nor the IDX and SQL sources, which only a training
# program reads.
CROSS_CC    ?= aarch64-linux-gnu-gcc
CROSS_AR    ?= aarch64-linux-gnu-ar
CROSS_FOUND := $(shell command -v $(CROSS_CC) 2>/dev/null)
CROSS_SRC   := $(wildcard runtime/predict/*.c) runtime/core/fail.c runtime/core/files.c runtime/core/fpenv.c \
               runtime/kernels/layers/norm.c runtime/kernels/layers/forest.c runtime/kernels/layers/svm.c \
               runtime/kernels/layers/embedding.c \
               $(filter-out runtime/data/idx.c runtime/data/sql.c,$(wildcard runtime/data/*.c))
CROSS_OBJ   := $(CROSS_SRC:%.c=$(BUILD)/aarch64/%.o)

# ---- tests: one Check suite per tests/unit/check_NAME.c ------------------
TEST_SRC    := $(wildcard tests/unit/check_*.c)
TEST_OBJ    := $(TEST_SRC:%.c=$(BUILD)/%.o) $(BUILD)/tests/unit/main.o $(BUILD)/tests/unit/testutil.o
SUITE_NAMES := $(patsubst tests/unit/check_%.c,%,$(TEST_SRC))

.PHONY: all test test-only demo asan valgrind fuzz fuzz-only install clean deps spec golden cross
all: $(BUILD)/mlpc $(BUILD)/libmlprt.a $(MPI_LIB)
cross: $(BUILD)/aarch64/libmlprt.a

deps:
	@sh scripts/install-deps.sh

spec: $(BUILD)/mlpc
	sh scripts/spec-tables.sh $(BUILD)/mlpc

# Read the diff before committing what this writes.
golden: $(BUILD)/mlpc
	@for f in examples/*.mlp; do \
	  n=$$(basename $$f .mlp); $(BUILD)/mlpc build --emit-ir $$f > tests/golden/ir/$$n.json || exit 1; \
	done
	@for f in tests/golden/lower/*.mlp; do \
	  if MLP_STDLIB=stdlib $(BUILD)/mlpc build --emit-ir $$f > /dev/null 2> $${f%.mlp}.err; then \
	    echo "$$f: lowers, yet a lowering golden must be refused"; exit 1; \
	  fi; \
	done

$(BUILD)/libmlpfront.a: $(FRONT_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libmlprt.a: $(RT_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libmlpmpi.a: $(MPI_SRC:%.c=$(BUILD)/%.o)
	@rm -f $@
	ar rcs $@ $^
$(MPI_SRC:%.c=$(BUILD)/%.o): $(MPI_SRC)
	@mkdir -p $(dir $@)
	$(MPICC) $(CPPFLAGS) $(CFLAGS) -O3 -c -o $@ $<

$(BUILD)/mlpc: $(BUILD)/compiler/main.o $(MLPC_LIBS) $(BUILD)/libmlprt.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LLVM_LIBS) $(RT_LIBS)
$(filter $(BUILD)/compiler/back/% $(BUILD)/compiler/tools/%,$(FRONT_OBJ)) $(BUILD)/compiler/main.o \
  $(BUILD)/tests/unit/check_codegen.o: CPPFLAGS += $(LLVM_CFLAGS)

# generated parser and lexer
$(BUILD)/grammar/mlp.tab.c $(BUILD)/grammar/mlp.tab.h: grammar/mlp.y
	@mkdir -p $(BUILD)/grammar
	bison -Wall -Werror -d -o $(BUILD)/grammar/mlp.tab.c $<
$(BUILD)/grammar/lex.yy.c $(BUILD)/grammar/lex.yy.h: grammar/mlp.l $(BUILD)/grammar/mlp.tab.h
	@mkdir -p $(BUILD)/grammar
	flex -o $(BUILD)/grammar/lex.yy.c --header-file=$(BUILD)/grammar/lex.yy.h $<
$(BUILD)/grammar/%.o: $(BUILD)/grammar/%.c
	$(CC) $(CPPFLAGS) -I$(BUILD)/grammar $(CFLAGS) -Wno-unused-function -Wno-sign-compare -c -o $@ $<
# every front-end and test object may include the generated headers
$(FRONT_SRC:%.c=$(BUILD)/%.o) $(BUILD)/compiler/main.o $(TEST_OBJ): $(BUILD)/grammar/mlp.tab.h $(BUILD)/grammar/lex.yy.h

# One section per function and object: predictors link with --gc-sections
# and keep only the runtime they reach.
$(BUILD)/runtime/%.o: runtime/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(BLAS_CFLAGS) $(CFLAGS) -O3 -ffunction-sections -fdata-sections -c -o $@ $<
$(BUILD)/runtime/data/sql.o $(BUILD)/tests/unit/check_sql.o $(BUILD)/tests/unit/check_contract.o: \
  CFLAGS += $(SQL_CFLAGS)
# The optimizer loops call sqrtf; only without errno does GCC vectorize them (5x).
$(BUILD)/runtime/kernels/optim/%.o: CFLAGS += -fno-math-errno

# Without the sanitizers, which have no AArch64 runtime here.
$(BUILD)/aarch64/libmlprt.a: $(CROSS_OBJ)
	@rm -f $@
	$(CROSS_AR) rcs $@ $^
$(BUILD)/aarch64/runtime/%.o: runtime/%.c
	@mkdir -p $(dir $@)
	$(CROSS_CC) $(CPPFLAGS) -std=c11 -O3 -g $(WARN) -fPIC -ffunction-sections -fdata-sections -c -o $@ $<

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -I$(BUILD)/grammar $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/suites.h: Makefile $(TEST_SRC)
	@mkdir -p $(dir $@)
	@printf '$(foreach s,$(SUITE_NAMES),MLP_SUITE($(s))\n)' > $@.tmp && mv $@.tmp $@
$(BUILD)/tests/unit/main.o: $(BUILD)/tests/suites.h

$(BUILD)/tests/check_all: $(TEST_OBJ) $(BUILD)/libmlpfront.a $(BUILD)/libmlprt.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LLVM_LIBS) $(RT_LIBS) $(CHECK_LIBS)

# The suite runs from the repository root; MLPC names the compiler under test.
# With the cross compiler present, the cross suite runs AArch64 predictors.
test-only: all $(BUILD)/tests/check_all $(if $(CROSS_FOUND),$(BUILD)/aarch64/libmlprt.a)
	MLPC=$(BUILD)/mlpc MLP_BUILD=$(BUILD) $(BUILD)/tests/check_all

test: deps
	@$(MAKE) --no-print-directory test-only

demo: deps
	@$(MAKE) --no-print-directory all
	sh scripts/demo.sh $(BUILD)/mlpc

asan: deps
	@$(MAKE) --no-print-directory BUILD=build/asan OPT=-O1 \
	  SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" test-only

# The runtime's suites under valgrind's memcheck (in one process, so that
# valgrind sees every test).
RT_SUITES := tensor layers loss init optim sched metrics csv json idx clean split predict quant text series linear
valgrind: all $(BUILD)/tests/check_all
	CK_FORK=no valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
	  $(BUILD)/tests/check_all $(RT_SUITES)

# Throughput of the dense and conv kernels next to raw sgemm (bench/README.md);
# not part of the test suite. Arguments: BENCH_ARGS="REPS THREADS...".
.PHONY: bench-kernels
bench-kernels: $(BUILD)/bench/kernels
	$(BUILD)/bench/kernels $(BENCH_ARGS)
$(BUILD)/bench/kernels: $(BUILD)/bench/kernels.o $(BUILD)/libmlprt.a
	$(CC) $(LDFLAGS) -o $@ $^ $(RT_LIBS)

FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang-19
fuzz: deps
	@$(MAKE) --no-print-directory fuzz-only
fuzz-only: $(BUILD)/grammar/mlp.tab.c $(BUILD)/grammar/lex.yy.c $(BUILD)/libmlprt.a
	@mkdir -p $(BUILD)/fuzz/corpus
	cp examples/*.mlp tests/diag/*.mlp $(BUILD)/fuzz/corpus/ 2>/dev/null || true
	$(FUZZ_CC) -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -D_POSIX_C_SOURCE=200809L \
	  -D_DEFAULT_SOURCE -DMLP_VERSION='"$(VERSION)"' -Iinclude $(COMPILER_INC) -I$(BUILD)/grammar -I. $(LLVM_CFLAGS) \
	  -o $(BUILD)/fuzz/fuzz_parse tests/fuzz/fuzz_parse.c $(FRONT_SRC) \
	  $(BUILD)/grammar/mlp.tab.c $(BUILD)/grammar/lex.yy.c $(BUILD)/libmlprt.a $(LLVM_LIBS) $(RT_LIBS)
	$(BUILD)/fuzz/fuzz_parse -max_total_time=$(FUZZ_SECONDS) -max_len=4096 $(BUILD)/fuzz/corpus

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/mlp \
	  $(DESTDIR)$(PREFIX)/share/mlp/stdlib
	install -m 755 $(BUILD)/mlpc $(DESTDIR)$(PREFIX)/bin/mlpc
	install -m 644 $(BUILD)/libmlprt.a $(DESTDIR)$(PREFIX)/lib/libmlprt.a
	$(if $(MPI_LIB),install -m 644 $(MPI_LIB) $(DESTDIR)$(PREFIX)/lib/libmlpmpi.a)
	install -m 644 include/mlp/*.h include/mlp/abi.def $(DESTDIR)$(PREFIX)/include/mlp/
	install -m 644 stdlib/*.mlp $(DESTDIR)$(PREFIX)/share/mlp/stdlib/
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	  $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions $(DESTDIR)$(PREFIX)/share/vim/vimfiles/syntax \
	  $(DESTDIR)$(PREFIX)/share/vim/vimfiles/ftdetect
	$(BUILD)/mlpc help --man > $(DESTDIR)$(PREFIX)/share/man/man1/mlpc.1
	$(BUILD)/mlpc help --man-spec > $(DESTDIR)$(PREFIX)/share/man/man5/mlpc-spec.5
	$(BUILD)/mlpc help --bash-completion > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/mlpc
	$(BUILD)/mlpc help --zsh-completion > $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_mlpc
	$(BUILD)/mlpc help --vim > $(DESTDIR)$(PREFIX)/share/vim/vimfiles/syntax/mlp.vim
	echo 'autocmd BufRead,BufNewFile *.mlp setfiletype mlp' > $(DESTDIR)$(PREFIX)/share/vim/vimfiles/ftdetect/mlp.vim
	install -d $(DESTDIR)$(PREFIX)/share/mlp/vscode/syntaxes
	$(BUILD)/mlpc help --textmate > $(DESTDIR)$(PREFIX)/share/mlp/vscode/syntaxes/mlp.tmLanguage.json
	printf '%s\n' '{"name": "mlp", "displayName": "mlpc pipeline specs", "version": "$(VERSION)",' \
	  '"publisher": "mlpc", "engines": {"vscode": "^1.0.0"}, "contributes": {' \
	  '"languages": [{"id": "mlp", "extensions": [".mlp"], "aliases": ["mlp"]}],' \
	  '"grammars": [{"language": "mlp", "scopeName": "source.mlp",' \
	  '"path": "./syntaxes/mlp.tmLanguage.json"}]}}' \
	  > $(DESTDIR)$(PREFIX)/share/mlp/vscode/package.json
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' 'includedir=$${prefix}/include' '' \
	  'Name: libmlprt' 'Description: the mlpc runtime that generated programs and embedded predictors link' \
	  'Version: $(VERSION)' 'Cflags: -I$${includedir}' 'Libs: -L$${libdir} -lmlprt' \
	  'Libs.private: $(RT_LIBS)' > $(DESTDIR)$(PREFIX)/lib/pkgconfig/libmlprt.pc

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
